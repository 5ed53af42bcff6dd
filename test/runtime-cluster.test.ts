import { describe, expect, test } from 'vitest';
import { writeLookupFrom } from '../check/order.js';
import { availableProtocols } from '../protocols/index.js';
import { expectNoOrphans, expectSafeRun, orderMonitor, runCluster, runtimeOptions } from './support/runtime.js';

describe('a 3-replica cluster on loopback, one OS process per replica', () => {
  for (const protocol of availableProtocols()) {
    test(`${protocol}: every command completes, per-key execution orders agree, the history is linearizable, no orphans`, async () => {
      const pids: number[] = [];
      const options = runtimeOptions({
        protocol,
        workload: { commandsPerClient: 40, conflictRate: 50, sharedKeys: 3, readRatio: 30 },
        extra: { onChild: (pid) => pids.push(pid) },
      });
      const run = await runCluster(options);
      expect(run.result.commandsCompleted).toBe(3 * 3 * 40);
      expect(run.pending).toEqual([]);
      expect(run.replicas.size).toBe(3);
      // Every replica executed every command on every key (one key per command here).
      for (const stats of run.replicas.values()) expect(stats.executed).toBe(3 * 3 * 40);
      const monitor = orderMonitor(run);
      const shared = monitor.keys().filter((k) => k.startsWith('s'));
      expect(shared.length).toBe(3);
      // Identical sequences on the shared keys, not only compatible ones. Slot and timestamp order
      // are total, so FPaxos and Tempo agree on reads too; the graph protocols order a read only
      // against writes (read/read pairs commute), so for them the writes must be identical.
      const isWrite = writeLookupFrom(run.result.history!.map((e) => e.command));
      const totalOrder = protocol === 'fpaxos' || protocol === 'tempo';
      const compared = (process: number, key: string) => monitor.sequence(process, key).filter((rifl) => totalOrder || isWrite(rifl, key));
      for (const key of shared) {
        const reference = compared(1, key);
        expect(reference.length).toBeGreaterThan(10);
        expect(compared(2, key)).toEqual(reference);
        expect(compared(3, key)).toEqual(reference);
      }
      expectSafeRun(run);
      expect(run.cpu.map((c) => c.name)).toEqual(['replica 1', 'replica 2', 'replica 3', 'client group 1']);
      expect(options.logs.filter((l) => /refused|fatal/.test(l))).toEqual([]);
      expectNoOrphans(pids);
      expect([...run.childPids].sort()).toEqual([...pids].sort());
    });
  }
});

describe('open-loop clients', () => {
  test('issue at the given rate whatever the replies, and every command still completes', async () => {
    const pids: number[] = [];
    const options = runtimeOptions({
      protocol: 'tempo',
      workload: { commandsPerClient: 100_000, conflictRate: 20, sharedKeys: 2 },
      extra: { openLoopRate: 100, durationMs: 800, onChild: (pid) => pids.push(pid) },
    });
    const run = await runCluster(options);
    // 9 clients × 100/s × 0.8 s = 720 commands; timers may slip a little on a loaded machine.
    expect(run.result.commandsSubmitted).toBeGreaterThan(600);
    expect(run.result.commandsSubmitted).toBeLessThanOrEqual(9 * 81);
    expect(run.pending).toEqual([]);
    expect(run.result.commandsCompleted).toBe(run.result.commandsSubmitted);
    expect(run.result.history!.length).toBe(run.result.commandsCompleted);
    expectSafeRun(run);
    expectNoOrphans(pids);
  });
});
