/**
 * Tempo's executor infos and answers as compact binary, for executor shards on worker threads
 * (runtime/shard-channel.ts). All fields little-endian; a string is a u32 byte length and UTF-8.
 * Dots, rifls and timestamps are f64 holding safe integers, so every value they can take is exact.
 *
 * Task (main → shard):
 *
 *     header   u32 TASK_MAGIC, u32 byteLength, u32 records, f64 now
 *     record   u8 tag, string key, then by tag:
 *       COMMITTED      f64 dot, f64 clock, f64 rifl,
 *                      u16 ops, per op: u8 code (GET | PUT string value | DELETE | CALL string name, string args),
 *                      u16 keys, then when keys > 1 each key as a string (1 means the record's own key),
 *                      u16 votes, per vote: u16 by, f64 start, f64 end   (all on the record's key)
 *       DETACHED       u16 votes, votes as above
 *       STABLE_AT_KEY  f64 dot
 *
 * Answer (shard → main):
 *
 *     header   u32 ANSWER_MAGIC, u32 byteLength, u32 results, u32 shard infos
 *     result   string key, f64 rifl, u16 values, per value: u8 NULL | u8 STRING string
 *     info     string key, f64 dot        (a StableAtKey, routed to the key's shard by the main thread)
 *
 * Keys travel as strings both ways rather than as interned ids: a lookup in a table of every key
 * costs a cache miss or two per command once there are many keys (it took more main-thread time than
 * the rest of the encoding in bench:executor at 100,000 keys), while copying a short key's bytes does
 * not, and the shard looks the key up in its own state anyway.
 *
 * Both readers refuse a buffer that does not follow this layout exactly (wrong magic, a length that
 * is not the buffer's, a read past the end, an unknown tag or op, a number that is not a safe
 * integer, a count out of range, invalid UTF-8, bytes left over) with a one-line BinaryFormatError.
 * A refused task fails the host (the pool's onError): the shard may have applied the records before
 * the bad one, and a buffer the main thread wrote wrongly means a bug, not a peer's bad input.
 */
import type { Key, Op, OpResult } from '../core/command.js';
import type { Dot, Rifl, ShardId } from '../core/ids.js';
import { invariant } from '../core/invariant.js';
import type { ExecutionResult, Executor } from '../core/process.js';
import { TableExecutor, tempoShardOfKey, type ResultSink } from '../protocols/tempo/executor.js';
import type { TempoInfo, Vote } from '../protocols/tempo/messages.js';
import { ByteReader, ByteWriter } from './binary.js';
import type { ShardChannel, ShardCodec, ShardRunner } from './shard-channel.js';

/** "OTK1" and "OTA1" read as little-endian u32. */
export const TASK_MAGIC = 0x314b544f;
export const ANSWER_MAGIC = 0x3141544f;
const TASK_HEADER_BYTES = 20;
const ANSWER_HEADER_BYTES = 16;

const enum TaskTag {
  Committed = 1,
  Detached = 2,
  StableAtKey = 3,
}
const enum OpCode {
  Get = 0,
  Put = 1,
  Delete = 2,
  Call = 3,
}
const enum ValueTag {
  Null = 0,
  String = 1,
}

/** Operations, keys and votes per record, and values per result (u16 counts). */
const COUNT_MAX = 0xffff;
/** A new task buffer's size; it doubles while being written when needed. */
const TASK_CAPACITY_BYTES = 64 * 1024;
/** Bytes of a vote: u16 by, f64 start, f64 end. */
const VOTE_BYTES = 18;

const GET: Op = Object.freeze({ op: 'get' });
const DELETE: Op = Object.freeze({ op: 'delete' });
/** The results of a part whose single operation answered null (every put): one shared, frozen array. */
const ONE_NULL: readonly OpResult[] = Object.freeze([null]);

/** The main thread's half, for `shards` shards. */
export class TempoShardChannel implements ShardChannel<TempoInfo> {
  private readonly writers: ByteWriter[] = [];
  private readonly records: number[] = [];

  constructor(readonly shards: number) {
    invariant(shards >= 1, () => `a channel needs at least one shard, not ${shards}`);
    for (let shard = 0; shard < shards; shard++) {
      const writer = new ByteWriter(TASK_CAPACITY_BYTES);
      startTask(writer);
      this.writers.push(writer);
      this.records.push(0);
    }
  }

  openInfos(shard: ShardId): number {
    return this.records[shard]!;
  }

  openBytes(shard: ShardId): number {
    return this.writers[shard]!.offset - TASK_HEADER_BYTES;
  }

  /** The caller routed `info` with `tempoShardOf`; that is not checked again here (it would hash every key twice). */
  write(shard: ShardId, info: TempoInfo): void {
    const writer = this.writers[shard]!;
    switch (info.type) {
      case 'Committed': {
        const key = info.key;
        const { keys, ops, votes } = info;
        invariant(ops.length <= COUNT_MAX, () => `Committed on ${key} has ${ops.length} operations; accepted: at most ${COUNT_MAX}`);
        invariant(keys.length >= 1 && keys.length <= COUNT_MAX, () => `Committed on ${key} has ${keys.length} keys; accepted: 1..${COUNT_MAX}`);
        writer.reserve(1);
        writer.u8(TaskTag.Committed);
        writer.string(key);
        writer.reserve(24 + 2);
        writer.f64(info.dot);
        writer.f64(info.clock);
        writer.f64(info.rifl);
        writer.u16(ops.length);
        for (let i = 0; i < ops.length; i++) writeOp(writer, ops[i]!);
        writer.reserve(2);
        writer.u16(keys.length);
        if (keys.length === 1) invariant(keys[0] === key, () => `Committed on ${key} lists only key ${keys[0]}`);
        else for (let i = 0; i < keys.length; i++) writer.string(keys[i]!);
        writeVotes(writer, key, votes);
        break;
      }
      case 'Detached':
        writer.reserve(1);
        writer.u8(TaskTag.Detached);
        writer.string(info.key);
        writeVotes(writer, info.key, info.votes);
        break;
      case 'StableAtKey':
        writeStableAtKey(writer, info.key, info.dot);
        break;
    }
    this.records[shard]!++;
  }

  seal(shard: ShardId, now: number): Uint8Array {
    const writer = this.writers[shard]!;
    writer.u32At(4, writer.offset);
    writer.u32At(8, this.records[shard]!);
    writer.f64At(12, now);
    // The next task starts at the size this one reached: loads are steady, so it rarely grows.
    const task = writer.take(Math.max(TASK_CAPACITY_BYTES, writer.offset));
    startTask(writer);
    this.records[shard] = 0;
    return task;
  }

  readAnswer(shard: ShardId, answer: Uint8Array): readonly ExecutionResult[] {
    const reader: ByteReader = new ByteReader(answer, `executor answer from shard ${shard}`);
    reader.need(ANSWER_HEADER_BYTES, 'header');
    if (reader.u32() !== ANSWER_MAGIC) reader.fail('it does not start with the answer magic number');
    const byteLength = reader.u32();
    if (byteLength !== reader.length) reader.fail(`its header says ${byteLength} bytes, the buffer has ${reader.length}`);
    const resultCount = reader.u32();
    const infoCount = reader.u32();
    // Each result takes at least 15 bytes: a corrupt count must not allocate a huge array.
    if (resultCount * 15 > reader.length) reader.fail(`its header says ${resultCount} results, more than ${reader.length} bytes can hold`);
    const results: ExecutionResult[] = new Array(resultCount);
    for (let r = 0; r < resultCount; r++) {
      const key = reader.string('result key');
      reader.need(8 + 2, 'result');
      const rifl = reader.safeInteger('rifl');
      const valueCount = reader.u16();
      let values: readonly OpResult[];
      if (valueCount === 1 && reader.offset < reader.length && answer[reader.offset] === ValueTag.Null) {
        reader.offset++;
        values = ONE_NULL;
      } else {
        const read: OpResult[] = new Array(valueCount);
        for (let v = 0; v < valueCount; v++) read[v] = readValue(reader);
        values = read;
      }
      results[r] = { rifl, key, results: values };
    }
    for (let i = 0; i < infoCount; i++) {
      const key = reader.string('shard info key');
      reader.need(8, 'shard info');
      const dot = reader.safeInteger('dot');
      const target = tempoShardOfKey(key, this.shards);
      writeStableAtKey(this.writers[target]!, key, dot);
      this.records[target]!++;
    }
    if (reader.offset !== reader.length) reader.fail(`${reader.length - reader.offset} bytes left over after ${resultCount} results and ${infoCount} shard infos`);
    return results;
  }
}

/** Leaves room for the header, filled in by `seal`. */
function startTask(writer: ByteWriter): void {
  writer.reserve(TASK_HEADER_BYTES);
  writer.u32(TASK_MAGIC);
  writer.offset = TASK_HEADER_BYTES;
}

function writeStableAtKey(writer: ByteWriter, key: Key, dot: Dot): void {
  writer.reserve(1);
  writer.u8(TaskTag.StableAtKey);
  writer.string(key);
  writer.reserve(8);
  writer.f64(dot);
}

function writeOp(writer: ByteWriter, op: Op): void {
  writer.reserve(1);
  switch (op.op) {
    case 'get':
      writer.u8(OpCode.Get);
      return;
    case 'put':
      writer.u8(OpCode.Put);
      writer.string(op.value);
      return;
    case 'delete':
      writer.u8(OpCode.Delete);
      return;
    case 'call':
      writer.u8(OpCode.Call);
      writer.string(op.name);
      writer.string(op.args);
      return;
  }
}

function writeVotes(writer: ByteWriter, key: Key, votes: readonly Vote[]): void {
  const count = votes.length;
  invariant(count <= COUNT_MAX, () => `${count} votes on key ${key}; accepted: at most ${COUNT_MAX}`);
  writer.reserve(2 + count * VOTE_BYTES);
  writer.u16(count);
  for (let i = 0; i < count; i++) {
    const vote = votes[i]!;
    invariant(vote.key === key, () => `a vote on key ${vote.key} reached key ${key}`);
    writer.u16(vote.by);
    writer.f64(vote.start);
    writer.f64(vote.end);
  }
}

function readValue(reader: ByteReader): OpResult {
  reader.need(1, 'result value');
  const tag = reader.u8();
  if (tag === ValueTag.Null) return null;
  if (tag === ValueTag.String) return reader.string('result value');
  return reader.fail(`result value tag ${tag} at offset ${reader.offset - 1}; accepted: ${ValueTag.Null} (null), ${ValueTag.String} (string)`);
}

/**
 * A worker thread's half, around one {@link TableExecutor} shard. The executor hands it each result
 * as it is produced ({@link ResultSink}), written straight into the task's answer: no result objects
 * live until the end of a task (a task of thousands of them outlived young-generation collections
 * and was copied and promoted by them).
 */
export class TempoShardRunner implements ShardRunner, ResultSink {
  /** Votes of the record being read, flat: by, start, end. */
  private votes = new Float64Array(3 * 16);
  /** The answer of the task being run, and the results written into it. */
  private writer = new ByteWriter(TASK_CAPACITY_BYTES);
  private resultCount = 0;

  constructor(private readonly executor: TableExecutor) {
    executor.sendResultsTo(this);
  }

  run(task: Uint8Array): Uint8Array {
    const reader: ByteReader = new ByteReader(task, 'executor task');
    reader.need(TASK_HEADER_BYTES, 'header');
    if (reader.u32() !== TASK_MAGIC) reader.fail('it does not start with the task magic number');
    const byteLength = reader.u32();
    if (byteLength !== reader.length) reader.fail(`its header says ${byteLength} bytes, the buffer has ${reader.length}`);
    const records = reader.u32();
    const now = reader.f64();
    const writer = this.writer;
    writer.offset = 0; // a task refused half-way left its partial answer here
    writer.reserve(ANSWER_HEADER_BYTES);
    writer.u32(ANSWER_MAGIC);
    writer.offset = ANSWER_HEADER_BYTES;
    this.resultCount = 0;
    for (let r = 0; r < records; r++) this.readRecord(reader, now);
    if (reader.offset !== reader.length) reader.fail(`${reader.length - reader.offset} bytes left over after ${records} records`);
    return this.answer();
  }

  private readRecord(reader: ByteReader, now: number): void {
    reader.need(1, 'record');
    const at = reader.offset;
    const tag = reader.u8();
    switch (tag) {
      case TaskTag.Committed: {
        const key = reader.string('key');
        reader.need(24 + 2, 'Committed');
        const dot = reader.safeInteger('dot');
        const clock = reader.safeInteger('clock');
        const rifl = reader.safeInteger('rifl');
        const opCount = reader.u16();
        const ops: Op[] = new Array(opCount);
        for (let i = 0; i < opCount; i++) ops[i] = readOp(reader);
        reader.need(2, 'key count');
        const keyCount = reader.u16();
        let keys: Key[];
        if (keyCount === 1) keys = [key];
        else {
          if (keyCount === 0) reader.fail(`Committed at offset ${at} has no keys`);
          keys = new Array(keyCount);
          for (let i = 0; i < keyCount; i++) keys[i] = reader.string('key');
        }
        const voteCount = this.readVotes(reader);
        this.executor.handleCommittedFields(key, dot, clock, rifl, ops, keys, this.votes, voteCount);
        return;
      }
      case TaskTag.Detached: {
        const key = reader.string('key');
        const voteCount = this.readVotes(reader);
        const votes: Vote[] = new Array(voteCount);
        const flat = this.votes;
        for (let i = 0; i < voteCount; i++) votes[i] = { key, by: flat[3 * i]!, start: flat[3 * i + 1]!, end: flat[3 * i + 2]! };
        this.executor.handle({ type: 'Detached', key, votes }, now);
        return;
      }
      case TaskTag.StableAtKey: {
        const key = reader.string('key');
        reader.need(8, 'StableAtKey');
        this.executor.handle({ type: 'StableAtKey', key, dot: reader.safeInteger('dot') }, now);
        return;
      }
      default:
        reader.fail(`record tag ${tag} at offset ${at}; accepted: ${TaskTag.Committed} (Committed), ${TaskTag.Detached} (Detached), ${TaskTag.StableAtKey} (StableAtKey)`);
    }
  }

  /** Reads a vote list into `this.votes`; returns the count. */
  private readVotes(reader: ByteReader): number {
    reader.need(2, 'vote count');
    const count = reader.u16();
    reader.need(count * VOTE_BYTES, 'votes');
    if (this.votes.length < 3 * count) this.votes = new Float64Array(3 * count);
    const flat = this.votes;
    for (let i = 0; i < count; i++) {
      flat[3 * i] = reader.u16();
      flat[3 * i + 1] = reader.safeInteger('vote start');
      flat[3 * i + 2] = reader.safeInteger('vote end');
    }
    return count;
  }

  /** {@link ResultSink}: appends one result to the open answer. */
  result(rifl: Rifl, key: Key, values: readonly OpResult[]): void {
    invariant(values.length <= COUNT_MAX, () => `${values.length} results on key ${key}; accepted: at most ${COUNT_MAX}`);
    const writer = this.writer;
    writer.string(key);
    writer.reserve(8 + 2 + values.length);
    writer.f64(rifl);
    writer.u16(values.length);
    for (let v = 0; v < values.length; v++) {
      const value = values[v]!;
      writer.reserve(1);
      if (value === null) writer.u8(ValueTag.Null);
      else {
        writer.u8(ValueTag.String);
        writer.string(value);
      }
    }
    this.resultCount++;
  }

  private answer(): Uint8Array {
    const infos = this.executor.drainShardInfos();
    const writer = this.writer;
    for (let i = 0; i < infos.length; i++) {
      const info = infos[i]!;
      writer.string(info.key);
      writer.reserve(8);
      writer.f64(info.dot);
    }
    writer.u32At(4, writer.offset);
    writer.u32At(8, this.resultCount);
    writer.u32At(12, infos.length);
    // The answer is transferred; the next one starts at the size this one reached.
    return writer.take(Math.max(TASK_CAPACITY_BYTES, writer.offset));
  }
}

function readOp(reader: ByteReader): Op {
  reader.need(1, 'operation');
  const code = reader.u8();
  switch (code) {
    case OpCode.Get:
      return GET;
    case OpCode.Put:
      return { op: 'put', value: reader.string('put value') };
    case OpCode.Delete:
      return DELETE;
    case OpCode.Call: {
      const name = reader.string('call name');
      return { op: 'call', name, args: reader.string('call args') };
    }
    default:
      return reader.fail(`operation code ${code} at offset ${reader.offset - 1}; accepted: ${OpCode.Get} (get), ${OpCode.Put} (put), ${OpCode.Delete} (delete), ${OpCode.Call} (call)`);
  }
}

export const tempoShardCodec: ShardCodec = {
  createChannel: (shards) => new TempoShardChannel(shards) as ShardChannel<unknown>,
  createRunner: (executor: Executor<unknown>) => {
    invariant(executor instanceof TableExecutor, "tempo's executor shards must be TableExecutors");
    return new TempoShardRunner(executor);
  },
};
