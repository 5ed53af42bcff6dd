/**
 * How infos reach executor shards on worker threads and how their answers come back
 * (runtime/executor-pool.ts): a protocol-aware binary layout per key-partitioned executor, written
 * straight into transferable buffers. A generic codec (msgpack) cost the main thread 2.5–4 µs per
 * command, a third to a half of all the work, which left too little for the shards to parallelize
 * on two cores (docs/runtime.md, "Executors on worker threads").
 *
 * The main thread holds one {@link ShardChannel} for all shards; each worker thread holds one
 * {@link ShardRunner} around its executor. Tasks of one shard are sealed and run in order, and the
 * layout may rely on that (state defined once per shard stream, e.g. interned keys).
 */
import type { ShardId } from '../core/ids.js';
import type { ExecutionResult, Executor } from '../core/process.js';
import { tempoShardCodec } from './tempo-shard-codec.js';

/** The main thread's half: encodes infos into per-shard tasks and reads the shards' answers. */
export interface ShardChannel<Info> {
  /** Appends `info`, which `shard` owns, to that shard's open task. */
  write(shard: ShardId, info: Info): void;
  /** Infos in `shard`'s open task. */
  openInfos(shard: ShardId): number;
  /** Bytes in `shard`'s open task. */
  openBytes(shard: ShardId): number;
  /** Closes `shard`'s open task and hands its bytes over (to transfer); the next write opens another. */
  seal(shard: ShardId, now: number): Uint8Array;
  /**
   * Reads one answer of `shard`: returns its partial results, in the order the shard produced them,
   * and appends the infos it addressed to shards to their owners' open tasks (FIFO behind what is
   * there). Throws on a malformed answer.
   */
  readAnswer(shard: ShardId, answer: Uint8Array): readonly ExecutionResult[];
}

/** A worker thread's half: runs one task against its shard and encodes the answer. */
export interface ShardRunner {
  /** Throws on a malformed task, before the executor sees any of its infos. */
  run(task: Uint8Array): Uint8Array;
}

/** Both halves of one protocol's layout. */
export interface ShardCodec {
  createChannel(shards: number): ShardChannel<unknown>;
  /** `executor` is the protocol's own shard executor (the runner may use its concrete class). */
  createRunner(executor: Executor<unknown>): ShardRunner;
}

const CODECS: Readonly<Record<string, ShardCodec>> = { tempo: tempoShardCodec };

/** The layout for `protocol`'s executor shards, or undefined when it has none (its executor runs inline). */
export function shardCodecFor(protocol: string): ShardCodec | undefined {
  return Object.hasOwn(CODECS, protocol) ? CODECS[protocol] : undefined;
}
