import { describe, expect, test } from 'vitest';
import { atlas } from '../protocols/atlas/index.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { checkedRun } from './graph-helpers.js';

const CONFLICTS = [0, 2, 10, 50, 100];
/** `quorum` is EPaxos's fast quorum: the default 2F, or the paper's optimized F + ⌊(F+1)/2⌋. */
const CONFIGS = [
  { protocol: epaxos, n: 3, f: 1, quorum: 'simple' },
  { protocol: epaxos, n: 5, f: 1, quorum: 'simple' },
  { protocol: epaxos, n: 7, f: 1, quorum: 'simple' },
  { protocol: epaxos, n: 3, f: 1, quorum: 'optimized' },
  { protocol: epaxos, n: 5, f: 1, quorum: 'optimized' },
  { protocol: epaxos, n: 7, f: 1, quorum: 'optimized' },
  { protocol: atlas, n: 3, f: 1, quorum: 'simple' },
  { protocol: atlas, n: 5, f: 1, quorum: 'simple' },
  { protocol: atlas, n: 5, f: 2, quorum: 'simple' },
  { protocol: atlas, n: 7, f: 1, quorum: 'simple' },
  { protocol: atlas, n: 7, f: 2, quorum: 'simple' },
] as const;
const CLIENTS_PER_REGION = 2;
const COMMANDS_PER_CLIENT = 15;

describe.each(CONFIGS)('$protocol.name n=$n f=$f ($quorum fast quorum)', ({ protocol, n, f, quorum }) => {
  test.each(CONFLICTS.map((conflictRate, i) => ({ conflictRate, i })))('conflict $conflictRate%', ({ conflictRate, i }) => {
    // Vary the shape across cells: 2 keys per command, reads, jitter (reordering), JSON round-trips.
    const variant = (n + f + i) % 4;
    const run = checkedRun({
      protocol,
      n,
      f,
      clientsPerRegion: CLIENTS_PER_REGION,
      seed: `${protocol.name}-${n}-${f}-${conflictRate}`,
      ...(protocol === epaxos ? { epaxosFastQuorum: quorum } : {}),
      workload: {
        commandsPerClient: COMMANDS_PER_CLIENT,
        conflictRate,
        sharedKeys: 2,
        keysPerCommand: variant === 1 || variant === 3 ? 2 : 1,
        readRatio: variant >= 2 ? 40 : 0,
      },
      jitterPct: variant === 0 ? 0 : 30,
      strict: variant === 3,
    });
    const total = n * CLIENTS_PER_REGION * COMMANDS_PER_CLIENT;
    expect(run.result.commandsCompleted).toBe(total);
    expect(run.result.processesCaughtUp).toBe(n);
    for (let p = 1; p <= n; p++) expect(run.monitor.executedBy(p)).toBe(run.keyResultsExpected);
    expect(run.violations).toEqual([]);
    expect(run.disagreements).toEqual([]);
    expect(run.result.fastPaths + run.result.slowPaths).toBe(total);
    if (conflictRate === 0) expect(run.result.slowPaths).toBe(0);
    if (protocol === atlas && f === 1) expect(run.result.slowPaths).toBe(0);
    if (protocol === epaxos && n === 3) expect(run.result.slowPaths).toBe(0);
  });
});

describe('fast path', () => {
  test('EPaxos n=5 and Atlas n=5 f=2 do take the slow path under full conflict', () => {
    for (const [protocol, f] of [[epaxos, 1], [atlas, 2]] as const) {
      const run = checkedRun({ protocol, n: 5, f, clientsPerRegion: 4, seed: 7, workload: { commandsPerClient: 20, conflictRate: 100 } });
      expect(run.violations).toEqual([]);
      expect(run.result.slowPaths).toBeGreaterThan(0);
    }
  });

  test('Atlas f=1 and EPaxos n=3 stay on the fast path under full conflict with more clients', () => {
    for (const [protocol, n] of [[atlas, 5], [atlas, 7], [epaxos, 3]] as const) {
      const run = checkedRun({ protocol, n, f: 1, clientsPerRegion: 6, seed: 11, workload: { commandsPerClient: 20, conflictRate: 100, readRatio: 20 }, jitterPct: 50 });
      expect(run.violations).toEqual([]);
      expect(run.result.slowPaths).toBe(0);
      expect(run.result.fastPaths).toBe(n * 6 * 20);
    }
  });

  test('0% conflict: every command takes the fast path', () => {
    for (const [protocol, n, f] of [[epaxos, 5, 1], [epaxos, 7, 1], [atlas, 5, 2], [atlas, 7, 2]] as const) {
      const run = checkedRun({ protocol, n, f, clientsPerRegion: 5, seed: 3, workload: { commandsPerClient: 40, conflictRate: 0, keysPerCommand: 2 } });
      expect(run.result.slowPaths).toBe(0);
      expect(run.result.fastPaths).toBe(n * 5 * 40);
    }
  });
});

describe('garbage collection', () => {
  test('aggressive collection (every 1 ms) under conflicts, reads, two keys and jitter keeps the order', () => {
    for (const protocol of [epaxos, atlas]) {
      const run = checkedRun({
        protocol, n: 5, f: 2, clientsPerRegion: 4, seed: 'gc', gcIntervalMs: 1, jitterPct: 60,
        workload: { commandsPerClient: 30, conflictRate: 50, sharedKeys: 3, keysPerCommand: 2, readRatio: 40 },
      });
      expect(run.result.commandsCompleted).toBe(5 * 4 * 30);
      expect(run.violations).toEqual([]);
      expect(run.disagreements).toEqual([]);
    }
  });

  // Regression seeds: pruning the dependency index once a dot is merely *committed* everywhere (instead
  // of executed everywhere) breaks the execution order in each of these runs, because a committed
  // command can still wait for its own dependencies at a slow process while a newer conflicting command,
  // registered after the pruning, overtakes it there.
  test.each([
    { protocol: epaxos, f: 1, seed: 28 },
    { protocol: epaxos, f: 1, seed: 51 },
    { protocol: epaxos, f: 1, seed: 130 },
    { protocol: atlas, f: 2, seed: 47 },
  ])('pruning only executed-everywhere dots keeps the order ($protocol.name, seed $seed)', ({ protocol, f, seed }) => {
    const run = checkedRun({
      protocol, n: 5, f, clientsPerRegion: 3, seed, gcIntervalMs: 1, jitterPct: 200,
      workload: { commandsPerClient: 20, conflictRate: 60, sharedKeys: 3, keysPerCommand: 2, readRatio: 30 },
    });
    expect(run.result.commandsCompleted).toBe(5 * 3 * 20);
    expect(run.violations).toEqual([]);
    expect(run.disagreements).toEqual([]);
  });

  test('per-dot state and the dependency index stay bounded over a long run', () => {
    for (const protocol of [epaxos, atlas]) {
      const run = checkedRun({ protocol, n: 5, f: 1, clientsPerRegion: 4, seed: 'long', workload: { commandsPerClient: 150, conflictRate: 10 } });
      const total = 5 * 4 * 150;
      expect(run.result.commandsCompleted).toBe(total);
      for (const process of run.processes) {
        const held = process as unknown as { dotsHeld: number; indexSize: number };
        // Without collection every process would hold all 3000 dots; a few GC rounds' worth remain.
        expect(held.dotsHeld).toBeLessThan(total / 10);
        expect(held.indexSize).toBeLessThan(total / 10);
      }
    }
  });
});

describe('determinism', () => {
  test('the same seed gives the same run', () => {
    for (const protocol of [epaxos, atlas]) {
      const runs = [0, 1].map(() => checkedRun({ protocol, n: 5, f: 2, clientsPerRegion: 3, seed: 'same', workload: { commandsPerClient: 10, conflictRate: 30 }, jitterPct: 40 }));
      expect(runs[1]!.result.history).toEqual(runs[0]!.result.history);
      expect([...runs[1]!.result.messagesByType]).toEqual([...runs[0]!.result.messagesByType]);
      for (const key of runs[0]!.monitor.keys()) expect(runs[1]!.monitor.sequence(1, key)).toEqual(runs[0]!.monitor.sequence(1, key));
    }
  });
});
