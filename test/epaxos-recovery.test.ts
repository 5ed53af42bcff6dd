/**
 * EPaxos recovery (PROTOCOLS.md §7.2, docs/epaxos-recovery.md), written by hand: five processes driven
 * message by message, the coordinator crashing at the worst moments, then the recovery timer. Every
 * scenario checks what the live processes commit and execute, so a wrong rule shows up as a value
 * that differs from the one decided (or a command that never runs).
 */
import { describe, expect, test } from 'vitest';
import { makeCommand, type Command } from '../core/command.js';
import { makeConfig } from '../core/config.js';
import { makeDot, makeRifl, type Dot, type ProcessId } from '../core/ids.js';
import { GraphExecutor, type GraphInfo } from '../protocols/common/graph-executor.js';
import { EPaxosProcess } from '../protocols/epaxos/epaxos.js';
import type { EPaxosMessage } from '../protocols/epaxos/messages.js';
import { recoveryStep } from '../protocols/epaxos/recovery-rules.js';
import { DotSynod } from '../protocols/epaxos/dot-synod.js';

const put = (client: number, key = 'k') => makeCommand(makeRifl(client, 1), [{ key, ops: [{ op: 'put', value: `v${client}` }] }]);
const TIMEOUT_MS = 100;

interface Sent {
  readonly from: ProcessId;
  readonly to: ProcessId;
  readonly msg: EPaxosMessage;
}

/**
 * n processes, each sorting the others by id after itself (so p's fast quorum of 2F is p and its next
 * 2F − 1 ids, wrapping). Outputs go to a wire the test delivers from or drops; crashed processes
 * receive nothing and their timers stop. Each process feeds a real graph executor.
 */
function network(n = 5) {
  const config = makeConfig('epaxos', { n, f: 1, recoveryTimeoutMs: TIMEOUT_MS });
  const processes = new Map<ProcessId, EPaxosProcess>();
  const executors = new Map<ProcessId, GraphExecutor>();
  const committed = new Map<ProcessId, GraphInfo[]>();
  const ran = new Map<ProcessId, number[]>();
  const crashed = new Set<ProcessId>();
  const wire: Sent[] = [];
  for (let id = 1; id <= n; id++) {
    const process = new EPaxosProcess(id, config);
    process.discover([id, ...Array.from({ length: n - 1 }, (_, i) => ((id + i) % n) + 1)]);
    processes.set(id, process);
    executors.set(id, new GraphExecutor(id, 'seq-dot'));
    committed.set(id, []);
    ran.set(id, []);
  }
  const collect = (id: ProcessId) => {
    for (const output of processes.get(id)!.drain()) {
      if (output.kind === 'execute') {
        committed.get(id)!.push(output.info);
        const executor = executors.get(id)!;
        executor.handle(output.info, 0);
        for (const result of executor.drain()) ran.get(id)!.push(result.rifl);
      } else {
        for (const to of output.to) wire.push({ from: id, to, msg: output.msg });
      }
    }
  };
  /** Delivers (in wire order, including what the deliveries send) every message `match` selects. */
  const deliver = (match: (s: Sent) => boolean, now: number) => {
    for (let i = 0; i < wire.length; ) {
      const sent = wire[i]!;
      if (!match(sent)) {
        i++;
        continue;
      }
      wire.splice(i, 1);
      if (crashed.has(sent.to)) continue;
      processes.get(sent.to)!.handle(sent.from, sent.msg, now);
      collect(sent.to);
    }
  };
  const drop = (match: (s: Sent) => boolean) => {
    for (let i = wire.length - 1; i >= 0; i--) if (match(wire[i]!)) wire.splice(i, 1);
  };
  const tick = (now: number) => {
    for (const [id, process] of processes) {
      if (crashed.has(id)) continue;
      process.onTimer('recovery', now);
      collect(id);
    }
  };
  /** Timer ticks every quarter timeout up to `untilMs`, delivering everything after each. */
  const runUntil = (fromMs: number, untilMs: number) => {
    for (let now = fromMs; now <= untilMs; now += TIMEOUT_MS / 4) {
      tick(now);
      deliver(() => true, now);
    }
  };
  const live = () => [...processes.keys()].filter((id) => !crashed.has(id));
  /** The value each live process committed for `dot` (undefined where it did not). */
  const commitsOf = (dot: Dot) => live().map((id) => committed.get(id)!.find((info) => info.dot === dot));
  return {
    processes,
    wire,
    committed,
    ran,
    collect,
    deliver,
    drop,
    runUntil,
    live,
    commitsOf,
    p: (id: ProcessId) => processes.get(id)!,
    crash: (id: ProcessId) => crashed.add(id),
    submit: (id: ProcessId, cmd: Command, now: number) => {
      processes.get(id)!.submit(cmd, now);
      collect(id);
    },
  };
}

const is = (type: EPaxosMessage['type'], from?: ProcessId, to?: ProcessId) => (s: Sent) =>
  s.msg.type === type && (from === undefined || s.from === from) && (to === undefined || s.to === to);

describe('EPaxos recovery, n=5 (fast quorum 4, recovery quorum 3)', () => {
  test('the coordinator crashes after its PreAccept reached one member: the command is recovered (rule 4) everywhere', () => {
    const net = network();
    net.submit(1, put(1), 0);
    net.deliver(is('MCollect', 1, 2), 0); // p2 pre-accepts; every other MCollect is lost
    net.crash(1);
    net.drop(() => true);
    net.runUntil(0, 1000);
    const dot = makeDot(1, 1);
    for (const info of net.commitsOf(dot)) expect(info).toEqual({ dot, cmd: put(1), deps: [], seq: 1 });
    for (const id of net.live()) expect(net.ran.get(id)).toEqual([put(1).rifl]);
    // p2 (the first after the coordinator) recovered it, by rule 4: one pre-accept is fewer than F=2.
    expect(net.p(2).metrics().recovered).toBe(1);
    expect(net.live().reduce((total, id) => total + (net.p(id).metrics().recovered ?? 0), 0)).toBe(1);
  });

  test('the coordinator decides the fast path and crashes with its commit delivered nowhere: recovery (rule 3) commits exactly that value', () => {
    const net = network();
    // A command of p3 on the same key, pre-accepted by p1 (in p3's quorum {3,4,5,1}) before p1's own.
    net.submit(3, put(3), 0);
    net.deliver(is('MCollect', 3), 0);
    net.deliver(is('MCollectAck'), 0);
    net.drop(() => true); // p3's dot stays uncommitted for now
    net.submit(1, put(1), 10);
    net.deliver(is('MCollect', 1), 10);
    net.deliver(is('MCollectAck', undefined, 1), 10);
    const decided = net.committed.get(1)!.find((info) => info.dot === makeDot(1, 1))!;
    expect(decided).toEqual({ dot: makeDot(1, 1), cmd: put(1), deps: [makeDot(3, 1)], seq: 2 });
    expect(net.p(1).metrics().fastPath).toBe(1);
    net.crash(1);
    net.drop(() => true); // the commit reaches nobody
    // Meanwhile p4 submits another command on the key, registered at p2..p5: fresh dependencies
    // collected now would include it, and differ from what p1 decided.
    net.submit(4, put(4), 20);
    net.deliver(is('MCollect', 4), 20);
    net.runUntil(20, 1500);
    for (const info of net.commitsOf(makeDot(1, 1))) expect(info).toEqual(decided);
    for (const id of net.live()) expect(new Set(net.ran.get(id))).toEqual(new Set([put(1).rifl, put(3).rifl, put(4).rifl]));
  });

  test('the coordinator decides the fast path and crashes with its commit delivered to one process: that process helps (rule 1)', () => {
    const net = network();
    net.submit(1, put(1), 0);
    net.deliver(is('MCollect', 1), 0);
    net.deliver(is('MCollectAck', undefined, 1), 0);
    net.deliver(is('MCommit', 1, 5), 0);
    net.crash(1);
    net.drop(() => true);
    // p2 (rank 1) times out first; p5, which committed, answers its Prepare with the commit.
    net.p(2).onTimer('recovery', TIMEOUT_MS + TIMEOUT_MS / 5);
    net.collect(2);
    expect(net.wire.filter(is('MPrepare', 2)).map((s) => s.to)).toEqual([1, 2, 3, 4, 5]);
    net.deliver(is('MPrepare', 2, 5), 150);
    expect(net.wire.map((s) => [s.from, s.to, s.msg.type])).toContainEqual([5, 2, 'MCommit']);
    net.deliver(is('MCommit', 5, 2), 150);
    net.runUntil(150, 400);
    for (const info of net.commitsOf(makeDot(1, 1))) expect(info).toEqual({ dot: makeDot(1, 1), cmd: put(1), deps: [], seq: 1 });
    expect(net.p(2).metrics().recovered).toBe(0); // helped, not recovered
  });

  test('a value accepted on the slow path by one acceptor only is what recovery commits (rule 2)', () => {
    const net = network();
    // p4's command on the key reached p2 only, so p2's report differs from p3's and p4's: slow path.
    net.p(2).handle(4, { type: 'MCollect', dot: makeDot(4, 1), cmd: put(4), deps: [], seq: 1, quorum: [4, 5, 1, 2], executedUpTo: [0, 0, 0, 0, 0] }, 0);
    net.p(2).drain();
    net.submit(1, put(1), 0);
    net.deliver(is('MCollect', 1), 0);
    net.deliver(is('MCollectAck', undefined, 1), 0);
    expect(net.p(1).metrics().slowPath).toBe(1);
    net.deliver(is('MConsensus', 1, 2), 0); // accepted by p2 alone; its ack and the rest are lost
    net.crash(1);
    net.drop(() => true);
    const accepted = { dot: makeDot(1, 1), cmd: put(1), deps: [makeDot(4, 1)], seq: 2 };
    net.runUntil(0, 1000);
    // p3 and p4 hold identical round-0 reports (deps [], seq 1): without rule 2 coming first, rule 3
    // would pick those instead.
    for (const info of net.commitsOf(makeDot(1, 1))) expect(info).toEqual(accepted);
  });

  test('a dot nobody else saw, that a committed command depends on, becomes a no-op (rule 5) and unblocks it', () => {
    const net = network();
    net.submit(1, put(1), 0);
    net.drop(() => true); // (1,1): every MCollect lost
    net.submit(1, put(2), 10); // (1,2) on the same key depends on (1,1)
    net.deliver(is('MCollect', 1), 10);
    net.deliver(is('MCollectAck', undefined, 1), 10);
    net.deliver(is('MCommit', 1), 10);
    net.crash(1);
    for (const info of net.commitsOf(makeDot(1, 2))) expect(info?.deps).toEqual([makeDot(1, 1)]);
    for (const id of net.live()) expect(net.ran.get(id)).toEqual([]); // blocked on (1,1)
    net.runUntil(10, 1000);
    for (const info of net.commitsOf(makeDot(1, 1))) expect(info).toEqual({ dot: makeDot(1, 1), cmd: null, deps: [], seq: 0 });
    for (const id of net.live()) expect(net.ran.get(id)).toEqual([put(2).rifl]);
  });

  test('a dot only a process outside the fast quorum saw is recovered with its command (rule 4), not a no-op', () => {
    const net = network();
    net.submit(1, put(1), 0);
    net.deliver(is('MCollect', 1, 5), 0); // p5 is outside p1's fast quorum {1,2,3,4}: payload only
    net.crash(1);
    net.drop(() => true);
    net.runUntil(0, 2000);
    for (const info of net.commitsOf(makeDot(1, 1))) expect(info).toEqual({ dot: makeDot(1, 1), cmd: put(1), deps: [], seq: 1 });
    expect(net.p(5).metrics().recovered).toBe(1);
  });

  test('after a recovery promise the coordinator no longer takes the fast path', () => {
    const net = network();
    net.submit(1, put(1), 0);
    net.deliver(is('MCollect', 1), 0);
    // p2 times out before the acks reach p1 and prepares a higher ballot; p1 promises it.
    net.p(2).onTimer('recovery', 500);
    net.collect(2);
    net.deliver(is('MPrepare', 2, 1), 500);
    net.deliver(is('MCollectAck', undefined, 1), 500);
    expect(net.p(1).metrics().fastPath).toBe(0);
    expect(net.committed.get(1)).toEqual([]);
  });
});

describe('recovery rules, as a function', () => {
  const dot = makeDot(1, 7);
  const ok = (preAccepted: { deps: readonly Dot[]; seq: number } | null, accepted: { ballot: number; deps: readonly Dot[] } | null = null, cmd: Command | null = put(1)) => ({
    type: 'MPrepareOk' as const,
    dot,
    ballot: 12,
    cmd,
    preAccepted,
    accepted: accepted === null ? null : { ballot: accepted.ballot, value: { cmd: put(1), deps: accepted.deps, seq: 3 } },
  });

  test('rule 2 takes the highest accepted ballot', () => {
    const step = recoveryStep(dot, 5, [
      { from: 2, ok: ok(null, { ballot: 7, deps: [makeDot(2, 1)] }) },
      { from: 3, ok: ok(null, { ballot: 12, deps: [makeDot(3, 1)] }) },
      { from: 4, ok: ok({ deps: [], seq: 1 }) },
    ], undefined);
    expect(step).toEqual({ kind: 'accept', rule: 2, value: { cmd: put(1), deps: [makeDot(3, 1)], seq: 3 } });
  });

  test('rule 3 needs ⌊n/2⌋ identical pre-accepts, and the coordinator\'s own proposal does not count', () => {
    const same = { deps: [makeDot(2, 1)], seq: 2 };
    expect(recoveryStep(dot, 5, [{ from: 2, ok: ok(same) }, { from: 3, ok: ok(same) }, { from: 5, ok: ok(null) }], undefined)).toEqual({
      kind: 'accept',
      rule: 3,
      value: { cmd: put(1), deps: same.deps, seq: 2 },
    });
    // One member plus the coordinator: rule 4.
    expect(recoveryStep(dot, 5, [{ from: 1, ok: ok(same) }, { from: 2, ok: ok(same) }, { from: 5, ok: ok(null) }], undefined).kind).toBe('collect');
    // Same deps, different seq: not identical.
    expect(recoveryStep(dot, 5, [{ from: 2, ok: ok(same) }, { from: 3, ok: ok({ ...same, seq: 3 }) }, { from: 5, ok: ok(null) }], undefined).rule).toBe(4);
  });

  test('rules 4 and 5: the command known anywhere is re-collected; known nowhere, a no-op', () => {
    const none = [{ from: 2, ok: ok(null, null, null) }, { from: 3, ok: ok(null, null, null) }, { from: 4, ok: ok(null, null, null) }];
    expect(recoveryStep(dot, 5, none, put(1))).toEqual({ kind: 'collect', rule: 4, cmd: put(1) });
    expect(recoveryStep(dot, 5, [...none.slice(0, 2), { from: 4, ok: ok(null) }], undefined)).toEqual({ kind: 'collect', rule: 4, cmd: put(1) });
    expect(recoveryStep(dot, 5, none, undefined)).toEqual({ kind: 'accept', rule: 5, value: { cmd: null, deps: [], seq: 0 } });
    expect(() => recoveryStep(dot, 5, none.slice(0, 2), undefined)).toThrow(/2 promises for n=5/);
  });
});

describe('per-dot synod with phase 1', () => {
  test('a promise raises bal but not abal; lower Accepts and Prepares are refused; ballots go above everything seen', () => {
    const synod = new DotSynod<string>();
    expect(synod.nextBallot(2, 5, 0)).toBe(7); // round 1 of process 2: above every round-0 ballot
    expect(synod.prepare(7)).toBe(true);
    expect([synod.bal, synod.abal, synod.aval]).toEqual([7, 0, undefined]);
    expect(synod.prepare(7)).toBe(false); // phase 1 needs a strictly higher ballot
    expect(synod.promiseAtLeast(7)).toBe(true); // a re-collect at the promised ballot itself is fine
    expect(synod.accept(1, 'round 0')).toEqual({ kind: 'rejected', bal: 7 });
    expect(synod.accept(7, 'v')).toEqual({ kind: 'accepted', ballot: 7 });
    expect([synod.bal, synod.abal, synod.aval]).toEqual([7, 7, 'v']);
    expect(synod.nextBallot(3, 5, 12)).toBe(18); // the next round above a ballot only heard of (a NACK): p + n·(⌊12/n⌋ + 1)
    expect(synod.promiseAtLeast(6)).toBe(false);
    synod.choose('v');
    expect(synod.accept(99, 'w')).toEqual({ kind: 'chosen', value: 'v' });
  });

  test('the proposer counts distinct acks for its current ballot only', () => {
    const synod = new DotSynod<string>();
    synod.propose(7, 'v');
    expect(synod.accepted(1, 7, 2)).toBeUndefined();
    expect(synod.accepted(1, 7, 2)).toBeUndefined(); // the same acceptor twice
    expect(synod.accepted(2, 2, 2)).toBeUndefined(); // an old ballot
    expect(synod.accepted(3, 7, 2)).toBe('v');
    expect(() => synod.propose(7, 'w')).toThrow(/proposed after 7/);
  });
});
