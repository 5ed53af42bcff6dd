import { describe, expect, test } from 'vitest';
import { exactlyOnceViolations } from '../check/exactly-once.js';
import { historyFromSimulation, type History } from '../check/history.js';
import { ExecutionOrderMonitor } from '../check/order.js';
import { realTimeOrderViolations } from '../check/realtime.js';
import { makeRifl, type ProcessId, type Rifl } from '../core/ids.js';
import { runMonitored, simulationOptions } from './support/simulate.js';
import { r, w } from './support/histories.js';

/** A monitor fed by hand: process → rifls executed on key x, in order. */
function monitorOf(byProcess: Record<number, Rifl[]>, key = 'x'): ExecutionOrderMonitor {
  const monitor = new ExecutionOrderMonitor();
  for (const [process, rifls] of Object.entries(byProcess)) for (const rifl of rifls) monitor.onExecuted(Number(process), rifl, key);
  return monitor;
}

const A = makeRifl(1, 1);
const B = makeRifl(2, 1);
const C = makeRifl(3, 1);

describe('real-time order (PROTOCOLS.md §8.5)', () => {
  // a: put, completes at 10; b: put, invoked at 20 (after a); c: get, concurrent with both.
  const history: History = [w(1, 1, 0, 10, 'a'), w(2, 1, 20, 30, 'b'), r(3, 1, 0, 40, 'a')];

  test('every process executing a before b passes, whatever it does with the concurrent read', () => {
    const monitor = monitorOf({ 1: [A, C, B], 2: [C, A, B], 3: [A, B, C] });
    expect(realTimeOrderViolations(history, monitor, [1, 2, 3])).toEqual([]);
  });

  test('a process executing b before a is caught, naming both and the times', () => {
    const monitor = monitorOf({ 1: [A, B], 2: [B, A] });
    expect(realTimeOrderViolations(history, monitor, [1, 2])).toEqual([
      'key x: process 2 executed 2.1 before 1.1, though 1.1 completed (at 10 ms) before 2.1 was invoked (at 20 ms) and they conflict (real-time order)',
    ]);
  });

  test('a process that executed b but never a is caught too', () => {
    const monitor = monitorOf({ 1: [B] });
    expect(realTimeOrderViolations(history, monitor, [1])).toEqual([expect.stringMatching(/process 1 executed 2\.1 but never 1\.1/)]);
  });

  test('a process that has not executed b yet is not blamed for a', () => {
    expect(realTimeOrderViolations(history, monitorOf({ 1: [A] }), [1])).toEqual([]);
  });

  test('two reads in either order do not conflict, even when one completed before the other began', () => {
    const reads: History = [r(1, 1, 0, 10, null), r(2, 1, 20, 30, null)];
    expect(realTimeOrderViolations(reads, monitorOf({ 1: [B, A] }), [1])).toEqual([]);
    // A read that completed before a write was invoked conflicts with it.
    const readThenWrite: History = [r(1, 1, 0, 10, null), w(2, 1, 20, 30, 'b')];
    expect(realTimeOrderViolations(readThenWrite, monitorOf({ 1: [B, A] }), [1])).toHaveLength(1);
  });

  test("one client's next command at the instant of its reply must follow it", () => {
    const sameClient: History = [w(1, 1, 0, 10, 'a'), w(1, 2, 10, 20, 'b')];
    expect(realTimeOrderViolations(sameClient, monitorOf({ 1: [makeRifl(1, 2), A] }), [1])).toHaveLength(1);
    const otherClient: History = [w(1, 1, 0, 10, 'a'), w(2, 1, 10, 20, 'b')];
    expect(realTimeOrderViolations(otherClient, monitorOf({ 1: [B, A] }), [1])).toEqual([]);
  });
});

describe('exactly-once execution', () => {
  const history: History = [w(1, 1, 0, 10, 'a'), w(2, 1, 20, 30, 'b')];

  test('every command once at every caught-up process passes', () => {
    const monitor = monitorOf({ 1: [A, B], 2: [A, B] });
    expect(exactlyOnceViolations(history, monitor, { caughtUp: [1, 2], processes: [1, 2], historyHasEverySubmission: true })).toEqual([]);
  });

  test('a duplicate is reported through the order monitor', () => {
    const monitor = monitorOf({ 1: [A, B, A] });
    expect(exactlyOnceViolations(history, monitor, { caughtUp: [1], processes: [1] })).toEqual(['key x: process 1 executed 1.1 twice']);
  });

  test('a completed command missing at a caught-up process is reported; a lagging process is not asked', () => {
    const monitor = monitorOf({ 1: [A, B], 2: [A] });
    expect(exactlyOnceViolations(history, monitor, { caughtUp: [1, 2], processes: [1, 2] })).toEqual([
      'key x: process 2 caught up but never executed 2.1, which completed at 30 ms',
    ]);
    expect(exactlyOnceViolations(history, monitor, { caughtUp: [1], processes: [1, 2] })).toEqual([]);
  });

  test('a rifl no client submitted is reported when the history lists every submission', () => {
    const monitor = monitorOf({ 1: [A, B, C] });
    const options = { caughtUp: [1], processes: [1] };
    expect(exactlyOnceViolations(history, monitor, { ...options, historyHasEverySubmission: true })).toEqual(['key x: process 1 executed 3.1, which no client submitted']);
    expect(exactlyOnceViolations(history, monitor, options)).toEqual([]);
  });
});

describe('a simulated FPaxos run passes real-time order and exactly-once', () => {
  const run = runMonitored(
    simulationOptions({
      protocol: 'fpaxos',
      regions: ['us-east1', 'europe-west2', 'asia-southeast1'],
      workload: { conflictRate: 60, sharedKeys: 2, readRatio: 40, commandsPerClient: 25 },
      seed: 5,
    }),
  );
  const history = historyFromSimulation(run.result.history!);
  const processes: ProcessId[] = [1, 2, 3];

  test('no violations', () => {
    expect(run.result.processesCaughtUp).toBe(3);
    expect(realTimeOrderViolations(history, run.monitor, processes)).toEqual([]);
    expect(exactlyOnceViolations(history, run.monitor, { caughtUp: processes, processes, historyHasEverySubmission: true })).toEqual([]);
  });

  test('a fake process that swaps two real-time-ordered writes on a shared key is caught', () => {
    const key = 's0';
    const sequence = run.monitor.sequence(1, key);
    const byRifl = new Map(history.map((o) => [o.rifl, o]));
    // Find consecutive writes i, j in process 1's order where i completed before j was invoked.
    let swapAt = -1;
    for (let i = 0; i + 1 < sequence.length && swapAt < 0; i++) {
      const first = byRifl.get(sequence[i]!)!;
      const second = byRifl.get(sequence[i + 1]!)!;
      const writes = [first, second].every((o) => o.keys.find((k) => k.key === key)!.ops.some((op) => op.op !== 'get'));
      if (writes && first.completeMs! < second.invokeMs) swapAt = i;
    }
    expect(swapAt).toBeGreaterThanOrEqual(0);
    const swapped = [...sequence];
    [swapped[swapAt], swapped[swapAt + 1]] = [swapped[swapAt + 1]!, swapped[swapAt]!];
    const withFake = { sequence: (process: ProcessId, k: string) => (process === 9 && k === key ? swapped : run.monitor.sequence(process, k)) };
    expect(realTimeOrderViolations(history, withFake, [...processes, 9])).toEqual([expect.stringMatching(/^key s0: process 9 executed/)]);
  });
});
