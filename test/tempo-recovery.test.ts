/**
 * Tempo recovery (PROTOCOLS.md §7.4) by hand, n=5 f=2 (p1's fast quorum {1,2,3,4}, threshold 2,
 * recovery n−f = 3), and the stability-soundness monitor the check runner applies to Tempo cases.
 */
import { describe, expect, test } from 'vitest';
import { TempoStabilityMonitor } from '../check/tempo-stability.js';
import { makeConfig } from '../core/config.js';
import { makeDot } from '../core/ids.js';
import { RECOVERY_TIMER } from '../protocols/common/recovery.js';
import type { Committed, TempoInfo, TempoMessage } from '../protocols/tempo/messages.js';
import { TempoProcess } from '../protocols/tempo/tempo.js';
import { HandCluster } from './support/hand-cluster.js';
import { putCommand } from './tempo-harness.js';

const TIMEOUT_MS = 1000;
const d1 = makeDot(1, 1);

function tempoCluster(): HandCluster<TempoMessage, TempoInfo> {
  const config = makeConfig('tempo', { n: 5, f: 2, recoveryTimeoutMs: TIMEOUT_MS });
  return new HandCluster<TempoMessage, TempoInfo>(5, (id) => new TempoProcess(id, config));
}

function clocks(cluster: HandCluster<TempoMessage, TempoInfo>, ids: number[]): Map<number, number | undefined> {
  return new Map(ids.map((id) => [id, (cluster.executed.get(id)!.find((info) => info.type === 'Committed' && info.dot === d1) as Committed | undefined)?.clock]));
}

describe('Tempo recovery, n=5 f=2', () => {
  test('the coordinator crashes after its MCollect reached one member: the highest proposal of all promises, every promiser\'s votes', () => {
    const cluster = tempoCluster();
    // p3 is ahead on x (clock 7): its recovery proposal will be 8.
    for (let seq = 1; seq <= 7; seq++) cluster.p(3).submit(putCommand(100 + seq, 'x'), 0);
    cluster.p(3).drain();
    cluster.p(1).submit(putCommand(1, 'x'), 0);
    cluster.collect(1);
    cluster.deliver((s) => s.msg.type === 'MCollect' && s.to === 2);
    cluster.drop(() => true);
    cluster.crash(1);
    cluster.tick([2], RECOVERY_TIMER, 2 * TIMEOUT_MS);
    cluster.drop((s) => s.msg.type === 'MRec' && s.to === 5); // R = {2, 3, 4}
    cluster.deliver((s) => s.msg.type === 'MRec' || s.msg.type === 'MRecAck');
    // p3 and p4 were RECOVER_R (in Q0, never proposed): case 2, max over R = p3's 8.
    expect(cluster.wire.find((s) => s.msg.type === 'MConsensus')!.msg).toMatchObject({ clock: 8 });
    cluster.deliver(() => true);
    expect(clocks(cluster, [2, 3, 4, 5])).toEqual(new Map([2, 3, 4, 5].map((id) => [id, 8])));
    const commit = cluster.executed.get(5)!.find((info) => info.type === 'Committed' && info.dot === d1) as Committed;
    expect([...new Set(commit.votes.map((vote) => vote.by))].sort()).toEqual([2, 3, 4]);
  });

  test('fast path decided, MCommit reached only p2, coordinator crashed: promises without p2 rebuild the timestamp', () => {
    const cluster = tempoCluster();
    // p2 and p3 are at 4 on x, p4 at 0: proposals 5, 5, 1 and p1's 1 → 5 made by f = 2 members: fast path.
    for (const id of [2, 3]) {
      for (let seq = 1; seq <= 4; seq++) cluster.p(id).submit(putCommand(10 * id + seq, 'x'), 0);
      cluster.p(id).drain();
    }
    cluster.p(1).submit(putCommand(1, 'x'), 0);
    cluster.collect(1);
    cluster.deliver((s) => s.msg.type === 'MCollect' || s.msg.type === 'MCollectAck');
    expect(cluster.p(1).metrics().fastPath).toBe(1);
    cluster.deliver((s) => s.msg.type === 'MCommit' && s.to === 2);
    cluster.drop(() => true);
    cluster.crash(1);
    cluster.tick([4], RECOVERY_TIMER, 10 * TIMEOUT_MS);
    cluster.drop((s) => s.msg.type === 'MRec' && s.to === 2); // R = {3, 4, 5}: case 3 over {3, 4}
    cluster.deliver((s) => s.msg.type === 'MRec' || s.msg.type === 'MRecAck');
    expect(cluster.wire.find((s) => s.msg.type === 'MConsensus')!.msg).toMatchObject({ clock: 5 });
    cluster.deliver(() => true);
    cluster.tick([2, 3, 4, 5], RECOVERY_TIMER, 30 * TIMEOUT_MS);
    cluster.deliver(() => true);
    expect(clocks(cluster, [2, 3, 4, 5])).toEqual(new Map([2, 3, 4, 5].map((id) => [id, 5])));
  });
});

describe('stability soundness monitor', () => {
  const committed = (dot: number, clock: number, votes: Committed['votes']): Committed => ({ type: 'Committed', key: 'x', dot, clock, rifl: dot, ops: [], keys: ['x'], votes });
  const majorityUpTo3 = [{ key: 'x', by: 1, start: 1, end: 3 }, { key: 'x', by: 2, start: 1, end: 3 }];

  test('a commit at or below a timestamp already stable at that process is reported', () => {
    const monitor = new TempoStabilityMonitor(3);
    monitor.onInfo(1, committed(makeDot(1, 1), 3, majorityUpTo3));
    monitor.onInfo(1, committed(makeDot(2, 1), 2, []));
    expect(monitor.violations()).toEqual(['process 1 key x: (2,1) committed at 2 after 3 was stable there (stability soundness)']);
  });

  test('a commit elsewhere below what a process declared stable without committing it is reported', () => {
    const monitor = new TempoStabilityMonitor(3);
    monitor.onInfo(1, committed(makeDot(1, 1), 3, majorityUpTo3));
    monitor.onInfo(2, committed(makeDot(2, 1), 2, []));
    expect(monitor.violations()).toContain('process 1 key x: timestamp 3 is stable but (2,1) at 2 never committed there (stability soundness)');
  });

  test('commits above the stable timestamp are fine', () => {
    const monitor = new TempoStabilityMonitor(3);
    monitor.onInfo(1, committed(makeDot(1, 1), 3, majorityUpTo3));
    monitor.onInfo(1, committed(makeDot(2, 1), 4, []));
    monitor.onInfo(2, committed(makeDot(1, 1), 3, majorityUpTo3));
    monitor.onInfo(2, committed(makeDot(2, 1), 4, []));
    expect(monitor.violations()).toEqual([]);
  });
});
