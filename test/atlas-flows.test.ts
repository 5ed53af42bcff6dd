import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import { makeDot } from '../core/ids.js';
import { AtlasProcess, reportedEnough } from '../protocols/atlas/atlas.js';
import type { MCollect, MCollectAck, MCommit, MConsensus, MConsensusAck } from '../protocols/atlas/messages.js';
import { cluster, executes, onlySend, put } from './graph-flow-helpers.js';

const atlasCluster = (n: number, f: number) => cluster(n, (id) => new AtlasProcess(id, makeConfig('atlas', { n, f })));

/**
 * p1 submits (its own report is `past`, taken at once); the given other fast-quorum members report.
 * Returns their reports with their senders, in arrival order.
 */
function collectAtP1(processes: AtlasProcess[], members: number[]): { collect: MCollect; acks: { from: number; ack: MCollectAck }[] } {
  const p1 = processes[0]!;
  p1.submit(put(1), 0);
  const sent = onlySend<MCollect>(p1.drain(), 'MCollect');
  expect(sent.to).toEqual(processes.map((p) => p.id).filter((id) => id !== 1));
  const acks = members.map((id) => {
    const member = processes[id - 1]!;
    member.handle(1, sent.msg, 0);
    const ack = onlySend<MCollectAck>(member.drain(), 'MCollectAck');
    expect(ack.to).toEqual([1]);
    return { from: id, ack: ack.msg };
  });
  return { collect: sent.msg, acks };
}

/**
 * The coordinator's decision: it records the commit (hands the dot to its executor) before it tells
 * the others (PROTOCOLS.md §7.1), so the outputs are that execute, then MCommit to every other process.
 */
function decision(outputs: ReturnType<AtlasProcess['drain']>): { to: readonly number[]; msg: MCommit; executed: unknown } {
  expect(outputs.map((o) => o.kind)).toEqual(['execute', 'send']);
  const send = outputs[1] as { kind: 'send'; to: readonly number[]; msg: MCommit };
  expect(send.msg.type).toBe('MCommit');
  return { to: send.to, msg: send.msg, executed: (outputs[0] as { info: unknown }).info };
}

function deliverAcks(p1: AtlasProcess, acks: { from: number; ack: MCollectAck }[]): void {
  for (const { from, ack } of acks) p1.handle(from, ack, 0);
}

/** p5's command on the same key, registered at the given processes only. */
function otherCommandAt(processes: AtlasProcess[], at: number[]): number {
  const dot = makeDot(5, 1);
  const collect: MCollect = { type: 'MCollect', dot, cmd: put(5), deps: [], quorum: [5, 1, 2, 3] };
  for (const id of at) {
    processes[id - 1]!.handle(5, collect, 0);
    processes[id - 1]!.drain();
  }
  return dot;
}

describe('Atlas, n=5 f=2 (fast quorum 4 with the coordinator, threshold 2, slow quorum 3)', () => {
  test('fast path: the coordinator counts its own report and identical reports commit at once', () => {
    const processes = atlasCluster(5, 2);
    const { collect, acks } = collectAtP1(processes, [2, 3, 4]);
    expect(collect).toEqual({ type: 'MCollect', dot: makeDot(1, 1), cmd: put(1), deps: [], quorum: [1, 2, 3, 4] });
    const p1 = processes[0]!;
    p1.handle(1, collect, 0); // a self-delivered MCollect changes nothing
    expect(p1.drain()).toEqual([]);
    for (let i = 0; i < 2; i++) {
      p1.handle(acks[i]!.from, acks[i]!.ack, 0);
      expect(p1.drain()).toEqual([]);
    }
    p1.handle(4, acks[2]!.ack, 0);
    const commit = decision(p1.drain());
    expect(commit.to).toEqual([2, 3, 4, 5]);
    expect(commit.msg.value).toEqual({ isNoop: false, deps: [] });
    expect(p1.metrics()).toEqual({ fastPath: 1, slowPath: 0, recovered: 0 });
    const p5 = processes[4]!;
    p5.handle(1, collect, 0);
    expect(p5.drain()).toEqual([]); // outside the fast quorum: payload only
    p5.handle(1, commit.msg, 0);
    expect(executes(p5.drain())).toEqual([{ dot: collect.dot, cmd: put(1), deps: [], seq: 0 }]);
  });

  test('fast path: a dependency reported by f=2 members is enough', () => {
    const processes = atlasCluster(5, 2);
    const b = otherCommandAt(processes, [2, 3]);
    const { acks } = collectAtP1(processes, [2, 3, 4]);
    expect(acks.map((a) => a.ack.deps)).toEqual([[b], [b], []]);
    const p1 = processes[0]!;
    deliverAcks(p1, acks);
    expect(decision(p1.drain()).msg.value).toEqual({ isNoop: false, deps: [b] });
    expect(p1.metrics()).toEqual({ fastPath: 1, slowPath: 0, recovered: 0 });
  });

  test('slow path: a dependency reported once goes through Flexible Paxos with f+1 acceptors', () => {
    const processes = atlasCluster(5, 2);
    const b = otherCommandAt(processes, [2]);
    const { collect, acks } = collectAtP1(processes, [2, 3, 4]);
    const p1 = processes[0]!;
    deliverAcks(p1, acks);
    const consensus = onlySend<MConsensus>(p1.drain(), 'MConsensus');
    expect(consensus.to).toEqual([1, 2, 3]);
    expect(consensus.msg).toEqual({ type: 'MConsensus', dot: collect.dot, ballot: 1, value: { isNoop: false, deps: [b] } });
    expect(p1.metrics()).toEqual({ fastPath: 0, slowPath: 1, recovered: 0 });

    const consensusAcks = [1, 2, 3].map((id) => {
      const acceptor = processes[id - 1]!;
      acceptor.handle(1, consensus.msg, 0);
      return onlySend<MConsensusAck>(acceptor.drain(), 'MConsensusAck').msg;
    });
    p1.handle(1, consensusAcks[0]!, 0);
    p1.handle(2, consensusAcks[1]!, 0);
    expect(p1.drain()).toEqual([]);
    p1.handle(3, consensusAcks[2]!, 0);
    const commit = decision(p1.drain());
    expect(commit.to).toEqual([2, 3, 4, 5]);
    expect(commit.msg.value).toEqual({ isNoop: false, deps: [b] });
    expect(commit.executed).toEqual({ dot: collect.dot, cmd: put(1), deps: [b], seq: 0 });
    p1.handle(1, commit.msg, 0); // a late copy of its own commit changes nothing
    expect(p1.drain()).toEqual([]);
  });

  test('an Accept at a lower ballot than promised is not acked', () => {
    const processes = atlasCluster(5, 2);
    const { collect } = collectAtP1(processes, [2]);
    const p2 = processes[1]!;
    p2.handle(3, { type: 'MConsensus', dot: collect.dot, ballot: 8, value: { isNoop: false, deps: [] } }, 0);
    expect(onlySend<MConsensusAck>(p2.drain(), 'MConsensusAck').msg.ballot).toBe(8);
    p2.handle(1, { type: 'MConsensus', dot: collect.dot, ballot: 1, value: { isNoop: false, deps: [] } }, 0);
    expect(p2.drain()).toEqual([]);
  });
});

describe('Atlas, n=5 f=1 (fast quorum 3, threshold 1)', () => {
  test('a dependency reported by a single member still takes the fast path', () => {
    const processes = atlasCluster(5, 1);
    const b = otherCommandAt(processes, [3]);
    const { acks } = collectAtP1(processes, [2, 3]);
    const p1 = processes[0]!;
    deliverAcks(p1, acks);
    expect(decision(p1.drain()).msg.value).toEqual({ isNoop: false, deps: [b] });
    expect(p1.metrics()).toEqual({ fastPath: 1, slowPath: 0, recovered: 0 });
  });
});

test('the threshold rule counts each dependency across the reports', () => {
  expect(reportedEnough([[1, 2], [2], [2, 3]], 2)).toEqual({ union: [1, 2, 3], fast: false });
  expect(reportedEnough([[1, 2], [1, 2], [2, 3], [3]], 2)).toEqual({ union: [1, 2, 3], fast: true });
  expect(reportedEnough([[4], [4]], 2)).toEqual({ union: [4], fast: true });
});
