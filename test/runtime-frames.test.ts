import { pack } from 'msgpackr';
import { describe, expect, test } from 'vitest';
import { frame, FrameError, FrameReader, MSGPACK_CODEC } from '../runtime/codec.js';
import { frameCheck, protocolMessageCheck } from '../runtime/schema.js';
import { expectNoOrphans, poke, runCluster, runtimeOptions } from './support/runtime.js';

const encode = (value: unknown) => frame(MSGPACK_CODEC.encode(value));

describe('frames', () => {
  test('the reader reassembles frames split anywhere and refuses empty and oversized lengths', () => {
    const bytes = Buffer.concat([encode({ k: 'hb' }), encode({ k: 'msgs', msgs: [{ type: 'x' }] })]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const reader = new FrameReader(1024);
      const payloads = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(payloads.map((p) => MSGPACK_CODEC.decode(p))).toEqual([{ k: 'hb' }, { k: 'msgs', msgs: [{ type: 'x' }] }]);
      expect(reader.pendingBytes).toBe(0);
    }
    expect(() => new FrameReader(1024).push(Buffer.from([0, 0, 0, 0]))).toThrow(FrameError);
    expect(() => new FrameReader(1024).push(Buffer.from([0, 0, 4, 1]))).toThrow(/oversized frame: 1025 bytes exceeds the limit frameBytesMax=1024/);
  });

  test('shape checks name the first problem and refuse unknown kinds, unknown messages and extra fields', () => {
    const check = frameCheck(protocolMessageCheck('tempo', 3)!, 3);
    const cmd = { rifl: 2 ** 32 + 1, keys: [{ key: 'a', ops: [{ op: 'put', value: 'v' }] }], payloadBytes: 0 };
    expect(check({ k: 'submit', cmds: [{ cmd, retry: false }] }, 'frame')).toBeNull();
    expect(check({ k: 'msgs', msgs: [{ type: 'MCollect', dot: 5, cmd, quorum: [1, 2], clock: 3 }] }, 'frame')).toBeNull();
    // The sender's configuration number rides with a batch of peer messages.
    expect(check({ k: 'msgs', e: 2, msgs: [{ type: 'MDetached', votes: [] }] }, 'frame')).toBeNull();
    expect(check({ k: 'msgs', e: -1, msgs: [] }, 'frame')).toMatch(/^frame\.e: expected an integer from 0/);
    expect(check({ k: 'nope' }, 'frame')).toMatch(/^frame: unknown frame kind "nope"; accepted: hello, msgs, hb, submit, reply, admin, answer$/);
    expect(check({ k: 'msgs', msgs: [{ type: 'MPropose' }] }, 'frame')).toMatch(/^frame\.msgs\[0\]: unknown tempo message type "MPropose"/);
    expect(check({ k: 'msgs', msgs: [{ type: 'MCollect', dot: 5, cmd, quorum: [1, 9], clock: 3 }] }, 'frame')).toBe('frame.msgs[0].quorum[1]: expected an integer from 1 to 3');
    expect(check({ k: 'msgs', msgs: [{ type: 'MDetached', votes: [], extra: 1 }] }, 'frame')).toBe("frame.msgs[0]: unexpected field 'extra'");
    const unsorted = { ...cmd, keys: [{ key: 'b', ops: [{ op: 'get' }] }, { key: 'a', ops: [{ op: 'get' }] }] };
    expect(check({ k: 'submit', cmds: [{ cmd: unsorted, retry: false }] }, 'frame')).toBe('frame.cmds[0].cmd.keys: keys must be unique and sorted ascending');
    expect(check({ k: 'hello', role: 'peer', id: 4 }, 'frame')).toBe('frame.id: expected an integer from 1 to 3');
  });
});

describe('bad frames on a live cluster', () => {
  test('malformed, truncated, oversized, unknown and out-of-order frames are refused with a log line; everyone else is served', async () => {
    const pids: number[] = [];
    const options = runtimeOptions({
      protocol: 'tempo',
      workload: { commandsPerClient: 30, conflictRate: 30, sharedKeys: 2 },
      extra: {
        onChild: (pid) => pids.push(pid),
        frameBytesMax: 64 * 1024,
        beforeClients: async (addresses) => {
          const port = addresses[0]!.port;
          const helloPeer = encode({ k: 'hello', role: 'peer', id: 2 });
          const helloClient = encode({ k: 'hello', role: 'client', id: 9 });
          const garbage = Buffer.from([0, 0, 0, 3, 0xc1, 0xc1, 0xc1]); // 0xc1 is never used in msgpack
          const oversized = Buffer.from([0, 1, 0, 1]); // 65537 bytes > 64 KiB
          const truncated = encode({ k: 'hb' }).subarray(0, 5);
          await Promise.all([
            poke(port, [helloPeer, garbage]),
            poke(port, [oversized]),
            poke(port, [helloPeer, truncated], true),
            poke(port, [encode({ k: 'gossip' })]),
            poke(port, [helloPeer, encode({ k: 'msgs', msgs: [{ type: 'MNope', dot: 1 }] })]),
            poke(port, [helloPeer, encode({ k: 'msgs', msgs: [{ type: 'MCommit', dot: 'x', clock: 1, votes: [] }] })]),
            poke(port, [encode({ k: 'submit', cmds: [] })]),
            poke(port, [helloClient, encode({ k: 'msgs', msgs: [] })]),
            poke(port, [frame(pack('not an object'))]),
          ]);
        },
      },
    });
    const run = await runCluster(options);
    const refused = options.logs.filter((line) => line.startsWith('[replica 1] refused a frame'));
    expect(refused).toHaveLength(9);
    const text = refused.join('\n');
    expect(text).toMatch(/from peer 2: malformed frame/);
    expect(text).toMatch(/oversized frame: 65537 bytes exceeds the limit frameBytesMax=65536/);
    expect(text).toMatch(/from peer 2: truncated frame: the connection ended after 1 of 8 payload bytes/);
    expect(text).toMatch(/unknown frame kind "gossip"/);
    expect(text).toMatch(/unknown tempo message type "MNope"/);
    expect(text).toMatch(/frame\.msgs\[0\]\.dot: expected an integer/);
    expect(text).toMatch(/expected a hello frame first, got 'submit'/);
    expect(text).toMatch(/from client 9: a client may send submit frames, not 'msgs'/);
    expect(text).toMatch(/: frame: expected an object; closing/);
    for (const line of refused) expect(line).toMatch(/; closing that connection$/);
    // The cluster served its real clients and peers throughout.
    expect(run.result.commandsCompleted).toBe(3 * 3 * 30);
    expect(run.replicas.get(1)!.refusedFrames).toBe(9);
    expect(options.logs.filter((l) => /fatal/.test(l))).toEqual([]);
    expectNoOrphans(pids);
  });
});
