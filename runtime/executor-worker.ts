/**
 * A worker thread that owns one executor shard (run by piscina, one thread per shard, so the shard's
 * state stays in this module between tasks). Each task is a batch of infos for this shard, in order;
 * the answer is the partial results and the infos the shard addresses to other shards, both in the
 * order produced. The main thread routes the latter with the protocol's `shardOf`.
 */
import { move, workerData } from 'piscina';
import { connectionCodec } from './codec.js';
import type { Config } from '../core/config.js';
import type { ExecutionResult, Executor } from '../core/process.js';
import { protocolByName } from '../protocols/index.js';

/** What the main thread tells a shard worker once, at start. */
export interface ShardWorkerData {
  readonly protocol: string;
  readonly process: number;
  readonly config: Config;
  readonly shard: number;
}

/**
 * One batch of infos for this shard, msgpack-encoded and transferred (structured cloning of many
 * small objects costs several times more than msgpackr on both sides; see docs/runtime.md).
 */
export interface ShardTask {
  readonly infos: Uint8Array;
  readonly now: number;
}

/** The answer, encoded the same way: `{ results, shardInfos }`. */
export interface ShardAnswer {
  readonly results: readonly ExecutionResult[];
  readonly shardInfos: readonly unknown[];
}

const data = workerData as ShardWorkerData;
// Tasks reach this thread in the order the main thread encoded them, and answers leave in order, so
// each direction can use a per-stream codec (records: structures sent once, fast objects decoded).
const taskCodec = connectionCodec();
const answerCodec = connectionCodec();
const executor: Executor<unknown> = protocolByName(data.protocol).createExecutor(data.process, data.config, data.shard);

export default function runShardTask(task: ShardTask): Uint8Array {
  const infos = taskCodec.decode(task.infos) as unknown[];
  for (const info of infos) executor.handle(info, task.now);
  const answer: ShardAnswer = { results: executor.drain(), shardInfos: executor.drainShardInfos?.() ?? [] };
  // msgpackr encodes into a buffer it reuses: copy out, then transfer the copy.
  return move(new Uint8Array(answerCodec.encode(answer))) as Uint8Array;
}
