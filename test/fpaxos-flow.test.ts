import { describe, expect, test } from 'vitest';
import { makeCommand } from '../core/command.js';
import { makeConfig } from '../core/config.js';
import { makeRifl } from '../core/ids.js';
import { Replica } from '../core/replica.js';
import { SlotExecutor } from '../protocols/fpaxos/executor.js';
import { FPaxosProcess } from '../protocols/fpaxos/fpaxos.js';
import type { FPaxosMessage, SlotInfo } from '../protocols/fpaxos/messages.js';

const config = makeConfig('fpaxos', { n: 3, f: 1, leader: 1 });
const put = (client: number, seq: number, key: string, value: string) => makeCommand(makeRifl(client, seq), [{ key, ops: [{ op: 'put', value }] }]);
const get = (client: number, seq: number, key: string) => makeCommand(makeRifl(client, seq), [{ key, ops: [{ op: 'get' }] }]);

function processes() {
  const [p1, p2, p3] = [1, 2, 3].map((id) => new FPaxosProcess(id, config)) as [FPaxosProcess, FPaxosProcess, FPaxosProcess];
  p1.discover([1, 2, 3]);
  p2.discover([2, 1, 3]);
  p3.discover([3, 1, 2]);
  return { p1, p2, p3 };
}

describe('FPaxos driven by hand', () => {
  test('forward, accept at the f+1 closest, chosen to all, execute everywhere', () => {
    const { p1, p2, p3 } = processes();
    const cmd = put(7, 1, 'x', 'a');

    p2.submit(cmd, 0);
    expect(p2.drain()).toEqual([{ kind: 'send', to: [1], msg: { type: 'MForwardSubmit', cmd } }]);

    p1.handle(2, { type: 'MForwardSubmit', cmd }, 1);
    const accept: FPaxosMessage = { type: 'MAccept', ballot: 1, slot: 1, cmd };
    expect(p1.drain()).toEqual([{ kind: 'send', to: [1, 2], msg: accept }]);

    p1.handle(1, accept, 1);
    expect(p1.drain()).toEqual([{ kind: 'send', to: [1], msg: { type: 'MAccepted', ballot: 1, slot: 1 } }]);
    p2.handle(1, accept, 2);
    expect(p2.drain()).toEqual([{ kind: 'send', to: [1], msg: { type: 'MAccepted', ballot: 1, slot: 1 } }]);

    p1.handle(1, { type: 'MAccepted', ballot: 1, slot: 1 }, 2);
    expect(p1.drain()).toEqual([]); // one ack of f+1 = 2
    p1.handle(2, { type: 'MAccepted', ballot: 1, slot: 1 }, 3);
    const chosen: FPaxosMessage = { type: 'MChosen', slot: 1, cmd };
    expect(p1.drain()).toEqual([{ kind: 'send', to: [1, 2, 3], msg: chosen }]);

    p3.handle(1, chosen, 4);
    expect(p3.drain()).toEqual([{ kind: 'execute', info: { slot: 1, cmd } }]);
    p3.handle(1, chosen, 5);
    expect(p3.drain()).toEqual([]); // a duplicate commit is ignored
  });

  test('a stale ballot is refused with MNack and late acks for a finished slot do nothing', () => {
    const { p1, p2 } = processes();
    p2.handle(1, { type: 'MAccept', ballot: 0, slot: 1, cmd: put(1, 1, 'x', 'a') }, 0);
    expect(p2.drain()).toEqual([{ kind: 'send', to: [1], msg: { type: 'MNack', ballot: 1 } }]);
    expect(p2.acceptedSlots).toBe(0);
    p1.submit(put(1, 1, 'x', 'a'), 0);
    p1.drain();
    p1.handle(1, { type: 'MAccepted', ballot: 1, slot: 1 }, 1);
    p1.handle(2, { type: 'MAccepted', ballot: 1, slot: 1 }, 1);
    expect(p1.drain()).toHaveLength(1);
    p1.handle(3, { type: 'MAccepted', ballot: 1, slot: 1 }, 1);
    expect(p1.drain()).toEqual([]);
  });

  test('garbage collection drops slots committed at every process', () => {
    const { p2 } = processes();
    const cmd = put(1, 1, 'x', 'a');
    p2.handle(1, { type: 'MAccept', ballot: 1, slot: 1, cmd }, 0);
    p2.handle(1, { type: 'MChosen', slot: 1, cmd }, 1);
    expect(p2.acceptedSlots).toBe(1);
    p2.handle(1, { type: 'MGarbageCollection', committed: 1 }, 2);
    expect(p2.acceptedSlots).toBe(1); // process 3 has not reported yet
    p2.handle(3, { type: 'MGarbageCollection', committed: 1 }, 3);
    expect(p2.acceptedSlots).toBe(0);
    expect(p2.garbageCollectedUpTo).toBe(1);
    p2.handle(3, { type: 'MGarbageCollection', committed: 0 }, 4); // reordered, older report
    expect(p2.garbageCollectedUpTo).toBe(1);
  });

  test('the slot executor runs slots in order, buffers gaps, and runs a rifl once', () => {
    const executor = new SlotExecutor(1);
    const a = put(1, 1, 'x', 'a');
    const b = get(2, 1, 'x');
    executor.handle({ slot: 2, cmd: b }, 0);
    expect(executor.drain()).toEqual([]);
    executor.handle({ slot: 1, cmd: a }, 0);
    expect(executor.drain()).toEqual([
      { rifl: a.rifl, key: 'x', results: [null] },
      { rifl: b.rifl, key: 'x', results: ['a'] },
    ]);
    executor.handle({ slot: 3, cmd: a }, 0); // the same rifl chosen again (a client retry)
    expect(executor.drain()).toEqual([]);
    expect(executor.executedUpTo).toBe(3);
  });
});

describe('Replica around FPaxos', () => {
  test('self-delivery, routing to the executor and the client reply', () => {
    const replicas = [1, 2, 3].map((id) => {
      const process = new FPaxosProcess(id, config);
      return new Replica<FPaxosMessage, SlotInfo>(process, { executors: [new SlotExecutor(id)] });
    });
    replicas[0]!.process.discover([1, 2, 3]);
    replicas[1]!.process.discover([2, 1, 3]);
    replicas[2]!.process.discover([3, 1, 2]);
    const cmd = put(9, 1, 'k', 'v');
    const leader = replicas[0]!;
    leader.submit(cmd, 0);
    // The leader accepted its own MAccept at once; only process 2 remains to be asked.
    expect(leader.drain()).toEqual([{ kind: 'send', to: [2], msg: { type: 'MAccept', ballot: 1, slot: 1, cmd } }]);
    replicas[1]!.handle(1, { type: 'MAccept', ballot: 1, slot: 1, cmd }, 1);
    expect(replicas[1]!.drain()).toEqual([{ kind: 'send', to: [1], msg: { type: 'MAccepted', ballot: 1, slot: 1 } }]);
    leader.handle(2, { type: 'MAccepted', ballot: 1, slot: 1 }, 2);
    expect(leader.drain()).toEqual([
      { kind: 'send', to: [2, 3], msg: { type: 'MChosen', slot: 1, cmd } },
      { kind: 'reply', rifl: cmd.rifl, results: [{ rifl: cmd.rifl, key: 'k', results: [null] }] },
    ]);
    expect(leader.pendingCount).toBe(0);
    // A follower executes too, but no client of its own waits: no reply.
    replicas[2]!.handle(1, { type: 'MChosen', slot: 1, cmd }, 3);
    expect(replicas[2]!.drain()).toEqual([]);
  });

  test('a multi-key command is answered once every key has a result', () => {
    const process = new FPaxosProcess(1, makeConfig('fpaxos', { n: 3, f: 1 }));
    const replica = new Replica<FPaxosMessage, SlotInfo>(process, { executors: [new SlotExecutor(1)] });
    process.discover([1, 2, 3]);
    const cmd = makeCommand(makeRifl(3, 1), [
      { key: 'b', ops: [{ op: 'put', value: '2' }] },
      { key: 'a', ops: [{ op: 'put', value: '1' }, { op: 'get' }] },
    ]);
    replica.submit(cmd, 0);
    replica.drain();
    replica.handle(2, { type: 'MAccepted', ballot: 1, slot: 1 }, 1);
    const outputs = replica.drain();
    expect(outputs[1]).toEqual({
      kind: 'reply',
      rifl: cmd.rifl,
      results: [
        { rifl: cmd.rifl, key: 'a', results: [null, '1'] },
        { rifl: cmd.rifl, key: 'b', results: [null] },
      ],
    });
  });
});
