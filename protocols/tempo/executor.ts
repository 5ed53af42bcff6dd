/**
 * Tempo's table executor (PROTOCOLS.md §5.3).
 *
 * Per key it keeps the votes of all n processes ({@link VoteTable}) and a queue of committed,
 * unexecuted command parts ordered by `(timestamp, dot)`. The head runs once its timestamp is stable
 * on the key. A multi-key command must be at the head and stable on *every* one of its keys: each key
 * that reaches that point tells the others with a {@link StableAtKey} info, and each key runs its own
 * part once it has heard from all the others. The order `(timestamp, dot)` is global, so no two keys
 * can wait on each other: this never deadlocks.
 *
 * The state of one key never touches another's, so the host may split the executor into shards by
 * key ({@link tempoShardOf}); the StableAtKey infos are the only traffic between keys, and they go
 * through the host (`drainShardInfos`) even when both keys live in the same shard, so shards see
 * the same infos in the same order whatever their number.
 */
import type { Key, Op, OpResult } from '../../core/command.js';
import { FrontierMap } from '../../core/frontier.js';
import { formatDot, riflClient, riflSeq, type Dot, type ProcessId, type Rifl, type ShardId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import type { ExecutionResult, Executor, Time } from '../../core/process.js';
import { KVStore } from '../../apps/kv/store.js';
import type { StateMachine } from '../../core/state-machine.js';
import type { Committed, Detached, StableAtKey, TempoFaultInjection, TempoInfo, Vote } from './messages.js';
import { VoteTable } from './vote-table.js';

/** Watches an executor from outside (checkers and tests); every hook is optional. */
export interface TableExecutorObserver {
  /** A command part committed on `key`; `stable` is the key's stable timestamp just before. */
  onCommitted?(key: Key, dot: Dot, clock: number, stable: number): void;
  /** A command part executed on `key`; `stable` is the key's stable timestamp at that moment. */
  onExecuted?(key: Key, dot: Dot, clock: number, rifl: Rifl, stable: number): void;
}

interface Entry {
  readonly dot: Dot;
  readonly clock: number;
  readonly rifl: Rifl;
  readonly ops: readonly Op[];
  readonly keys: readonly Key[];
  /** A multi-key entry told its other keys it is ready here. */
  announced: boolean;
}

/** Limit on committed, unexecuted parts per key. */
const QUEUE_MAX = 1_000_000;

class KeyState {
  readonly votes: VoteTable;
  /** Committed, unexecuted parts ascending by (clock, dot). */
  readonly queue: Entry[] = [];
  /** StableAtKey notices received per dot of a multi-key command not yet run here. */
  readonly notices = new Map<Dot, number>();
  readonly executedRifls = new FrontierMap();
  lastClock = 0;
  lastDot = 0;

  constructor(n: number, stabilityThreshold: number | undefined) {
    this.votes = new VoteTable(n, stabilityThreshold);
  }
}

function before(a: Entry, clock: number, dot: Dot): boolean {
  return a.clock < clock || (a.clock === clock && a.dot < dot);
}

/**
 * Where a host that encodes results itself (the worker threads' codec, runtime/tempo-shard-codec.ts)
 * takes each result as it is produced, instead of an {@link ExecutionResult} object in `drain`.
 */
export interface ResultSink {
  result(rifl: Rifl, key: Key, results: readonly OpResult[]): void;
}

/** One shard of a process's table executor (all keys when the host runs one shard). */
export class TableExecutor implements Executor<TempoInfo> {
  private readonly keys = new Map<Key, KeyState>();
  private results: ExecutionResult[] = [];
  private shardInfos: StableAtKey[] = [];
  /** Dots whose part on some key ran, once per key, since the last drain; recorded once a host asks. */
  private executedDots: Dot[] | undefined;
  /** When set, results go here as they are produced and `drain` returns none. */
  private sink: ResultSink | undefined;

  constructor(
    readonly process: ProcessId,
    readonly n: number,
    readonly shard: ShardId = 0,
    private readonly observer?: TableExecutorObserver,
    private readonly injected: TempoFaultInjection = {},
    /** The application commands run against (config.app through apps/index.ts; the store by default). */
    readonly app: StateMachine = new KVStore(),
  ) {}

  handle(info: TempoInfo, _now: Time): void {
    switch (info.type) {
      case 'Committed':
        return this.handleCommitted(info);
      case 'Detached':
        return this.handleDetached(info);
      case 'StableAtKey':
        return this.handleStableAtKey(info);
    }
  }

  /** Hands every result from now on to `sink` as it is produced (see {@link ResultSink}). */
  sendResultsTo(sink: ResultSink): void {
    invariant(this.results.length === 0, () => `${this.results.length} results not drained before a result sink was set`);
    this.sink = sink;
  }

  drain(): readonly ExecutionResult[] {
    const drained = this.results;
    if (drained.length > 0) this.results = [];
    return drained;
  }

  drainShardInfos(): readonly StableAtKey[] {
    const drained = this.shardInfos;
    if (drained.length > 0) this.shardInfos = [];
    return drained;
  }

  /**
   * The dots whose part on some key ran since the last call, once per key, in order (feedback for the
   * process: a committed command that does not run for long hints at lost votes). Recording starts at
   * the first call.
   */
  drainExecuted(): readonly Dot[] {
    const drained = this.executedDots ?? [];
    this.executedDots = [];
    return drained;
  }

  /** The key's stable timestamp here (0 for a key never seen). */
  stable(key: Key): number {
    return this.keys.get(key)?.votes.stable() ?? 0;
  }

  /** Committed parts on `key` waiting to run. */
  pending(key: Key): number {
    return this.keys.get(key)?.queue.length ?? 0;
  }

  /** Keys this shard has state for. */
  get keyCount(): number {
    return this.keys.size;
  }

  private state(key: Key): KeyState {
    let state = this.keys.get(key);
    if (state === undefined) {
      state = new KeyState(this.n, this.injected.stabilityThreshold);
      this.keys.set(key, state);
    }
    return state;
  }

  /**
   * Exactly `handle` of the Committed info with these fields, its votes given flat: `by, start, end`
   * per vote, `voteCount` votes, all on `key`. For a host that decodes infos from bytes (the worker
   * threads' codec, runtime/tempo-shard-codec.ts), which would otherwise build an info and its vote
   * objects only for them to be taken apart here.
   */
  handleCommittedFields(key: Key, dot: Dot, clock: number, rifl: Rifl, ops: readonly Op[], keys: readonly Key[], votes: ArrayLike<number>, voteCount: number): void {
    const state = this.state(key);
    this.observer?.onCommitted?.(key, dot, clock, state.votes.stable());
    const table = state.votes;
    for (let i = 0; i < voteCount * 3; i += 3) table.add(votes[i]!, votes[i + 1]!, votes[i + 2]!);
    // The common case under load: a single-key part that is stable on arrival with nothing queued
    // before it runs at once, exactly as `enqueue` then `run` would run it, without queueing an entry.
    if (keys.length === 1 && state.queue.length === 0) {
      const stable = table.stable();
      if (clock <= stable) {
        this.executeFields(key, state, dot, clock, rifl, ops, stable);
        return;
      }
    }
    this.enqueue(key, state, { dot, clock, rifl, ops, keys, announced: false });
  }

  private handleCommitted(info: Committed): void {
    const state = this.state(info.key);
    this.observer?.onCommitted?.(info.key, info.dot, info.clock, state.votes.stable());
    this.addVotes(state, info.key, info.votes);
    this.enqueue(info.key, state, { dot: info.dot, clock: info.clock, rifl: info.rifl, ops: info.ops, keys: info.keys, announced: false });
  }

  /** Queues a committed part in (clock, dot) order and runs what is ready. */
  private enqueue(key: Key, state: KeyState, entry: Entry): void {
    const queue = state.queue;
    invariant(queue.length < QUEUE_MAX, () => `key ${key} has more than ${QUEUE_MAX} committed commands waiting`);
    // Commits arrive mostly in timestamp order: search from the tail.
    let index = queue.length;
    while (index > 0 && !before(queue[index - 1]!, entry.clock, entry.dot)) index--;
    invariant(index === queue.length || queue[index]!.dot !== entry.dot, () => `dot ${formatDot(entry.dot)} committed twice on key ${key}`);
    if (index === queue.length) queue.push(entry);
    else queue.splice(index, 0, entry);
    this.run(key, state);
  }

  private handleDetached(info: Detached): void {
    const state = this.state(info.key);
    this.addVotes(state, info.key, info.votes);
    this.run(info.key, state);
  }

  private handleStableAtKey(info: StableAtKey): void {
    const state = this.state(info.key);
    state.notices.set(info.dot, (state.notices.get(info.dot) ?? 0) + 1);
    this.run(info.key, state);
  }

  private addVotes(state: KeyState, key: Key, votes: readonly Vote[]): void {
    for (let i = 0; i < votes.length; i++) {
      const vote = votes[i]!;
      invariant(vote.key === key, () => `a vote on key ${vote.key} reached key ${key}`);
      state.votes.add(vote.by, vote.start, vote.end);
    }
  }

  /** Runs the queue's head for as long as it is ready (see the file comment). */
  private run(key: Key, state: KeyState): void {
    const queue = state.queue;
    while (queue.length > 0) {
      const head = queue[0]!;
      const stable = state.votes.stable();
      if (head.clock > stable) return;
      if (head.keys.length > 1) {
        if (!head.announced) {
          head.announced = true;
          for (const other of head.keys) if (other !== key) this.shardInfos.push({ type: 'StableAtKey', key: other, dot: head.dot });
        }
        const heard = state.notices.get(head.dot) ?? 0;
        invariant(heard <= head.keys.length - 1, () => `dot ${formatDot(head.dot)} heard ${heard} StableAtKey on key ${key}`);
        if (heard < head.keys.length - 1) return;
        state.notices.delete(head.dot);
      }
      queue.shift();
      this.execute(key, state, head, stable);
    }
  }

  private execute(key: Key, state: KeyState, entry: Entry, stable: number): void {
    this.executeFields(key, state, entry.dot, entry.clock, entry.rifl, entry.ops, stable);
  }

  private executeFields(key: Key, state: KeyState, dot: Dot, clock: number, rifl: Rifl, ops: readonly Op[], stable: number): void {
    invariant(
      clock > state.lastClock || (clock === state.lastClock && dot > state.lastDot),
      () => `key ${key}: ${formatDot(dot)} at ${clock} runs after ${formatDot(state.lastDot)} at ${state.lastClock}`,
    );
    state.lastClock = clock;
    state.lastDot = dot;
    this.observer?.onExecuted?.(key, dot, clock, rifl, stable);
    this.executedDots?.push(dot);
    // A rifl committed under two dots (a client retry) runs once per key.
    if (!state.executedRifls.add(riflClient(rifl), riflSeq(rifl))) return;
    const results = this.app.apply({ key, ops });
    if (this.sink !== undefined) this.sink.result(rifl, key, results);
    else this.results.push({ rifl, key, results });
  }
}

/** The shard that owns an info's key: FNV-1a of the key, modulo the shard count. */
export function tempoShardOf(info: TempoInfo, shards: number): ShardId {
  return tempoShardOfKey(info.key, shards);
}

/** The shard that owns `key` (see {@link tempoShardOf}). */
export function tempoShardOfKey(key: Key, shards: number): ShardId {
  if (shards === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
