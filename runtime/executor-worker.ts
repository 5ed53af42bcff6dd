/**
 * A worker thread that owns one executor shard (run by piscina, one thread per shard, so the shard's
 * state stays in this module between tasks). Each task is a batch of infos for this shard, in order;
 * the answer is the partial results and the infos the shard addresses to other shards, both in the
 * order produced. The main thread routes the latter with the protocol's `shardOf`.
 */
import { workerData } from 'piscina';
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

/** One batch of infos for this shard. */
export interface ShardTask {
  readonly infos: readonly unknown[];
  readonly now: number;
}

export interface ShardAnswer {
  readonly results: readonly ExecutionResult[];
  readonly shardInfos: readonly unknown[];
}

const data = workerData as ShardWorkerData;
const executor: Executor<unknown> = protocolByName(data.protocol).createExecutor(data.process, data.config, data.shard);

export default function runShardTask(task: ShardTask): ShardAnswer {
  for (const info of task.infos) executor.handle(info, task.now);
  const results = executor.drain();
  const shardInfos = executor.drainShardInfos?.() ?? [];
  return { results, shardInfos };
}
