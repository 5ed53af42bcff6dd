/**
 * The sans-IO process and executor interfaces (ARCHITECTURE.md, "The process interface").
 *
 * A protocol process is a deterministic state machine: its inputs (`submit`, `handle`, `onTimer`)
 * take the current time from the host, and its outputs are drained FIFO. It never reads a clock,
 * never draws unseeded randomness and never performs I/O, so the simulator and the runtime drive the
 * very same code.
 */
import type { Command, Key, OpResult } from './command.js';
import type { Config, ProtocolName } from './config.js';
import type { Dot, ProcessId, Rifl, ShardId } from './ids.js';
import type { Configuration } from './membership.js';

/** Milliseconds, always handed in by the host. */
export type Time = number;

/** A periodic event a process declares; the host calls `onTimer(timer)` every `everyMs`. */
export interface TimerSpec {
  readonly timer: string;
  readonly everyMs: number;
}

/** Every protocol message is plain data tagged with the paper's name in `type`. */
export interface Message {
  readonly type: string;
}

/** What a process asks its host to do. `to` may include the sender itself. */
export type Output<Msg extends Message, Info> =
  | { readonly kind: 'send'; readonly to: readonly ProcessId[]; readonly msg: Msg }
  | { readonly kind: 'execute'; readonly info: Info };

/** Per-process protocol counters the hosts report. */
export interface ProtocolMetrics {
  /** Commands this process coordinated that committed on the fast path. */
  fastPath: number;
  /** Commands this process coordinated that needed the slow path (consensus). */
  slowPath: number;
  /** Recoveries this process completed: leader changes it won (FPaxos), dots it recovered (leaderless). */
  recovered?: number;
}

/**
 * The faults a protocol recovers from, beyond the ones every protocol survives (delay, duplication,
 * reordering). Safety must hold under any fault; this says when liveness can be expected once the
 * faults heal, and which schedules the check runner generates for it.
 */
export interface FaultTolerance {
  /** Up to f processes may stop for good (a new leader, or recovery of their commands, takes over). */
  readonly crashStop: boolean;
  /** Lost messages and healed partitions are survived (timeouts resend or recover). */
  readonly messageLoss: boolean;
  /** A crashed process may come back (its state survived); none supports it yet. */
  readonly crashRestart: boolean;
  /** Processes can be removed from the configuration (`Process.reconfigure`, core/membership.ts). */
  readonly reconfiguration?: boolean;
}

/** A committed value as the commit-agreement check compares it: its identity and the value itself. */
export interface CommitRecord {
  /** What was decided, e.g. `slot 7` or `dot (2,5) key x`; the same at every process. */
  readonly id: string;
  /** The decided value, e.g. the command's rifl, or `ts=12 rifl 3.4`. */
  readonly value: string;
}

/** A protocol process, driven by a host. */
export interface Process<Msg extends Message, Info> {
  readonly id: ProcessId;
  /** The periodic events this process needs. */
  readonly timers: readonly TimerSpec[];
  /** All processes sorted by distance from this one, itself first; called once before any input. */
  discover(sortedByDistance: readonly ProcessId[]): void;
  /** A command from a client connected to this process. */
  submit(cmd: Command, now: Time): void;
  /** A message from a process (possibly this one). */
  handle(from: ProcessId, msg: Msg, now: Time): void;
  /** One of the declared periodic events. */
  onTimer(timer: string, now: Time): void;
  /** Outputs since the last call, in the order they were produced; clears them. */
  drain(): readonly Output<Msg, Info>[];
  /** Counters since the start. */
  metrics(): ProtocolMetrics;
  /**
   * Optional feedback from this process's own executor: the dots it executed, in order. Protocols
   * whose garbage collection needs "executed everywhere" (EPaxos and Atlas prune their dependency
   * index with it) implement this; the host forwards whatever the executor's `drainExecuted` returns.
   */
  executed?(dots: readonly Dot[], now: Time): void;
  /**
   * Optional: the host's failure detector now suspects `process` has crashed (eventually perfect:
   * suspicions may be wrong for a while and are then withdrawn by `unsuspect`). Leader change and
   * recovery start from here. Hosts without a failure detector never call it.
   */
  suspect?(process: ProcessId, now: Time): void;
  /** Optional: an earlier suspicion of `process` was wrong; it is alive. */
  unsuspect?(process: ProcessId, now: Time): void;
  /**
   * Optional: the membership service (core/membership.ts) learned a new configuration. From now on
   * the process runs quorums, stability, dependency pruning and garbage collection over
   * `configuration.members` only; the replica already refuses every message from a non-member.
   * Configurations arrive in order, each once. A protocol without it cannot have members removed.
   */
  reconfigure?(configuration: Configuration, now: Time): void;
  /**
   * Optional: entries of per-command state the process holds (dots, dependency-index entries,
   * accepted slots): what garbage collection must keep bounded. For memory checks and tests.
   */
  heldState?(): number;
}

/** A partial result: the results of one command's operations on one key, in op order. */
export interface ExecutionResult {
  readonly rifl: Rifl;
  readonly key: Key;
  readonly results: readonly OpResult[];
}

/** Owns the application state and decides when a committed command may run. */
export interface Executor<Info> {
  handle(info: Info, now: Time): void;
  /** Partial results since the last call, in execution order; clears them. */
  drain(): readonly ExecutionResult[];
  /**
   * Optional, for key-partitioned executors: infos this shard addresses to the shard that owns them
   * (possibly itself), since the last call, in the order produced; clears them. They are plain data,
   * because shards share no memory (they may run on worker threads). The host routes each one with
   * the protocol's `shardOf`, exactly like the process's execute outputs, FIFO behind infos already
   * taken. Tempo uses it for the cross-key readiness of multi-key commands.
   */
  drainShardInfos?(): readonly Info[];
  /**
   * Optional: dots executed since the last call, in execution order; clears them (see
   * `Process.executed`). An executor may start recording only at the first call, so a host that wants
   * this feedback calls it once before the first input.
   */
  drainExecuted?(): readonly Dot[];
  /**
   * Optional: units of search work done so far, a deterministic count that grows with what a call
   * had to look at rather than with what it executed (the graph executors count dependency entries
   * examined). The CPU model charges a calibrated cost per unit (`executeUnitNs`), so an executor
   * whose searches grow with the in-flight dependency clusters costs more as they grow.
   */
  workDone?(): number;
}

/** Everything a host needs to run one protocol. */
export interface ProtocolDefinition<Msg extends Message = Message, Info = unknown> {
  readonly name: ProtocolName;
  /** One line for people: the paper and what distinguishes the protocol. */
  readonly summary: string;
  createProcess(id: ProcessId, config: Config): Process<Msg, Info>;
  createExecutor(id: ProcessId, config: Config, shard: ShardId): Executor<Info>;
  /**
   * For executors whose state is independent per key (Tempo): the shard an info belongs to.
   * Absent when the executor cannot be split; the host then runs exactly one.
   */
  readonly shardOf?: (info: Info, shards: number) => ShardId;
  /** Faults it recovers from; absent means none (only delay, duplication and reordering). */
  readonly faultTolerance?: FaultTolerance;
  /**
   * For the commit-agreement check: what an execution info commits, or undefined for infos that
   * commit nothing (votes). Every process must commit the same value under one id.
   */
  readonly commitOf?: (info: Info) => CommitRecord | undefined;
}
