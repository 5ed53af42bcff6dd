/**
 * Atlas recovery (PROTOCOLS.md §7.1, §7.3), driven by hand, n=5 f=2: p1's fast quorum is {1,2,3,4}
 * (threshold 2), its write quorum {1,2,3}; recovery needs n−f = 3 promises. Each scenario crashes the
 * coordinator at a chosen point and checks the recovered value against the rule and that every live
 * process commits the same one.
 */
import { describe, expect, test } from 'vitest';
import { makeCommand } from '../core/command.js';
import { makeConfig } from '../core/config.js';
import { makeDot, makeRifl, type Dot } from '../core/ids.js';
import { AtlasProcess } from '../protocols/atlas/atlas.js';
import type { AtlasMessage, MCollect } from '../protocols/atlas/messages.js';
import type { GraphInfo } from '../protocols/common/graph-executor.js';
import { RECOVERY_TIMER } from '../protocols/common/recovery.js';
import { HandCluster } from './support/hand-cluster.js';

const TIMEOUT_MS = 1000;
const put = (client: number) => makeCommand(makeRifl(client, 1), [{ key: 'k', ops: [{ op: 'put', value: `v${client}` }] }]);
const d1 = makeDot(1, 1);

function atlas(): HandCluster<AtlasMessage, GraphInfo> {
  const config = makeConfig('atlas', { n: 5, f: 2, recoveryTimeoutMs: TIMEOUT_MS });
  return new HandCluster<AtlasMessage, GraphInfo>(5, (id) => new AtlasProcess(id, config));
}

/** A conflicting command of p5 (dot (5, seq)) registered at the given processes only. */
function registerAt(cluster: HandCluster<AtlasMessage, GraphInfo>, seq: number, at: number[]): Dot {
  const dot = makeDot(5, seq);
  const collect: MCollect = { type: 'MCollect', dot, cmd: put(50 + seq), deps: [], quorum: [5, 1, 2, 3] };
  for (const id of at) {
    cluster.p(id).handle(5, collect, 0);
    cluster.p(id).drain();
  }
  return dot;
}

/** The deps each live process committed for d1. */
function committed(cluster: HandCluster<AtlasMessage, GraphInfo>, ids: number[]): Map<number, readonly Dot[] | undefined> {
  return new Map(ids.map((id) => [id, cluster.executed.get(id)!.find((info) => info.dot === d1)?.deps]));
}

describe('Atlas recovery, n=5 f=2', () => {
  test('the coordinator crashes after its MCollect reached one member: recovery unions every promise (the fast path was impossible)', () => {
    const cluster = atlas();
    const b = registerAt(cluster, 1, [3]);
    cluster.p(1).submit(put(1), 0);
    cluster.collect(1);
    cluster.deliver((s) => s.msg.type === 'MCollect' && s.to === 2);
    cluster.drop(() => true); // the other MCollects, and p2's report to p1
    cluster.crash(1);
    // p2 holds the payload: after the timeout plus its stagger (rank 1 after p1) it recovers.
    cluster.tick([2], RECOVERY_TIMER, TIMEOUT_MS + TIMEOUT_MS / 5 - 1);
    expect(cluster.wire).toEqual([]);
    cluster.tick([2], RECOVERY_TIMER, TIMEOUT_MS + TIMEOUT_MS / 5);
    expect(cluster.wire.filter((s) => s.msg.type === 'MRec').map((s) => s.to)).toEqual([1, 2, 3, 4, 5]);
    cluster.deliver(() => true);
    // p3 promised in START (RECOVER_R) and registered then: its dependency on b counts.
    expect(committed(cluster, [2, 3, 4, 5])).toEqual(new Map([2, 3, 4, 5].map((id) => [id, [b]])));
    expect(cluster.p(2).metrics().recovered).toBe(1);
  });

  test('fast path decided, MCommit reached only p2, coordinator crashed: promises without p2 rebuild the same dependencies', () => {
    const cluster = atlas();
    const b = registerAt(cluster, 1, [2, 3]); // reported by f = 2 members: fast path
    cluster.p(1).submit(put(1), 0);
    cluster.collect(1);
    cluster.deliver((s) => s.msg.type === 'MCollect' || s.msg.type === 'MCollectAck');
    expect(cluster.executed.get(1)!.map((info) => info.deps)).toEqual([[b]]);
    expect(cluster.p(1).metrics().fastPath).toBe(1);
    cluster.deliver((s) => s.msg.type === 'MCommit' && s.to === 2);
    cluster.drop((s) => s.msg.type === 'MCommit');
    cluster.crash(1);
    // p4 recovers; p2's promise (or its help) is lost: R = {3, 4, 5}, p3 and p4 RECOVER_P, p5 outside Q0.
    cluster.tick([4], RECOVERY_TIMER, 10 * TIMEOUT_MS);
    cluster.drop((s) => s.msg.type === 'MRec' && s.to === 2);
    cluster.deliver((s) => s.msg.type === 'MRec' || s.msg.type === 'MRecAck');
    // Case 3: the union over R ∩ Q0 = {3, 4}: p3 reported b, p4 nothing; exactly the fast-path value.
    const consensus = cluster.wire.find((s) => s.msg.type === 'MConsensus')!.msg;
    expect(consensus).toMatchObject({ value: { isNoop: false, deps: [b] } });
    cluster.deliver(() => true);
    // p2 (committed) answered the MConsensus with the commit, so p4 learnt it without deciding; p3 and
    // p5 still wait: their own timeouts make them recover, and committed processes help them.
    cluster.tick([2, 3, 4, 5], RECOVERY_TIMER, 20 * TIMEOUT_MS);
    cluster.deliver(() => true);
    expect(committed(cluster, [2, 3, 4, 5])).toEqual(new Map([2, 3, 4, 5].map((id) => [id, [b]])));
  });

  test('a slow-path value accepted by one acceptor only is what recovery commits (highest abal)', () => {
    const cluster = atlas();
    const b = registerAt(cluster, 1, [2]);
    const c = registerAt(cluster, 2, [3]);
    cluster.p(1).submit(put(1), 0);
    cluster.collect(1);
    cluster.deliver((s) => s.msg.type === 'MCollect' || s.msg.type === 'MCollectAck');
    // b and c were reported once each (< f = 2): slow path with the union [b, c] to {1, 2, 3}.
    expect(cluster.p(1).metrics().slowPath).toBe(1);
    cluster.deliver((s) => s.msg.type === 'MConsensus' && s.to === 2);
    cluster.drop((s) => s.msg.type !== 'MConsensusAck' || s.to !== 1);
    cluster.crash(1);
    // p4 recovers with promises from {2, 4, 5}: p2 accepted [b, c] at ballot 1. Without case 1 the
    // union over R ∩ Q0 = {2, 4} would be [b] only.
    cluster.tick([4], RECOVERY_TIMER, 10 * TIMEOUT_MS);
    cluster.drop((s) => s.msg.type === 'MRec' && s.to === 3);
    cluster.deliver((s) => s.msg.type === 'MRec' || s.msg.type === 'MRecAck');
    expect(cluster.wire.find((s) => s.msg.type === 'MConsensus')!.msg).toMatchObject({ value: { deps: [b, c] } });
    cluster.deliver(() => true);
    expect(committed(cluster, [2, 3, 4, 5])).toEqual(new Map([2, 3, 4, 5].map((id) => [id, [b, c]])));
  });

  test('a dependency whose payload no live process has is recovered as a no-op', () => {
    const cluster = atlas();
    // p5's command x reached nobody; p2 commits a command depending on it (as if p5 had reported it).
    const x = makeDot(5, 9);
    cluster.p(2).handle(3, { type: 'MCommit', dot: d1, value: { isNoop: false, deps: [x] }, cmd: put(1) }, 0);
    cluster.collect(2);
    cluster.crash(5);
    cluster.tick([2], RECOVERY_TIMER, 10 * TIMEOUT_MS);
    expect(cluster.wire.find((s) => s.msg.type === 'MRec')!.msg).toMatchObject({ dot: x, payload: null });
    cluster.deliver(() => true);
    for (const id of [1, 2, 3, 4]) expect(cluster.executed.get(id)!.find((info) => info.dot === x)).toEqual({ dot: x, cmd: null, deps: [], seq: 0 });
  });
});
