import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import { makeDot } from '../core/ids.js';
import { EPaxosProcess } from '../protocols/epaxos/epaxos.js';
import type { EPaxosMessage, MCollect, MCollectAck, MCommit, MConsensus, MConsensusAck, MGarbageCollection } from '../protocols/epaxos/messages.js';
import { cluster, executes, onlySend, put } from './graph-flow-helpers.js';

const five = () => cluster(5, (id) => new EPaxosProcess(id, makeConfig('epaxos', { n: 5, f: 1 })));

describe('EPaxos, n=5 (fast quorum 2F = 4 = coordinator + 3 replies, slow quorum 3)', () => {
  test('fast path: identical replies commit at once, at the coordinator first', () => {
    const [p1, p2, p3, p4, p5] = five();
    p1!.submit(put(1), 0);
    const collect = onlySend<MCollect>(p1!.drain(), 'MCollect');
    expect(collect.to).toEqual([2, 3, 4, 5]); // the coordinator takes its own proposal and does not ack itself
    expect(collect.msg).toEqual({ type: 'MCollect', dot: makeDot(1, 1), cmd: put(1), deps: [], seq: 1, quorum: [1, 2, 3, 4], executedUpTo: [0, 0, 0, 0, 0] });
    p5!.handle(1, collect.msg, 0);
    expect(p5!.drain()).toEqual([]); // not in the fast quorum: payload only
    const acks = [p2!, p3!, p4!].map((member) => {
      member.handle(1, collect.msg, 0);
      const ack = onlySend<MCollectAck>(member.drain(), 'MCollectAck');
      expect(ack.to).toEqual([1]);
      expect(ack.msg).toEqual({ type: 'MCollectAck', dot: makeDot(1, 1), deps: [], seq: 1 });
      return ack.msg;
    });
    p1!.handle(2, acks[0]!, 0);
    p1!.handle(3, acks[1]!, 0);
    expect(p1!.drain()).toEqual([]);
    p1!.handle(4, acks[2]!, 0);
    // Deciding means recording: the coordinator executes before it tells anyone.
    const outputs = p1!.drain();
    expect(executes(outputs)).toEqual([{ dot: makeDot(1, 1), cmd: put(1), deps: [], seq: 1 }]);
    expect(outputs[0]!.kind).toBe('execute');
    const commit = onlySend<MCommit>(outputs.slice(1), 'MCommit');
    expect(commit.to).toEqual([2, 3, 4, 5]);
    expect(commit.msg.value).toEqual({ cmd: put(1), deps: [], seq: 1 });
    expect(p1!.metrics()).toEqual({ fastPath: 1, slowPath: 0, recovered: 0 });

    for (const p of [p2!, p3!, p4!, p5!]) {
      p.handle(1, commit.msg, 0);
      expect(executes(p.drain())).toEqual([{ dot: makeDot(1, 1), cmd: put(1), deps: [], seq: 1 }]);
    }
  });

  test('slow path: differing replies go through Accept with the union and the highest seq', () => {
    const [p1, p2, p3, p4] = five();
    // p4's command on the same key reached p2 only (p2 is in its fast quorum).
    const b = makeDot(4, 1);
    const collectB: MCollect = { type: 'MCollect', dot: b, cmd: put(4), deps: [], seq: 1, quorum: [4, 5, 1, 2], executedUpTo: [0, 0, 0, 0, 0] };
    p2!.handle(4, collectB, 0);
    p2!.drain();

    p1!.submit(put(1), 0);
    const collect = onlySend<MCollect>(p1!.drain(), 'MCollect').msg;
    p2!.handle(1, collect, 0);
    p3!.handle(1, collect, 0);
    p4!.handle(1, collect, 0);
    const ack2 = onlySend<MCollectAck>(p2!.drain(), 'MCollectAck').msg;
    const ack3 = onlySend<MCollectAck>(p3!.drain(), 'MCollectAck').msg;
    const ack4 = onlySend<MCollectAck>(p4!.drain(), 'MCollectAck').msg;
    expect(ack2).toEqual({ type: 'MCollectAck', dot: collect.dot, deps: [b], seq: 2 });
    expect(ack3).toEqual({ type: 'MCollectAck', dot: collect.dot, deps: [], seq: 1 });
    expect(ack4).toEqual(ack3);

    p1!.handle(2, ack2, 0);
    p1!.handle(3, ack3, 0);
    p1!.handle(4, ack4, 0);
    const consensus = onlySend<MConsensus>(p1!.drain(), 'MConsensus');
    expect(consensus.to).toEqual([1, 2, 3]);
    expect(consensus.msg).toEqual({ type: 'MConsensus', dot: collect.dot, ballot: 1, value: { cmd: put(1), deps: [b], seq: 2 } });
    expect(p1!.metrics()).toEqual({ fastPath: 0, slowPath: 1, recovered: 0 });

    const consensusAcks = [p1!, p2!, p3!].map((acceptor) => {
      acceptor.handle(1, consensus.msg, 0);
      return onlySend<MConsensusAck>(acceptor.drain(), 'MConsensusAck').msg;
    });
    expect(consensusAcks[0]).toEqual({ type: 'MConsensusAck', dot: collect.dot, ballot: 1 });
    p1!.handle(1, consensusAcks[0]!, 0);
    p1!.handle(2, consensusAcks[1]!, 0);
    p1!.handle(2, consensusAcks[1]!, 0); // a duplicate ack does not count twice
    expect(p1!.drain()).toEqual([]);
    p1!.handle(3, consensusAcks[2]!, 0);
    const decided = p1!.drain();
    expect(executes(decided)).toEqual([{ dot: collect.dot, cmd: put(1), deps: [b], seq: 2 }]);
    const commit = onlySend<MCommit>(decided.slice(1), 'MCommit').msg;
    expect(commit.value).toEqual({ cmd: put(1), deps: [b], seq: 2 });

    p2!.handle(1, commit, 0);
    expect(executes(p2!.drain())).toEqual([{ dot: collect.dot, cmd: put(1), deps: [b], seq: 2 }]);
    // Once chosen, an Accept is answered with the commit.
    p2!.handle(1, consensus.msg, 0);
    expect(onlySend<MCommit>(p2!.drain(), 'MCommit')).toEqual({ kind: 'send', to: [1], msg: commit });
  });

  test('a commit that overtakes its payload carries the command; the late MCollect changes nothing', () => {
    const [p1, , , p4] = five();
    p1!.submit(put(1), 0);
    const collect = onlySend<MCollect>(p1!.drain(), 'MCollect').msg;
    const commit: MCommit = { type: 'MCommit', dot: collect.dot, value: { cmd: put(1), deps: [], seq: 1 } };
    p4!.handle(1, commit, 0);
    expect(executes(p4!.drain())).toEqual([{ dot: collect.dot, cmd: put(1), deps: [], seq: 1 }]);
    p4!.handle(1, collect, 0);
    expect(p4!.drain()).toEqual([]);
  });

  test('garbage collection drops committed-everywhere dots and ignores late messages about them', () => {
    const processes = five();
    const [p1] = processes;
    p1!.submit(put(1), 0);
    const collect = onlySend<MCollect>(p1!.drain(), 'MCollect').msg;
    const commit: MCommit = { type: 'MCommit', dot: collect.dot, value: { cmd: put(1), deps: [], seq: 1 } };
    for (const p of processes) {
      p.handle(1, collect, 0);
      p.handle(1, commit, 0);
      p.drain();
      expect(p.dotsHeld).toBe(1);
    }
    const reports = processes.map((p) => {
      p.onTimer('gc', 50);
      const gc = onlySend<MGarbageCollection>(p.drain(), 'MGarbageCollection');
      expect(gc.to).not.toContain(p.id);
      return gc.msg;
    });
    expect(reports[0]).toEqual({ type: 'MGarbageCollection', committed: [1, 0, 0, 0, 0], executed: [0, 0, 0, 0, 0] });
    // p1 hears from all but p5: nothing is stable yet.
    for (const from of [2, 3, 4]) p1!.handle(from, reports[from - 1]!, 50);
    expect(p1!.collectedUpTo(1)).toBe(0);
    expect(p1!.dotsHeld).toBe(1);
    p1!.handle(5, reports[4]!, 50);
    expect(p1!.collectedUpTo(1)).toBe(1);
    expect(p1!.dotsHeld).toBe(0);
    // A late MCollect or MCommit does not bring the dot back.
    p1!.handle(1, collect, 60);
    p1!.handle(1, commit, 60);
    expect(p1!.drain()).toEqual([]);
    expect(p1!.dotsHeld).toBe(0);
    // The index keeps the command until every process reports it executed.
    expect(p1!.indexSize).toBe(1);
    for (const p of processes) p.executed([collect.dot], 70);
    const executedReports = processes.map((p) => {
      p.onTimer('gc', 100);
      return onlySend<MGarbageCollection>(p.drain(), 'MGarbageCollection').msg;
    });
    for (const from of [2, 3, 4, 5]) p1!.handle(from, executedReports[from - 1]!, 100);
    expect(p1!.indexSize).toBe(0);
  });
});

describe('EPaxos, n=3 (fast quorum 2: a single reply decides)', () => {
  test('one reply is always "all identical", even with conflicts', () => {
    const [p1, p2] = cluster(3, (id) => new EPaxosProcess(id, makeConfig('epaxos', { n: 3, f: 1 })));
    const other: MCollect = { type: 'MCollect', dot: makeDot(3, 1), cmd: put(3), deps: [], seq: 1, quorum: [3, 1], executedUpTo: [0, 0, 0] };
    p2!.handle(3, other, 0); // p2 is outside p3's quorum here: payload only, nothing registered
    p2!.drain();
    p1!.submit(put(1), 0);
    const collect = onlySend<MCollect>(p1!.drain(), 'MCollect').msg;
    expect(collect.quorum).toEqual([1, 2]);
    p1!.handle(1, collect, 0);
    p2!.handle(1, collect, 0);
    const ack = onlySend<MCollectAck>(p2!.drain(), 'MCollectAck').msg;
    p1!.handle(2, ack, 0);
    expect(onlySend<MCommit>(p1!.drain().slice(1), 'MCommit').msg.value).toEqual({ cmd: put(1), deps: [], seq: 1 });
    expect(p1!.metrics()).toEqual({ fastPath: 1, slowPath: 0, recovered: 0 });
  });
});

test('EPaxos messages are plain data', () => {
  const [p1] = five();
  p1!.submit(put(1), 0);
  const outputs = p1!.drain();
  const msg = (outputs[0] as { msg: EPaxosMessage }).msg;
  expect(JSON.parse(JSON.stringify(msg))).toEqual(msg);
});
