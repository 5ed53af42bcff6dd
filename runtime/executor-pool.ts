/**
 * Executor shards on worker threads (`--executors k`), for protocols whose executor is partitioned by
 * key (those with `shardOf`; Tempo's table executor). Other protocols' executors run inline.
 *
 * Piscina hands a task to any idle thread, but a shard is stateful, so each shard gets its own pool
 * of exactly one thread (minThreads = maxThreads = 1) whose module keeps the shard's executor. The
 * replica sees `k` proxy executors: `handle` only queues the info for its shard; once per event-loop
 * turn each shard with queued infos and no task in flight receives them as one task. At most one task
 * per shard is in flight, so a shard sees its infos in exactly the order they were queued. Answers
 * come back asynchronously: partial results go to `onResults` (the host passes them to
 * `Replica.deliverResults`), and the infos a shard addresses to shards are queued for their shard with
 * `shardOf`, as the inline replica does.
 *
 * The per-key execution order is the same as inline: each key lives in one shard, which sees that
 * key's infos in the inline order, and the executor's order per key does not depend on other keys.
 */
import { Piscina } from 'piscina';
import { connectionCodec, type Codec } from './codec.js';
import type { Config } from '../core/config.js';
import type { ShardId } from '../core/ids.js';
import type { ExecutionResult, Executor } from '../core/process.js';
import type { ShardAnswer, ShardTask, ShardWorkerData } from './executor-worker.js';
import { runtimeEntry } from './paths.js';

export interface ExecutorPoolOptions {
  readonly protocol: string;
  readonly process: number;
  readonly config: Config;
  readonly shards: number;
  readonly shardOf: (info: unknown, shards: number) => ShardId;
  /** Partial results, in the order each shard produced them. */
  readonly onResults: (results: readonly ExecutionResult[]) => void;
  readonly onError: (error: Error) => void;
  /** Time handed to executors. */
  readonly now: () => number;
}

/** Infos sent to one shard per task, at most (bounds a task's size and latency). */
const TASK_INFOS_MAX = 16_384;
/**
 * Tasks per shard in flight at once. Two let the main thread encode the next batch while the worker
 * runs the current one; piscina runs a one-thread pool's tasks in submission order, so the shard
 * still sees its infos in queue order.
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
  private readonly queues: unknown[][] = [];
  private readonly inFlight: number[] = [];
  /** Per shard, the codecs of its task stream and of its answer stream (see executor-worker.ts). */
  private readonly taskCodecs: Codec[] = [];
  private readonly answerCodecs: Codec[] = [];
  private flushScheduled = false;
  private closed = false;
  /** Tasks answered, and infos sent. */
  tasks = 0;
  infos = 0;

  constructor(private readonly options: ExecutorPoolOptions) {
    const filename = runtimeEntry('executor-worker');
    for (let shard = 0; shard < options.shards; shard++) {
      const workerData: ShardWorkerData = { protocol: options.protocol, process: options.process, config: options.config, shard };
      this.pools.push(new Piscina({ filename, minThreads: 1, maxThreads: 1, idleTimeout: Number.MAX_SAFE_INTEGER, workerData, concurrentTasksPerWorker: 1, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } }));
      this.queues.push([]);
      this.inFlight.push(0);
      this.taskCodecs.push(connectionCodec());
      this.answerCodecs.push(connectionCodec());
    }
  }

  /** The proxy executors to hand the Replica, one per shard. */
  executors(): Executor<unknown>[] {
    return this.queues.map((_, shard) => ({
      handle: (info: unknown) => this.enqueue(shard, info),
      drain: () => NOTHING,
    }));
  }

  /** Infos queued or in flight. */
  get busy(): boolean {
    return this.inFlight.some((x) => x > 0) || this.queues.some((q) => q.length > 0);
  }

  enqueue(shard: ShardId, info: unknown): void {
    this.queues[shard]!.push(info);
    this.scheduleFlush();
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
    while (!this.closed && this.inFlight[shard]! < TASKS_IN_FLIGHT_MAX && this.queues[shard]!.length > 0) this.dispatchOne(shard);
  }

  private dispatchOne(shard: ShardId): void {
    const queue = this.queues[shard]!;
    const infos = queue.length <= TASK_INFOS_MAX ? queue : queue.splice(0, TASK_INFOS_MAX);
    if (infos === queue) this.queues[shard] = [];
    this.inFlight[shard]!++;
    this.infos += infos.length;
    // msgpackr encodes into a buffer it reuses: copy out before transferring the copy's memory.
    const task: ShardTask = { infos: new Uint8Array(this.taskCodecs[shard]!.encode(infos)), now: this.options.now() };
    this.pools[shard]!.run(task, { transferList: [task.infos.buffer as ArrayBuffer] }).then(
      (encoded: Uint8Array) => {
        this.inFlight[shard]!--;
        this.tasks++;
        if (this.closed) return;
        const answer = this.answerCodecs[shard]!.decode(encoded) as ShardAnswer;
        for (const info of answer.shardInfos) this.queues[this.options.shardOf(info, this.pools.length)]!.push(info);
        if (answer.results.length > 0) this.options.onResults(answer.results);
        this.dispatch(shard);
        if (answer.shardInfos.length > 0) this.scheduleFlush();
      },
      (error: Error) => {
        if (!this.closed) this.options.onError(error);
      },
    );
  }
}

const NOTHING: readonly never[] = Object.freeze([]);
