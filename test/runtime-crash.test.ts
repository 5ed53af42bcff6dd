import { describe, expect, test } from 'vitest';
import { exactlyOnceViolations } from '../check/exactly-once.js';
import { historyFromSimulation } from '../check/history.js';
import { realTimeOrderViolations } from '../check/realtime.js';
import { FailureDetector } from '../runtime/failure-detector.js';
import { expectNoOrphans, expectSafeRun, orderMonitor, runCluster, runtimeOptions } from './support/runtime.js';

describe('failure detector: heartbeats with growing timeouts', () => {
  test('suspects a silent peer once its timeout passes, withdraws a wrong suspicion and doubles that timeout', () => {
    const detector = new FailureDetector([2, 3], 0, { heartbeatMs: 10, timeoutMs: 100, timeoutMsMax: 350 });
    expect(detector.check(100)).toEqual([]);
    detector.heard(2, 90);
    expect(detector.check(101)).toEqual([{ kind: 'suspect', process: 3, atMs: 101, timeoutMs: 100 }]);
    expect(detector.check(150)).toEqual([]); // no repeated events
    expect(detector.heard(3, 160)).toEqual({ kind: 'unsuspect', process: 3, atMs: 160, timeoutMs: 200 });
    expect(detector.check(359)).toEqual([{ kind: 'suspect', process: 2, atMs: 359, timeoutMs: 100 }]);
    expect(detector.check(360)).toEqual([]); // 3 was heard at 160 and now waits 200
    expect(detector.check(361)).toEqual([{ kind: 'suspect', process: 3, atMs: 361, timeoutMs: 200 }]);
    detector.heard(3, 400);
    expect(detector.timeoutMs(3)).toBe(350); // capped at timeoutMsMax
    expect(detector.suspected(3)).toBe(false);
    expect(detector.suspected(2)).toBe(true);
  });

  test('eventually perfect: a peer that keeps answering, however late, stops being suspected', () => {
    const detector = new FailureDetector([2], 0, { heartbeatMs: 10, timeoutMs: 10, timeoutMsMax: 10_000 });
    let suspicions = 0;
    // The peer is heard every 150 ms: wrong suspicions until the timeout has doubled past 150.
    for (let now = 0; now <= 3000; now += 5) {
      if (now % 150 === 0) detector.heard(2, now);
      suspicions += detector.check(now).length;
    }
    expect(suspicions).toBe(4); // timeouts 10, 20, 40, 80 expire; 160 never does
    expect(detector.timeoutMs(2)).toBe(160);
  });
});

describe('kill -9 of replicas under load', () => {
  test('FPaxos n=5 f=2: two replicas outside the write quorum die; clients fail over, nothing acknowledged is lost, the history checks out', async () => {
    const pids: number[] = [];
    const options = runtimeOptions({
      protocol: 'fpaxos',
      n: 5,
      config: { f: 2 },
      clientsPerRegion: 2,
      workload: { commandsPerClient: 120, conflictRate: 50, sharedKeys: 3, readRatio: 30 },
      extra: {
        onChild: (pid) => pids.push(pid),
        // The leader (1) and its write quorum {1, 2, 3} survive; 4 and 5 only learn and serve clients.
        crashes: [
          { process: 4, afterMs: 100 },
          { process: 5, afterMs: 200 },
        ],
        failureDetector: { heartbeatMs: 20, timeoutMs: 200, timeoutMsMax: 5000 },
        clientTimeoutMs: 1000,
      },
    });
    const run = await runCluster(options);
    expect(run.crashed).toEqual([4, 5]);
    expect([...run.replicas.keys()].sort()).toEqual([1, 2, 3]);
    // Every client finished: the clients of 4 and 5 re-submitted to live replicas.
    expect(run.pending).toEqual([]);
    expect(run.result.commandsCompleted).toBe(5 * 2 * 120);
    // The crashes happened under load, not after it: the run went on well past them.
    expect(run.wallMs).toBeGreaterThan(400);
    expect(run.retries).toBeGreaterThan(0);
    expect(options.logs.some((l) => /lost the connection to process 4/.test(l))).toBe(true);
    // The survivors' failure detectors suspect the dead (and only them, for good).
    for (const stats of run.replicas.values()) {
      const suspected = new Set<number>();
      for (const event of stats.suspicions) event.kind === 'suspect' ? suspected.add(event.process) : suspected.delete(event.process);
      expect([...suspected].sort()).toEqual([4, 5]);
    }
    // Every acknowledged command ran exactly once at every survivor; orders agree; linearizable; real time kept.
    const history = historyFromSimulation(run.result.history!);
    const monitor = orderMonitor(run);
    expect(exactlyOnceViolations(history, monitor, { caughtUp: [1, 2, 3], processes: [1, 2, 3], historyHasEverySubmission: true })).toEqual([]);
    expect(realTimeOrderViolations(history, monitor, [1, 2, 3])).toEqual([]);
    expectSafeRun(run);
    expectNoOrphans(pids);
  });
});
