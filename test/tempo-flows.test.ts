/** Hand-driven Tempo flows: processes and executors built directly, messages delivered by hand. */
import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import { makeDot, type ProcessId } from '../core/ids.js';
import type { Output } from '../core/process.js';
import { TableExecutor } from '../protocols/tempo/executor.js';
import type { Committed, MCollectAck, MCommit, TempoInfo, TempoMessage } from '../protocols/tempo/messages.js';
import { TempoProcess } from '../protocols/tempo/tempo.js';
import { putCommand } from './tempo-harness.js';

type Out = Output<TempoMessage, TempoInfo>;

function cluster(n: number, f: number, orders: ProcessId[][]): TempoProcess[] {
  const config = makeConfig('tempo', { n, f });
  return orders.map((order, i) => {
    const process = new TempoProcess(i + 1, config);
    process.discover(order);
    return process;
  });
}
function sends(outputs: readonly Out[]): Array<{ to: readonly ProcessId[]; msg: TempoMessage }> {
  return outputs.flatMap((o) => (o.kind === 'send' ? [{ to: o.to, msg: o.msg }] : []));
}
function infos(outputs: readonly Out[]): TempoInfo[] {
  return outputs.flatMap((o) => (o.kind === 'execute' ? [o.info] : []));
}
function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}
/** An executor whose StableAtKey infos come straight back to it (one shard). */
function feed(executor: TableExecutor, list: readonly TempoInfo[]): void {
  const queue = [...list];
  for (let info = queue.shift(); info !== undefined; info = queue.shift()) {
    executor.handle(info, 0);
    queue.push(...(executor.drainShardInfos?.() ?? []));
  }
}

describe('Tempo hand-driven flows', () => {
  test('fast path: n=3, f=1 commits the highest proposal after one round trip and executes it', () => {
    const [p1, p2, p3] = cluster(3, 1, [[1, 2, 3], [2, 1, 3], [3, 1, 2]]);
    const cmd = putCommand(1, 'x');
    p1!.submit(cmd, 0);
    const collect = only(sends(p1!.drain()));
    expect(collect.to).toEqual([2, 3]);
    expect(collect.msg).toEqual({ type: 'MCollect', dot: makeDot(1, 1), cmd, quorum: [1, 2], clock: 1 });

    p3!.handle(1, collect.msg, 0); // not in the quorum: payload only
    expect(p3!.drain()).toEqual([]);
    p2!.handle(1, collect.msg, 0);
    const ack = only(sends(p2!.drain()));
    expect(ack).toEqual({ to: [1], msg: { type: 'MCollectAck', dot: makeDot(1, 1), clock: 1, votes: [{ key: 'x', by: 2, start: 1, end: 1 }] } });

    p1!.handle(2, ack.msg, 0);
    // Deciding means recording: p1 hands the commit to its executor first, then tells the others.
    const decision = p1!.drain();
    expect(decision.map((o) => o.kind)).toEqual(['execute', 'send']);
    const commit = only(sends(decision));
    expect(commit.to).toEqual([2, 3]);
    expect(commit.msg).toEqual({
      type: 'MCommit',
      dot: makeDot(1, 1),
      clock: 1,
      votes: [
        { key: 'x', by: 1, start: 1, end: 1 },
        { key: 'x', by: 2, start: 1, end: 1 },
      ],
    });
    expect(p1!.metrics()).toEqual({ fastPath: 1, slowPath: 0, recovered: 0 });

    // At p3 the commit carries a majority (p1, p2) voting up to 1: stable, so it runs at once.
    p3!.handle(1, commit.msg, 0);
    const executor = new TableExecutor(3, 3);
    feed(executor, infos(p3!.drain()));
    expect(executor.drain()).toEqual([{ rifl: cmd.rifl, key: 'x', results: [null] }]);
    expect(p3!.clockOf('x')).toBe(1);
  });

  test('slow path: n=5, f=2 with the highest proposal made once goes through MConsensus to f+1 acceptors', () => {
    const orders = [
      [1, 2, 3, 4, 5],
      [2, 1, 3, 4, 5],
      [3, 1, 2, 4, 5],
      [4, 1, 2, 3, 5],
      [5, 1, 2, 3, 4],
    ];
    const [p1, p2, p3, p4] = cluster(5, 2, orders);
    // p2 coordinated five earlier commands on x (their messages are dropped): its clock on x is 5.
    for (let seq = 1; seq <= 5; seq++) p2!.submit(putCommand(100 + seq, 'x'), 0);
    p2!.drain();
    expect(p2!.clockOf('x')).toBe(5);

    const cmd = putCommand(1, 'x');
    p1!.submit(cmd, 0);
    const collect = only(sends(p1!.drain())).msg;
    expect(collect).toMatchObject({ type: 'MCollect', quorum: [1, 2, 3, 4], clock: 1 });
    for (const member of [p2!, p3!, p4!]) member.handle(1, collect, 0);
    const acks = [p2!, p3!, p4!].map((member) => only(sends(member.drain())).msg as MCollectAck);
    expect(acks.map((ack) => ack.clock)).toEqual([6, 1, 1]);
    p1!.handle(2, acks[0]!, 0);
    p1!.handle(3, acks[1]!, 0);
    expect(sends(p1!.drain())).toEqual([]);
    p1!.handle(4, acks[2]!, 0);
    // Highest proposal 6 reported once < threshold f=2: slow path with ballot 1 (round 0 of p1).
    const consensus = only(sends(p1!.drain()));
    expect(consensus).toEqual({ to: [1, 2, 3], msg: { type: 'MConsensus', dot: makeDot(1, 1), ballot: 1, clock: 6 } });
    expect(p1!.metrics()).toEqual({ fastPath: 0, slowPath: 1, recovered: 0 });

    for (const [id, acceptor] of [[1, p1!], [2, p2!]] as const) {
      acceptor.handle(1, consensus.msg, 0);
      const accepted = only(sends(acceptor.drain()));
      expect(accepted).toEqual({ to: [1], msg: { type: 'MConsensusAck', dot: makeDot(1, 1), ballot: 1 } });
      p1!.handle(id, accepted.msg, 0);
    }
    expect(sends(p1!.drain())).toEqual([]); // two of f+1 = 3 acks
    p3!.handle(1, consensus.msg, 0);
    // The acceptor bumped x to the consensus value: detached votes 2..6.
    expect(p3!.clockOf('x')).toBe(6);
    p1!.handle(3, only(sends(p3!.drain())).msg, 0);
    const commit = only(sends(p1!.drain())).msg as MCommit;
    expect(commit.type).toBe('MCommit');
    expect(commit.clock).toBe(6);
    expect(commit.votes.map((v) => [v.by, v.start, v.end])).toEqual([
      [1, 1, 1],
      [2, 6, 6],
      [3, 1, 1],
      [4, 1, 1],
    ]);
    // A second MConsensusAck after the commit is ignored.
    p1!.handle(2, { type: 'MConsensusAck', dot: makeDot(1, 1), ballot: 1 }, 0);
    expect(p1!.drain()).toEqual([]);
  });

  test('stability across two keys: a two-key command runs only when stable at both, across two shards', () => {
    // Shard 0 owns a, shard 1 owns b; StableAtKey infos are routed between them by hand.
    const shardA = new TableExecutor(1, 3, 0);
    const shardB = new TableExecutor(1, 3, 1);
    const route = (info: TempoInfo) => (info.key === 'a' ? shardA : shardB);
    const deliver = (...list: TempoInfo[]) => {
      const queue = [...list];
      for (let info = queue.shift(); info !== undefined; info = queue.shift()) {
        const shard = route(info);
        shard.handle(info, 0);
        queue.push(...shard.drainShardInfos());
      }
    };
    const dot = makeDot(2, 1);
    const part = (key: string, votes: Committed['votes']): Committed => ({
      type: 'Committed', key, dot, clock: 3, rifl: 77, ops: [{ op: 'put', value: key }], keys: ['a', 'b'], votes,
    });
    // On a, p1 and p2 voted 1..3: stable 3. On b, only p2 voted 1..3 (p1 voted 3 alone, 1..2 detached, unseen).
    deliver(part('a', [{ key: 'a', by: 1, start: 1, end: 3 }, { key: 'a', by: 2, start: 1, end: 3 }]));
    deliver(part('b', [{ key: 'b', by: 1, start: 3, end: 3 }, { key: 'b', by: 2, start: 1, end: 3 }]));
    expect(shardA.stable('a')).toBe(3);
    expect(shardB.stable('b')).toBe(0);
    expect(shardA.drain()).toEqual([]);
    expect(shardB.drain()).toEqual([]);
    expect(shardA.pending('a')).toBe(1);

    // A single-key command on a at timestamp 4 waits behind the two-key one although a is stable at 4.
    deliver({ type: 'Committed', key: 'a', dot: makeDot(3, 1), clock: 4, rifl: 78, ops: [{ op: 'get' }], keys: ['a'], votes: [{ key: 'a', by: 1, start: 4, end: 4 }, { key: 'a', by: 3, start: 1, end: 4 }] });
    expect(shardA.stable('a')).toBe(4);
    expect(shardA.drain()).toEqual([]);

    // p1's detached votes 1..2 on b make b stable at 3: both parts run, then the command behind.
    deliver({ type: 'Detached', key: 'b', votes: [{ key: 'b', by: 1, start: 1, end: 2 }] });
    expect(shardB.drain()).toEqual([{ rifl: 77, key: 'b', results: [null] }]);
    expect(shardA.drain()).toEqual([
      { rifl: 77, key: 'a', results: [null] },
      { rifl: 78, key: 'a', results: ['a'] },
    ]);
  });

  test('detached votes unblock a key: a commit above the majority frontier waits for MDetached', () => {
    const [p1, p2, p3] = cluster(3, 1, [[1, 2, 3], [2, 1, 3], [3, 1, 2]]);
    const executor = new TableExecutor(1, 3);
    // c1 from p1 on x: p2 acks, commit at 1 everywhere except p3, which has only the payload.
    const c1 = putCommand(1, 'x');
    p1!.submit(c1, 0);
    const collect1 = only(sends(p1!.drain())).msg;
    p2!.handle(1, collect1, 0);
    p3!.handle(1, collect1, 0);
    p1!.handle(2, only(sends(p2!.drain())).msg, 0);
    const decision1 = p1!.drain();
    const commit1 = only(sends(decision1)).msg;
    p2!.handle(1, commit1, 0);
    feed(executor, infos(decision1));
    p2!.drain();
    expect(executor.drain()).toEqual([{ rifl: c1.rifl, key: 'x', results: [null] }]);

    // c2 from p3 (clock 0 on x) with quorum {3, 1}: p3 proposes 1, p1 proposes 2 → commits at 2.
    const c2 = putCommand(2, 'x');
    p3!.submit(c2, 0);
    const collect2 = only(sends(p3!.drain())).msg;
    p1!.handle(3, collect2, 0);
    p2!.handle(3, collect2, 0);
    p3!.handle(1, only(sends(p1!.drain())).msg, 0);
    const commit2 = only(sends(p3!.drain())).msg as MCommit;
    expect(commit2.clock).toBe(2);
    p1!.handle(3, commit2, 0);
    feed(executor, infos(p1!.drain()));
    // Frontiers at p1's executor: p1 2, p2 1, p3 1 → stable 1 < 2: c2 waits.
    expect(executor.stable('x')).toBe(1);
    expect(executor.drain()).toEqual([]);

    // p2 commits c2 too and bumps x to 2; its periodic MDetached carries that vote.
    p2!.handle(3, commit2, 0);
    p2!.drain();
    p2!.onTimer('detached', 5);
    const detached = only(sends(p2!.drain()));
    expect(detached).toEqual({ to: [1, 2, 3], msg: { type: 'MDetached', votes: [{ key: 'x', by: 2, start: 2, end: 2 }] } });
    p1!.handle(2, detached.msg, 5);
    feed(executor, infos(p1!.drain()));
    expect(executor.stable('x')).toBe(2);
    expect(executor.drain()).toEqual([{ rifl: c2.rifl, key: 'x', results: [null] }]);
    // Nothing detached left at p2: the timer sends nothing.
    p2!.onTimer('detached', 10);
    expect(p2!.drain()).toEqual([]);
  });

  test('MAttached: votes a commit did not carry are broadcast, buffered before the commit and applied after', () => {
    const [p1, p2, p3] = cluster(3, 1, [[1, 2, 3], [2, 1, 3], [3, 1, 2]]);
    const cmd = putCommand(1, 'x');
    p1!.submit(cmd, 0);
    const collect = only(sends(p1!.drain())).msg;
    p2!.handle(1, collect, 0);
    p2!.drain();
    p3!.handle(1, collect, 0);
    // A commit that lacks p2's attached vote (as after a recovery that missed p2).
    const dot = makeDot(1, 1);
    const commit: MCommit = { type: 'MCommit', dot, clock: 1, votes: [{ key: 'x', by: 1, start: 1, end: 1 }] };
    p2!.handle(1, commit, 0);
    const attached = sends(p2!.drain()).find((s) => s.msg.type === 'MAttached')!;
    expect(attached).toEqual({ to: [1, 2, 3], msg: { type: 'MAttached', dot, votes: [{ key: 'x', by: 2, start: 1, end: 1 }] } });
    // p3 gets MAttached before the commit: buffered, then applied right after the commit.
    p3!.handle(2, attached.msg, 0);
    expect(p3!.drain()).toEqual([]);
    p3!.handle(1, commit, 0);
    const executor = new TableExecutor(3, 3);
    const delivered = infos(p3!.drain());
    expect(delivered.map((info) => info.type)).toEqual(['Committed', 'Detached']);
    feed(executor, delivered);
    expect(executor.drain()).toEqual([{ rifl: cmd.rifl, key: 'x', results: [null] }]);
  });
});
