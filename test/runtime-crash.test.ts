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
        // Open loop: 120 commands at 200/s per client, so the crashes land mid-run on any machine.
        openLoopRate: 200,
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

/**
 * Kill -9 of f replicas the others need: process 1 with n=3, f=1, and processes 1 and 2 with n=5,
 * f=2. Process 1 is FPaxos's leader; for the leaderless protocols the victims are in every other
 * coordinator's fast quorum (on loopback distances are equal and sort by id). The survivors must
 * recover (leader change, per-dot recovery) with a short recoveryTimeoutMs (100 ms; it reaches the
 * replicas in the config), clients of the dead replicas re-submit elsewhere, the recovery messages
 * pass the peers' schemas (no refused frame), and the history must check out.
 */
describe('kill -9 of f replicas the others depend on, under load', () => {
  const protocols = [
    { protocol: 'fpaxos', recovery: ['MPrepare', 'MPromise'] },
    { protocol: 'tempo', recovery: ['MRec', 'MRecAck'] },
    { protocol: 'atlas', recovery: ['MRec', 'MRecAck'] },
    { protocol: 'epaxos', recovery: ['MPrepare', 'MPrepareOk'] },
  ] as const;
  const sizes = [
    { n: 3, f: 1, victims: [1] },
    { n: 5, f: 2, victims: [1, 2] },
  ] as const;
  for (const { n, f, victims } of sizes) {
    for (const { protocol, recovery } of protocols) {
      const survivors = Array.from({ length: n }, (_, i) => i + 1).filter((p) => !(victims as readonly number[]).includes(p));
      test(`${protocol} n=${n} f=${f}: ${victims.length === 1 ? `process ${victims[0]} dies` : `processes ${victims.join(' and ')} die`} mid-run; survivors recover (${recovery.join(', ')}), every client finishes, nothing acknowledged is lost, the history checks out`, async () => {
        const pids: number[] = [];
        // Open loop at a fixed rate, so the kills land mid-run however fast the machine is: issuing
        // lasts 800 ms, the kills come at 250 and 300 ms. Kept short because after a kill the
        // leaderless protocols still put the dead in their fast quorums (they ignore the host's
        // suspicions): every later command waits a recovery timeout.
        const commandsPerClient = 80;
        const options = runtimeOptions({
          protocol,
          n,
          config: { f, recoveryTimeoutMs: 100 },
          clientsPerRegion: 2,
          workload: { commandsPerClient, conflictRate: 50, sharedKeys: 3, readRatio: 30 },
          extra: {
            onChild: (pid) => pids.push(pid),
            openLoopRate: 100,
            crashes: victims.map((process, i) => ({ process, afterMs: 250 + 50 * i })),
            failureDetector: { heartbeatMs: 20, timeoutMs: 200, timeoutMsMax: 5000 },
            clientTimeoutMs: 600,
            graceMs: 5000,
          },
        });
        const run = await runCluster(options);
        expect(run.crashed).toEqual(victims);
        expect([...run.replicas.keys()].sort()).toEqual(survivors);
        // Every client finished, those of the victims by going on with live replicas.
        expect(run.pending).toEqual([]);
        expect(run.result.commandsCompleted).toBe(n * 2 * commandsPerClient);
        // The kills happened under load: commands were acknowledged before the first and after the
        // last, and the clients the victims served before went on with other processes (a
        // re-submission too when one of their commands was outstanding at the kill).
        const firstKill = Math.min(...victims.map((v) => run.crashedAtMs.get(v)!));
        const lastKill = Math.max(...victims.map((v) => run.crashedAtMs.get(v)!));
        const history = run.result.history!;
        const before = history.filter((e) => e.completeMs < firstKill);
        const after = history.filter((e) => e.invokeMs > lastKill);
        expect(before.length).toBeGreaterThan(0);
        expect(after.length).toBeGreaterThan(0);
        const servedByVictims = new Set(before.filter((e) => (victims as readonly number[]).includes(e.process)).map((e) => e.client));
        expect(servedByVictims.size).toBeGreaterThan(0);
        expect(after.every((e) => survivors.includes(e.process))).toBe(true);
        expect(new Set(after.filter((e) => servedByVictims.has(e.client)).map((e) => e.client))).toEqual(servedByVictims);
        // The survivors recovered: their recovery messages went out and none was refused by a schema.
        for (const type of recovery) expect(run.result.messagesByType.get(type) ?? 0, type).toBeGreaterThan(0);
        for (const stats of run.replicas.values()) expect(stats.refusedFrames).toBe(0);
        // Every acknowledged command (those before the kills included) ran exactly once at every survivor.
        const executed = new Map<number, Set<number>>();
        for (const stats of run.replicas.values()) executed.set(stats.id, new Set((stats.executions ?? []).map(([rifl]) => rifl)));
        for (const entry of before) for (const survivor of survivors) expect(executed.get(survivor)!.has(entry.rifl), `rifl ${entry.rifl} at ${survivor}`).toBe(true);
        const monitor = orderMonitor(run);
        const checked = historyFromSimulation(history);
        expect(exactlyOnceViolations(checked, monitor, { caughtUp: survivors, processes: survivors, historyHasEverySubmission: true })).toEqual([]);
        expect(realTimeOrderViolations(checked, monitor, survivors)).toEqual([]);
        expectSafeRun(run);
        expectNoOrphans(pids);
      }, 20_000);
    }
  }
});
