/**
 * A worker thread that owns one executor shard (run by piscina, one thread per shard, so the shard's
 * state stays in this module between tasks). Each task is a batch of infos for this shard in the
 * protocol's binary layout (runtime/shard-channel.ts), in order; the answer, in the same layout, holds
 * the partial results and the infos the shard addresses to shards, both in the order produced. The
 * main thread routes the latter to their shards.
 */
import { move, workerData } from 'piscina';
import type { Config } from '../core/config.js';
import { invariant } from '../core/invariant.js';
import { protocolByName } from '../protocols/index.js';
import { shardCodecFor } from './shard-channel.js';
import { threadCpuMs } from './thread-cpu.js';

/** What the main thread tells a shard worker once, at start. */
export interface ShardWorkerData {
  readonly protocol: string;
  readonly process: number;
  readonly config: Config;
  readonly shard: number;
}

/** What a shard thread has spent so far (for benchmarks: see `ExecutorPool.threadStats`). */
export interface ShardThreadStats {
  /** The thread's CPU time in ms, where the platform says (Linux); see runtime/thread-cpu.ts. */
  readonly cpuMs: number | undefined;
  /** Wall-clock ms spent inside tasks (decode, execute, encode); includes time the OS ran others. */
  readonly taskMs: number;
  readonly tasks: number;
  /** The thread's event-loop active time in ms. */
  readonly activeMs: number;
}

const data = workerData as ShardWorkerData;
const codec = shardCodecFor(data.protocol);
invariant(codec !== undefined, () => `${data.protocol} has no executor shard layout; its executor runs inline`);
const runner = codec.createRunner(protocolByName(data.protocol).createExecutor(data.process, data.config, data.shard));
let taskMs = 0;
let tasks = 0;

export default function runShardTask(task: Uint8Array): Uint8Array {
  const start = performance.now();
  const answer = runner.run(task);
  taskMs += performance.now() - start;
  tasks++;
  return move(answer) as Uint8Array;
}

/** Piscina's named task `stats`: what this thread has spent so far. */
export function stats(): ShardThreadStats {
  return { cpuMs: threadCpuMs(), taskMs, tasks, activeMs: performance.eventLoopUtilization().active };
}
