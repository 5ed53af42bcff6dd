import { describe, expect, test } from 'vitest';
import type { Key, Op } from '../core/command.js';
import { makeDot, makeRifl, type Dot, type Rifl } from '../core/ids.js';
import type { ExecutionResult, Time } from '../core/process.js';
import { TableExecutor, tempoShardOf } from '../protocols/tempo/executor.js';
import type { Committed, TempoInfo } from '../protocols/tempo/messages.js';
import { BinaryFormatError, ByteReader, ByteWriter } from '../runtime/binary.js';
import { shardCodecFor } from '../runtime/shard-channel.js';
import { tempoLoad } from '../runtime/tempo-load.js';
import { ANSWER_MAGIC, TASK_MAGIC, TempoShardChannel, TempoShardRunner } from '../runtime/tempo-shard-codec.js';

/** A table executor that records every info as the runner hands it over, rebuilt as plain data. */
class RecordingExecutor extends TableExecutor {
  readonly received: TempoInfo[] = [];

  constructor() {
    super(1, 3);
  }

  override handle(info: TempoInfo, now: Time): void {
    this.received.push(info);
    super.handle(info, now);
  }

  override handleCommittedFields(key: Key, dot: Dot, clock: number, rifl: Rifl, ops: readonly Op[], keys: readonly Key[], votes: ArrayLike<number>, voteCount: number): void {
    const rebuilt: Committed = { type: 'Committed', key, dot, clock, rifl, ops: [...ops], keys: [...keys], votes: [] };
    for (let i = 0; i < voteCount; i++) (rebuilt.votes as unknown[]).push({ key, by: votes[3 * i], start: votes[3 * i + 1], end: votes[3 * i + 2] });
    this.received.push(rebuilt);
    super.handleCommittedFields(key, dot, clock, rifl, ops, keys, votes, voteCount);
  }
}

/** Infos of every kind and shape the layout has: all op kinds, multi-key, non-ASCII and long strings. */
function assortedInfos(): TempoInfo[] {
  const long = 'x'.repeat(5000);
  return [
    { type: 'Committed', key: 'a', dot: makeDot(1, 1), clock: 1, rifl: makeRifl(1, 1), ops: [{ op: 'put', value: 'v1' }], keys: ['a'], votes: [1, 2, 3].map((by) => ({ key: 'a', by, start: 1, end: 1 })) },
    { type: 'Committed', key: 'a', dot: makeDot(2, 1), clock: 2, rifl: makeRifl(2, 1), ops: [{ op: 'get' }, { op: 'delete' }, { op: 'put', value: 'ünïcødé ✓ 𝄞' }, { op: 'get' }], keys: ['a'], votes: [{ key: 'a', by: 2, start: 2, end: 2 }] },
    { type: 'Committed', key: 'a', dot: makeDot(3, 4_000_000_000), clock: 2 ** 40, rifl: makeRifl(0x1f_ffff, 7), ops: [{ op: 'put', value: long }], keys: ['a', 'b/ключ', 'c'], votes: [] },
    { type: 'Committed', key: 'a', dot: makeDot(1, 2), clock: 3, rifl: makeRifl(3, 1), ops: [{ op: 'call', name: 'propose', args: '{"x":[1,2]}' }, { op: 'put', value: '' }], keys: ['a'], votes: [{ key: 'a', by: 1, start: 3, end: 9 }] },
    { type: 'Detached', key: 'a', votes: [{ key: 'a', by: 3, start: 4, end: 12 }, { key: 'a', by: 1, start: 20, end: 25 }] },
    { type: 'Detached', key: 'a', votes: [] },
    { type: 'StableAtKey', key: 'a', dot: makeDot(3, 4_000_000_000) },
  ];
}

function encodeTask(infos: readonly TempoInfo[], now = 5): Uint8Array {
  const channel = new TempoShardChannel(1);
  for (const info of infos) channel.write(0, info);
  expect(channel.openInfos(0)).toBe(infos.length);
  return channel.seal(0, now);
}

/** A copy of `bytes` over a buffer of its own (tests mutate and cut it). */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

describe('Tempo shard layout: round trips', () => {
  test('every info kind reaches the executor exactly as written, in order', () => {
    const infos = assortedInfos();
    const executor = new RecordingExecutor();
    new TempoShardRunner(executor).run(encodeTask(infos));
    expect(executor.received).toEqual(infos);
  });

  test('a load through channel, runner and answer gives the results and shard infos of an executor fed directly', () => {
    const load = { commands: 3000, keys: 40, n: 3, multiKeyEvery: 3, seed: 'codec', chunk: 250 } as const;
    // Reference: one executor fed the infos as they are; its shard infos fed back to it, as a replica does.
    const reference = new TableExecutor(1, 3);
    const expected: ExecutionResult[] = [];
    for (const chunk of tempoLoad(load)) {
      let pending: readonly TempoInfo[] = chunk;
      while (pending.length > 0) {
        for (const info of pending) reference.handle(info, 0);
        expected.push(...reference.drain());
        pending = reference.drainShardInfos();
      }
    }
    // Through bytes: one shard, so the order must be identical; each answer's StableAtKey goes back in.
    const channel = new TempoShardChannel(1);
    const runner = new TempoShardRunner(new TableExecutor(1, 3));
    const got: ExecutionResult[] = [];
    let stableAtKeys = 0;
    for (const chunk of tempoLoad(load)) {
      for (const info of chunk) channel.write(0, info);
      while (channel.openInfos(0) > 0) {
        const answer = runner.run(channel.seal(0, 0));
        got.push(...channel.readAnswer(0, answer));
        stableAtKeys += channel.openInfos(0);
      }
    }
    expect(stableAtKeys).toBeGreaterThan(100);
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
  });

  test('answers carry null, empty, non-ASCII and long results', () => {
    const executor = new TableExecutor(1, 3);
    const runner = new TempoShardRunner(executor);
    const channel = new TempoShardChannel(1);
    const votes = (key: string, clock: number) => [1, 2, 3].map((by) => ({ key, by, start: clock, end: clock }));
    const values = ['', 'ünïcødé ✓ 𝄞', 'y'.repeat(3000)];
    values.forEach((value, i) => channel.write(0, { type: 'Committed', key: 'k', dot: makeDot(1, i + 1), clock: i + 1, rifl: makeRifl(1, i + 1), ops: [{ op: 'get' }, { op: 'put', value }, { op: 'get' }], keys: ['k'], votes: votes('k', i + 1) }));
    const results = channel.readAnswer(0, runner.run(channel.seal(0, 0)));
    expect(results).toEqual([
      { rifl: makeRifl(1, 1), key: 'k', results: [null, null, ''] },
      { rifl: makeRifl(1, 2), key: 'k', results: ['', null, values[1]] },
      { rifl: makeRifl(1, 3), key: 'k', results: [values[1], null, values[2]] },
    ]);
  });

  test("an answer's StableAtKey is written into the task of the shard that owns its key", () => {
    const shards = 3;
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'].sort();
    const info: Committed = { type: 'Committed', key: keys[0]!, dot: makeDot(1, 1), clock: 1, rifl: makeRifl(1, 1), ops: [{ op: 'put', value: 'v' }], keys, votes: [1, 2, 3].map((by) => ({ key: keys[0]!, by, start: 1, end: 1 })) };
    const owner = tempoShardOf(info, shards);
    const channel = new TempoShardChannel(shards);
    channel.write(owner, info);
    const answer = new TempoShardRunner(new TableExecutor(1, 3)).run(channel.seal(owner, 0));
    expect(channel.readAnswer(owner, answer)).toEqual([]); // waits for the other keys
    const expectedPerShard = new Array<number>(shards).fill(0);
    for (const other of keys.slice(1)) expectedPerShard[tempoShardOf({ type: 'StableAtKey', key: other, dot: 0 }, shards)]!++;
    expect(expectedPerShard.filter((count) => count > 0).length).toBeGreaterThan(1); // the keys really spread
    for (let shard = 0; shard < shards; shard++) {
      expect(channel.openInfos(shard)).toBe(expectedPerShard[shard]);
      const executor = new RecordingExecutor();
      new TempoShardRunner(executor).run(channel.seal(shard, 0));
      for (const received of executor.received) {
        expect(received).toEqual({ type: 'StableAtKey', key: received.key, dot: info.dot });
        expect(tempoShardOf(received, shards)).toBe(shard);
      }
    }
  });

  test('tasks grow past their initial buffer and start the next one empty', () => {
    const channel = new TempoShardChannel(1);
    const big: TempoInfo = { type: 'Committed', key: 'k', dot: makeDot(1, 1), clock: 1, rifl: makeRifl(1, 1), ops: [{ op: 'put', value: 'z'.repeat(200_000) }], keys: ['k'], votes: [] };
    channel.write(0, big);
    expect(channel.openBytes(0)).toBeGreaterThan(200_000);
    const executor = new RecordingExecutor();
    new TempoShardRunner(executor).run(channel.seal(0, 0));
    expect(executor.received).toEqual([big]);
    expect(channel.openInfos(0)).toBe(0);
    expect(channel.openBytes(0)).toBe(0);
  });

  test('protocols with a layout: tempo only', () => {
    expect(shardCodecFor('tempo')).toBeDefined();
    for (const protocol of ['fpaxos', 'epaxos', 'atlas', 'toString', 'nope']) expect(shardCodecFor(protocol)).toBeUndefined();
  });
});

describe('Tempo shard layout: malformed buffers are refused', () => {
  const run = (task: Uint8Array) => new TempoShardRunner(new TableExecutor(1, 3)).run(task);
  const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  test('every truncation of a task, with its header length left or corrected', () => {
    const task = encodeTask(assortedInfos());
    for (let cut = 0; cut < task.length; cut++) {
      const prefix = copy(task.subarray(0, cut));
      expect(() => run(prefix)).toThrow(BinaryFormatError);
      if (cut >= 8) {
        view(prefix).setUint32(4, cut, true);
        expect(() => run(prefix)).toThrow(BinaryFormatError);
      }
    }
  });

  test('wrong magic, wrong length, leftover bytes, too few records, an unknown tag or op, a bad number, bad UTF-8', () => {
    const task = encodeTask(assortedInfos());
    const mutated = (change: (bytes: Uint8Array) => Uint8Array | void) => {
      const bytes = copy(task);
      return change(bytes) ?? bytes;
    };
    // The first record starts after the 20-byte header: tag, then the key "a" as u32 length + 1 byte.
    const firstTag = 20;
    const firstDot = firstTag + 1 + 4 + 1;
    const cases: Array<[string, Uint8Array, RegExp]> = [
      ['magic', mutated((b) => void view(b).setUint32(0, ANSWER_MAGIC, true)), /task magic/],
      ['length', mutated((b) => void view(b).setUint32(4, task.length + 1, true)), /header says/],
      ['leftover', mutated((b) => void view(b).setUint32(8, 6, true)), /bytes left over after 6 records/],
      ['more records than bytes', mutated((b) => void view(b).setUint32(8, 8, true)), /needs 1 bytes at offset/],
      ['tag', mutated((b) => void (b[firstTag] = 9)), /record tag 9 at offset 20; accepted/],
      ['op code', mutated((b) => void (b[firstDot + 24 + 2] = 7)), /operation code 7/],
      ['dot not an integer', mutated((b) => void view(b).setFloat64(firstDot, 1.5, true)), /dot at offset 26 is 1.5/],
      ['dot NaN', mutated((b) => void view(b).setFloat64(firstDot, Number.NaN, true)), /is NaN/],
      ['clock negative', mutated((b) => void view(b).setFloat64(firstDot + 8, -1, true)), /clock .* is -1/],
      ['key bytes not UTF-8', mutated((b) => void (b[firstTag + 5] = 0xff)), /key at offset 25 is not valid UTF-8/],
      ['key length past the end', mutated((b) => void view(b).setUint32(firstTag + 1, 1 << 30, true)), /key needs 1073741824 bytes/],
    ];
    for (const [name, bytes, message] of cases) {
      expect(() => run(bytes), name).toThrow(BinaryFormatError);
      expect(() => run(bytes), name).toThrow(message);
    }
  });

  test('answers: truncations, wrong magic, a bad value tag, counts the buffer cannot hold', () => {
    const channel = new TempoShardChannel(1);
    channel.write(0, { type: 'Committed', key: 'k', dot: makeDot(1, 1), clock: 1, rifl: makeRifl(1, 1), ops: [{ op: 'put', value: 'v' }, { op: 'get' }], keys: ['k', 'm'], votes: [1, 2, 3].map((by) => ({ key: 'k', by, start: 1, end: 1 })) });
    channel.write(0, { type: 'Committed', key: 'm', dot: makeDot(1, 1), clock: 1, rifl: makeRifl(1, 1), ops: [{ op: 'put', value: 'w' }], keys: ['k', 'm'], votes: [1, 2, 3].map((by) => ({ key: 'm', by, start: 1, end: 1 })) });
    const runner = new TempoShardRunner(new TableExecutor(1, 3));
    const answer = runner.run(channel.seal(0, 0)); // two StableAtKey, no results yet
    const results = channel.readAnswer(0, copy(answer));
    expect(results).toEqual([]);
    const second = runner.run(channel.seal(0, 0)); // both parts run
    expect(channel.readAnswer(0, copy(second)).map((r) => r.key).sort()).toEqual(['k', 'm']);
    const read = (bytes: Uint8Array) => new TempoShardChannel(1).readAnswer(0, bytes);
    for (const valid of [answer, second]) {
      for (let cut = 0; cut < valid.length; cut++) {
        const prefix = copy(valid.subarray(0, cut));
        if (cut >= 8) view(prefix).setUint32(4, cut, true);
        expect(() => read(prefix)).toThrow(BinaryFormatError);
      }
    }
    const bad = copy(second);
    view(bad).setUint32(0, TASK_MAGIC, true);
    expect(() => read(bad)).toThrow(/answer magic/);
    const badTag = copy(second);
    // Header 16, then the first result: key "k" (4 + 1), rifl (8), count (2), then its first value's tag.
    badTag[16 + 5 + 8 + 2] = 5;
    expect(() => read(badTag)).toThrow(/result value tag 5/);
    const huge = copy(second);
    view(huge).setUint32(8, 0xffff_ffff, true);
    expect(() => read(huge)).toThrow(/results, more than/);
  });

  test('a string that is not UTF-8 is refused by the reader, whatever its length', () => {
    for (const length of [1, 31, 32, 33, 200]) {
      const writer = new ByteWriter(16);
      writer.string('a'.repeat(length));
      const bytes = writer.finish();
      bytes[4 + length - 1] = 0xc3; // a lead byte with no continuation
      expect(() => new ByteReader(bytes, 'test buffer').string('value')).toThrow('malformed test buffer: value at offset 4 is not valid UTF-8');
    }
  });
});
