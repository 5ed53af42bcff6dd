/**
 * Tempo's executor infos and answers as compact binary, for executor shards on worker threads
 * (runtime/shard-channel.ts). All fields little-endian; a string is a u32 byte length and UTF-8.
 *
 * Keys are interned: the main thread numbers every key it meets (one table for all shards) and
 * writes a key definition into a shard's task stream the first time that shard needs the key; after
 * that the key travels as its u32 id both ways. This relies on a shard's tasks running in the order
 * they were sealed (one thread per shard, at most one pool per replica). Dots, rifls and timestamps
 * are f64 holding safe integers, so every value a Dot or a clock can take is exact.
 *
 * Task (main → shard):
 *
 *     header   u32 TASK_MAGIC, u32 byteLength, u32 records, f64 now
 *     record   u8 tag, then by tag:
 *       KEY            u32 id, string key
 *       COMMITTED      u32 key id, f64 dot, f64 clock, f64 rifl,
 *                      u16 ops, per op: u8 code (GET | PUT string value | DELETE | CALL string name, string args),
 *                      u16 keys, then when keys > 1: u32 id per key (1 means the record's own key),
 *                      u16 votes, per vote: u16 by, f64 start, f64 end   (all on the record's key)
 *       DETACHED       u32 key id, u16 votes, votes as above
 *       STABLE_AT_KEY  u32 key id, f64 dot
 *
 * Answer (shard → main):
 *
 *     header   u32 ANSWER_MAGIC, u32 byteLength, u32 results, u32 shard infos
 *     result   u32 key id, f64 rifl, u16 values, per value: u8 NULL | u8 STRING string
 *     info     u32 key id, f64 dot        (a StableAtKey, routed to the key's shard by the main thread)
 *
 * Both readers refuse a buffer that does not follow this layout exactly (wrong magic, a length that
 * is not the buffer's, a read past the end, an unknown tag or op, a key id never defined, a number
 * that is not a safe integer, invalid UTF-8, bytes left over) with a one-line BinaryFormatError.
 * A refused task fails the host (the pool's onError): the shard may have applied the records before
 * the bad one, and a buffer the main thread wrote wrongly means a bug, not a peer's bad input.
 */
import type { Key, Op, OpResult } from '../core/command.js';
import type { Dot, ShardId } from '../core/ids.js';
import { invariant } from '../core/invariant.js';
import type { ExecutionResult, Executor } from '../core/process.js';
import { TableExecutor, tempoShardOfKey } from '../protocols/tempo/executor.js';
import type { TempoInfo, Vote } from '../protocols/tempo/messages.js';
import { ByteReader, ByteWriter } from './binary.js';
import type { ShardChannel, ShardCodec, ShardRunner } from './shard-channel.js';

/** "OTK1" and "OTA1" read as little-endian u32. */
export const TASK_MAGIC = 0x314b544f;
export const ANSWER_MAGIC = 0x3141544f;
const TASK_HEADER_BYTES = 20;
const ANSWER_HEADER_BYTES = 16;

const enum TaskTag {
  Key = 1,
  Committed = 2,
  Detached = 3,
  StableAtKey = 4,
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

/** Distinct keys one pool may intern (ids are u32; the executors' per-key state runs out long before). */
export const KEY_IDS_MAX = 1 << 26;
/** Operations, keys and votes per record (u16 counts). */
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
  private readonly keyIds = new Map<Key, number>();
  private readonly keyNames: Key[] = [];
  /** The shard of each key id. */
  private keyShards: Int32Array = new Int32Array(1024);
  /** Per shard, 1 for each key id already defined in that shard's stream. */
  private readonly defined: Uint8Array[] = [];
  private readonly writers: ByteWriter[] = [];
  private readonly records: number[] = [];
  private readonly infos: number[] = [];
  /** Key ids of a multi-key command, gathered before its record is written. */
  private readonly keyScratch: number[] = [];

  constructor(
    readonly shards: number,
    /** Interned keys at most (a limit; tests lower it). */
    private readonly keyIdsMax = KEY_IDS_MAX,
  ) {
    invariant(shards >= 1, () => `a channel needs at least one shard, not ${shards}`);
    for (let shard = 0; shard < shards; shard++) {
      this.defined.push(new Uint8Array(1024));
      this.writers.push(newTaskWriter(TASK_CAPACITY_BYTES));
      this.records.push(0);
      this.infos.push(0);
    }
  }

  /** Keys interned so far. */
  get keyCount(): number {
    return this.keyNames.length;
  }

  openInfos(shard: ShardId): number {
    return this.infos[shard]!;
  }

  openBytes(shard: ShardId): number {
    return this.writers[shard]!.offset - TASK_HEADER_BYTES;
  }

  write(shard: ShardId, info: TempoInfo): void {
    const id = this.intern(info.key);
    invariant(this.keyShards[id] === shard, () => `key ${info.key} belongs to shard ${this.keyShards[id]}, not ${shard}`);
    this.define(shard, id);
    switch (info.type) {
      case 'Committed': {
        const keys = info.keys;
        const keyCount = keys.length;
        invariant(keyCount >= 1 && keyCount <= COUNT_MAX, () => `Committed ${info.dot} on ${info.key} has ${keyCount} keys; accepted: 1..${COUNT_MAX}`);
        const scratch = this.keyScratch;
        scratch.length = 0;
        if (keyCount === 1) invariant(keys[0] === info.key, () => `Committed on ${info.key} lists only key ${keys[0]}`);
        else {
          for (let i = 0; i < keyCount; i++) {
            const other = this.intern(keys[i]!);
            this.define(shard, other);
            scratch.push(other);
          }
        }
        const ops = info.ops;
        invariant(ops.length <= COUNT_MAX, () => `Committed on ${info.key} has ${ops.length} operations; accepted: at most ${COUNT_MAX}`);
        const writer = this.writers[shard]!;
        writer.reserve(1 + 4 + 24 + 2);
        writer.u8(TaskTag.Committed);
        writer.u32(id);
        writer.f64(info.dot);
        writer.f64(info.clock);
        writer.f64(info.rifl);
        writer.u16(ops.length);
        for (let i = 0; i < ops.length; i++) writeOp(writer, ops[i]!);
        writer.reserve(2 + 4 * scratch.length);
        writer.u16(keyCount);
        for (let i = 0; i < scratch.length; i++) writer.u32(scratch[i]!);
        writeVotes(writer, info.key, info.votes);
        break;
      }
      case 'Detached': {
        const writer = this.writers[shard]!;
        writer.reserve(1 + 4);
        writer.u8(TaskTag.Detached);
        writer.u32(id);
        writeVotes(writer, info.key, info.votes);
        break;
      }
      case 'StableAtKey':
        this.writeStableAtKey(shard, id, info.dot);
        break;
    }
    this.records[shard]!++;
    this.infos[shard]!++;
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
    this.infos[shard] = 0;
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
    const results: ExecutionResult[] = new Array(resultCount);
    const names = this.keyNames;
    for (let r = 0; r < resultCount; r++) {
      reader.need(4 + 8 + 2, 'result');
      const key = names[reader.u32()];
      if (key === undefined) reader.fail(`result ${r} names a key id never defined`);
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
      reader.need(4 + 8, 'shard info');
      const id = reader.u32();
      if (id >= names.length) reader.fail(`shard info ${i} names a key id never defined`);
      const dot = reader.safeInteger('dot');
      const target = this.keyShards[id]!;
      this.define(target, id);
      this.writeStableAtKey(target, id, dot);
      this.records[target]!++;
      this.infos[target]!++;
    }
    if (reader.offset !== reader.length) reader.fail(`${reader.length - reader.offset} bytes left over after ${resultCount} results and ${infoCount} shard infos`);
    return results;
  }

  private intern(key: Key): number {
    const known = this.keyIds.get(key);
    if (known !== undefined) return known;
    const id = this.keyNames.length;
    invariant(id < this.keyIdsMax, () => `executor shards: more than ${this.keyIdsMax} distinct keys (KEY_IDS_MAX)`);
    this.keyIds.set(key, id);
    this.keyNames.push(key);
    if (id >= this.keyShards.length) this.keyShards = grownInt32(this.keyShards, id);
    this.keyShards[id] = tempoShardOfKey(key, this.shards);
    return id;
  }

  /** Writes the definition of key `id` into `shard`'s stream unless it is there already. */
  private define(shard: ShardId, id: number): void {
    let defined = this.defined[shard]!;
    if (id < defined.length && defined[id] === 1) return;
    if (id >= defined.length) this.defined[shard] = defined = grownUint8(defined, id);
    defined[id] = 1;
    const writer = this.writers[shard]!;
    writer.reserve(1 + 4);
    writer.u8(TaskTag.Key);
    writer.u32(id);
    writer.string(this.keyNames[id]!);
    this.records[shard]!++;
  }

  private writeStableAtKey(shard: ShardId, id: number, dot: Dot): void {
    const writer = this.writers[shard]!;
    writer.reserve(1 + 4 + 8);
    writer.u8(TaskTag.StableAtKey);
    writer.u32(id);
    writer.f64(dot);
  }
}

function newTaskWriter(capacityBytes: number): ByteWriter {
  const writer = new ByteWriter(capacityBytes);
  startTask(writer);
  return writer;
}

/** Leaves room for the header, filled in by `seal`. */
function startTask(writer: ByteWriter): void {
  writer.reserve(TASK_HEADER_BYTES);
  writer.u32(TASK_MAGIC);
  writer.offset = TASK_HEADER_BYTES;
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

function grownInt32(array: Int32Array, index: number): Int32Array {
  let length = array.length * 2;
  while (length <= index) length *= 2;
  const grown = new Int32Array(length);
  grown.set(array);
  return grown;
}

function grownUint8(array: Uint8Array, index: number): Uint8Array {
  let length = array.length * 2;
  while (length <= index) length *= 2;
  const grown = new Uint8Array(length);
  grown.set(array);
  return grown;
}

/** A worker thread's half, around one {@link TableExecutor} shard. */
export class TempoShardRunner implements ShardRunner {
  /** Key names by id, for the ids defined in this shard's stream. */
  private readonly keyNames: Key[] = [];
  private readonly keyIds = new Map<Key, number>();
  /** Per key id, the one-key list `[key]` single-key commands share (read-only in the executor). */
  private readonly singleKeys: (readonly Key[])[] = [];
  /** Votes of the record being read, flat: by, start, end. */
  private votes = new Float64Array(3 * 16);

  constructor(private readonly executor: TableExecutor) {}

  run(task: Uint8Array): Uint8Array {
    const reader: ByteReader = new ByteReader(task, 'executor task');
    reader.need(TASK_HEADER_BYTES, 'header');
    if (reader.u32() !== TASK_MAGIC) reader.fail('it does not start with the task magic number');
    const byteLength = reader.u32();
    if (byteLength !== reader.length) reader.fail(`its header says ${byteLength} bytes, the buffer has ${reader.length}`);
    const records = reader.u32();
    const now = reader.f64();
    for (let r = 0; r < records; r++) this.readRecord(reader, now);
    if (reader.offset !== reader.length) reader.fail(`${reader.length - reader.offset} bytes left over after ${records} records`);
    return this.answer();
  }

  private readRecord(reader: ByteReader, now: number): void {
    reader.need(1 + 4, 'record');
    const tag = reader.u8();
    const id = reader.u32();
    switch (tag) {
      case TaskTag.Key: {
        if (id >= KEY_IDS_MAX) reader.fail(`key id ${id} is not below KEY_IDS_MAX=${KEY_IDS_MAX}`);
        const key = reader.string('key');
        const known = this.keyNames[id];
        if (known !== undefined) reader.fail(`key id ${id} defined twice (as "${known}" and "${key}")`);
        this.keyNames[id] = key;
        this.keyIds.set(key, id);
        this.singleKeys[id] = Object.freeze([key]);
        return;
      }
      case TaskTag.Committed: {
        const key = this.keyName(reader, id);
        reader.need(24 + 2, 'Committed');
        const dot = reader.safeInteger('dot');
        const clock = reader.safeInteger('clock');
        const rifl = reader.safeInteger('rifl');
        const opCount = reader.u16();
        const ops: Op[] = new Array(opCount);
        for (let i = 0; i < opCount; i++) ops[i] = readOp(reader);
        reader.need(2, 'key count');
        const keyCount = reader.u16();
        let keys: readonly Key[];
        if (keyCount === 1) keys = this.singleKeys[id]!;
        else {
          if (keyCount === 0) reader.fail(`Committed ${dot} on key ${key} has no keys`);
          reader.need(4 * keyCount, 'keys');
          const list: Key[] = new Array(keyCount);
          for (let i = 0; i < keyCount; i++) list[i] = this.keyName(reader, reader.u32());
          keys = list;
        }
        const voteCount = this.readVotes(reader);
        this.executor.handleCommittedFields(key, dot, clock, rifl, ops, keys, this.votes, voteCount);
        return;
      }
      case TaskTag.Detached: {
        const key = this.keyName(reader, id);
        const voteCount = this.readVotes(reader);
        const votes: Vote[] = new Array(voteCount);
        const flat = this.votes;
        for (let i = 0; i < voteCount; i++) votes[i] = { key, by: flat[3 * i]!, start: flat[3 * i + 1]!, end: flat[3 * i + 2]! };
        this.executor.handle({ type: 'Detached', key, votes }, now);
        return;
      }
      case TaskTag.StableAtKey: {
        const key = this.keyName(reader, id);
        reader.need(8, 'StableAtKey');
        this.executor.handle({ type: 'StableAtKey', key, dot: reader.safeInteger('dot') }, now);
        return;
      }
      default:
        reader.fail(`record tag ${tag} at offset ${reader.offset - 5}; accepted: ${TaskTag.Key} (key), ${TaskTag.Committed} (Committed), ${TaskTag.Detached} (Detached), ${TaskTag.StableAtKey} (StableAtKey)`);
    }
  }

  private keyName(reader: ByteReader, id: number): Key {
    const key = this.keyNames[id];
    if (key === undefined) reader.fail(`key id ${id} at offset ${reader.offset - 4} was never defined`);
    return key;
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

  private answer(): Uint8Array {
    const results = this.executor.drain();
    const infos = this.executor.drainShardInfos();
    const writer = new ByteWriter(ANSWER_HEADER_BYTES + results.length * 16 + infos.length * 12 + 16);
    writer.u32(ANSWER_MAGIC);
    writer.u32(0);
    writer.u32(results.length);
    writer.u32(infos.length);
    const keyIds = this.keyIds;
    for (let r = 0; r < results.length; r++) {
      const result = results[r]!;
      const values = result.results;
      invariant(values.length <= COUNT_MAX, () => `${values.length} results on key ${result.key}; accepted: at most ${COUNT_MAX}`);
      writer.reserve(4 + 8 + 2 + values.length);
      writer.u32(keyIds.get(result.key)!);
      writer.f64(result.rifl);
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
    }
    for (let i = 0; i < infos.length; i++) {
      const info = infos[i]!;
      const id = keyIds.get(info.key);
      // A StableAtKey names another key of a command this shard received, so its id is defined here.
      invariant(id !== undefined, () => `StableAtKey for key ${info.key}, which this shard never received`);
      writer.reserve(4 + 8);
      writer.u32(id);
      writer.f64(info.dot);
    }
    writer.u32At(4, writer.offset);
    return writer.take(0);
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
