/**
 * Executor shards on worker threads (`--executors k`), for protocols whose executor is partitioned by
 * key and that have a binary shard layout (runtime/shard-channel.ts; Tempo's table executor). Other
 * protocols' executors run inline.
 *
 * Piscina hands a task to any idle thread, but a shard is stateful, so each shard gets its own pool
 * of exactly one thread (minThreads = maxThreads = 1) whose module keeps the shard's executor. The
 * replica sees `k` proxy executors: `handle` writes the info straight into its shard's open task
 * buffer (no queue of info objects). Once per event-loop turn each shard with written infos and a
 * free slot gets its open task sealed and sent, the buffer transferred, not copied; a task that
 * reaches {@link TASK_INFOS_MAX} infos or {@link TASK_BYTES_MAX} bytes is sealed at once and waits for
 * a slot. A one-thread pool runs its tasks in submission order, so a shard sees its infos in exactly
 * the order they were written. Answers come back asynchronously: partial results go to `onResults`
 * (the host passes them to `Replica.deliverResults`), and the infos a shard addresses to shards are
 * written into their owners' open tasks by the channel, as the inline replica queues them.
 *
 * The per-key execution order is the same as inline: each key lives in one shard, which sees that
 * key's infos in the inline order, and the executor's order per key does not depend on other keys.
 */
import { Piscina } from 'piscina';
import type { Config } from '../core/config.js';
import type { ShardId } from '../core/ids.js';
import { invariant } from '../core/invariant.js';
import type { ExecutionResult, Executor } from '../core/process.js';
import type { ShardThreadStats, ShardWorkerData } from './executor-worker.js';
import { runtimeEntry } from './paths.js';
import { shardCodecFor, type ShardChannel } from './shard-channel.js';

export interface ExecutorPoolOptions {
  /** A protocol with a shard layout (`shardCodecFor(protocol)` defined). */
  readonly protocol: string;
  readonly process: number;
  readonly config: Config;
  readonly shards: number;
  /** Partial results, in the order each shard produced them. */
  readonly onResults: (results: readonly ExecutionResult[]) => void;
  readonly onError: (error: Error) => void;
  /** Time handed to executors. */
  readonly now: () => number;
}

/** Infos per task, at most (bounds a task's latency: its results come back when all of it ran). */
export const TASK_INFOS_MAX = 16_384;
/** Bytes per task past which it is sealed (a soft limit: one larger info still makes one task). */
export const TASK_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Tasks per shard in flight at once. Two let the main thread write the next batch while the worker
 * runs the current one; piscina runs a one-thread pool's tasks in submission order, so the shard
 * still sees its infos in order.
 */
const TASKS_IN_FLIGHT_MAX = 2;
/**
 * Young-generation size of a shard thread. An executor keeps much of what it allocates (per-key
 * state, queued commands) and garbage collection took about 30% of a shard thread's time in
 * bench:executor with V8's default; a larger young generation promotes the long-lived state sooner.
 */
const YOUNG_GENERATION_MB = 64;

export class ExecutorPool {
  private readonly pools: Piscina[] = [];
  private readonly channel: ShardChannel<unknown>;
  /** Per shard, tasks sealed and not yet sent, in order. */
  private readonly sealed: Uint8Array[][] = [];
  private readonly inFlight: number[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Tasks answered, and infos the host wrote (not counting those shards address to shards). */
  tasks = 0;
  infos = 0;

  constructor(private readonly options: ExecutorPoolOptions) {
    const codec = shardCodecFor(options.protocol);
    invariant(codec !== undefined, () => `${options.protocol} has no executor shard layout; run its executor inline`);
    this.channel = codec.createChannel(options.shards);
    const filename = runtimeEntry('executor-worker');
    for (let shard = 0; shard < options.shards; shard++) {
      const workerData: ShardWorkerData = { protocol: options.protocol, process: options.process, config: options.config, shard };
      this.pools.push(new Piscina({ filename, minThreads: 1, maxThreads: 1, idleTimeout: Number.MAX_SAFE_INTEGER, workerData, concurrentTasksPerWorker: 1, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }));
      this.sealed.push([]);
      this.inFlight.push(0);
    }
  }

  /** The proxy executors to hand the Replica, one per shard. */
  executors(): Executor<unknown>[] {
    return this.pools.map((_, shard) => ({
      handle: (info: unknown) => this.enqueue(shard, info),
      drain: () => NOTHING,
    }));
  }

  /** Infos written and not yet answered. */
  get busy(): boolean {
    for (let shard = 0; shard < this.pools.length; shard++) {
      if (this.inFlight[shard]! > 0 || this.sealed[shard]!.length > 0 || this.channel.openInfos(shard) > 0) return true;
    }
    return false;
  }

  /** Writes `info`, which `shard` owns, into that shard's open task. */
  enqueue(shard: ShardId, info: unknown): void {
    this.channel.write(shard, info);
    this.infos++;
    if (this.channel.openInfos(shard) >= TASK_INFOS_MAX || this.channel.openBytes(shard) >= TASK_BYTES_MAX) this.sealed[shard]!.push(this.channel.seal(shard, this.options.now()));
    this.scheduleFlush();
  }

  /** What each shard thread has spent so far, in shard order (asked after the tasks already sent). */
  threadStats(): Promise<ShardThreadStats[]> {
    return Promise.all(this.pools.map((pool) => pool.run(null, { name: 'stats' }) as Promise<ShardThreadStats>));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pools.map((pool) => pool.destroy()));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (let shard = 0; shard < this.pools.length; shard++) this.dispatch(shard);
    });
  }

  private dispatch(shard: ShardId): void {
    while (!this.closed && this.inFlight[shard]! < TASKS_IN_FLIGHT_MAX) {
      const task = this.sealed[shard]!.shift() ?? (this.channel.openInfos(shard) > 0 ? this.channel.seal(shard, this.options.now()) : undefined);
      if (task === undefined) return;
      this.send(shard, task);
    }
  }

  private send(shard: ShardId, task: Uint8Array): void {
    this.inFlight[shard]!++;
    this.pools[shard]!.run(task, { transferList: [task.buffer as ArrayBuffer] }).then(
      (answer: Uint8Array) => {
        this.inFlight[shard]!--;
        this.tasks++;
        if (this.closed) return;
        let results: readonly ExecutionResult[];
        try {
          results = this.channel.readAnswer(shard, answer);
        } catch (error) {
          this.options.onError(error as Error);
          return;
        }
        if (results.length > 0) this.options.onResults(results);
        // Shard infos in the answer went into open tasks, possibly other shards'.
        this.scheduleFlush();
        this.dispatch(shard);
      },
      (error: Error) => {
        if (!this.closed) this.options.onError(error);
      },
    );
  }
}

const NOTHING: readonly never[] = Object.freeze([]);
