/**
 * The stuck-command scenario across Tempo, Atlas and EPaxos (issue 4, item 4).
 *
 * The issue expected Tempo to keep executing what is stable while the graph executors block behind
 * the held command's dependency chain. With the scenario's contended multi-key workload that is not
 * what happens (docs/stuck-command.md explains why): in all three protocols the wait spreads from the
 * held command's keys to every key within a few hundred milliseconds, and execution stops at every
 * process until the commit arrives. This test asserts what does hold, on several seeds, so that a
 * change in either direction (a protocol that keeps going, or one that stops blocking) shows up.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { runStuckCommand, type StuckCommandFigures } from '../sim/scenarios/stuck-command.js';
import { tempo } from '../protocols/tempo/index.js';
import { atlas } from '../protocols/atlas/index.js';
import { epaxos } from '../protocols/epaxos/index.js';

const SEEDS = [1, 2, 3];
const PROTOCOLS = [tempo, atlas, epaxos];

describe('stuck-command scenario, Tempo vs Atlas vs EPaxos', () => {
  const figures = new Map<string, StuckCommandFigures>();
  beforeAll(() => {
    for (const protocol of PROTOCOLS) {
      for (const seed of SEEDS) figures.set(`${protocol.name}/${seed}`, runStuckCommand({ protocol, seed }));
    }
  });

  test('every protocol holds the same command, orders consistently, and runs it everywhere only after the hold', () => {
    for (const seed of SEEDS) {
      const keys = PROTOCOLS.map((protocol) => figures.get(`${protocol.name}/${seed}`)!.heldKeys.join(','));
      expect(new Set(keys).size).toBe(1);
      for (const protocol of PROTOCOLS) {
        const run = figures.get(`${protocol.name}/${seed}`)!;
        expect(run.orderViolations).toEqual([]);
        expect(run.heldLatencyMs).toBeGreaterThanOrEqual(run.heldLatencyMsBaseline + run.holdMs - 1);
        for (const p of run.processes) expect(p.heldExecutedAtMs).toBeGreaterThanOrEqual(p.windowEndMs - 1);
      }
    }
  });

  test('under contention every protocol stalls everywhere while the command is held, Tempo included', () => {
    for (const protocol of PROTOCOLS) {
      for (const seed of SEEDS) {
        const run = figures.get(`${protocol.name}/${seed}`)!;
        const others = run.processes.filter((p) => p.process !== run.heldProcess);
        const sum = (field: (p: (typeof others)[number]) => number) => others.reduce((total, p) => total + field(p), 0);
        const executed = sum((p) => p.executedOnHeldKeysDuringHold + p.executedOnOtherKeysDuringHold);
        const baseline = sum((p) => p.baselineOnHeldKeysDuringHold + p.baselineOnOtherKeysDuringHold);
        // Without the hold the same windows are busy; with it, at most a trickle runs over processes
        // 2–5 (Atlas a burst at one process as its window opens, Tempo and EPaxos nothing on these seeds).
        expect(baseline, `${protocol.name} seed ${seed}`).toBeGreaterThan(200);
        expect(executed, `${protocol.name} seed ${seed}`).toBeLessThanOrEqual(0.15 * baseline);
        // The replies stop too, at the coordinators of every other command.
        expect(run.completedDuringHold, `${protocol.name} seed ${seed}`).toBeLessThanOrEqual(0.15 * run.completedDuringHoldBaseline);
      }
    }
  });

  test('before the wait spreads, commands concurrent with the held one still run ahead of it in every protocol', () => {
    for (const protocol of PROTOCOLS) {
      for (const seed of SEEDS) {
        const run = figures.get(`${protocol.name}/${seed}`)!;
        for (const p of run.processes.filter((p) => p.process !== run.heldProcess)) {
          expect(p.concurrentExecutedBeforeHeld, `${protocol.name} seed ${seed} process ${p.process}`).toBeGreaterThan(0);
          expect(p.concurrentExecutedBeforeHeld).toBeLessThan(run.concurrent);
        }
      }
    }
  });
});
