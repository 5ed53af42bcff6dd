/**
 * Tempo messages and executor infos (PROTOCOLS.md §9), plain data tagged with fantoch's names. Votes
 * travel as arrays of {@link Vote} ranges, never as Maps or Sets, so every message survives JSON,
 * the wire codec and postMessage unchanged.
 */
import type { Command, Key, Op } from '../../core/command.js';
import type { Dot, ProcessId, Rifl } from '../../core/ids.js';

/** Process `by` voted on every timestamp `start..end` (both inclusive) of `key`. */
export interface Vote {
  readonly key: Key;
  readonly by: ProcessId;
  readonly start: number;
  readonly end: number;
}

/** [MPropose + MPayload] The coordinator's proposal `clock` for `cmd`, sent to every process. */
export interface MCollect {
  readonly type: 'MCollect';
  readonly dot: Dot;
  readonly cmd: Command;
  /** The coordinator's fast quorum, itself included. */
  readonly quorum: readonly ProcessId[];
  readonly clock: number;
}
/** [MProposeAck] A fast-quorum member's proposal and the votes it attached to the command. */
export interface MCollectAck {
  readonly type: 'MCollectAck';
  readonly dot: Dot;
  readonly clock: number;
  readonly votes: readonly Vote[];
}
/** Slow path, phase 2a of the dot's single-decree Flexible Paxos: accept timestamp `clock`. */
export interface MConsensus {
  readonly type: 'MConsensus';
  readonly dot: Dot;
  readonly ballot: number;
  readonly clock: number;
}
/** Slow path, phase 2b: the sender accepted the dot's value at `ballot`. */
export interface MConsensusAck {
  readonly type: 'MConsensusAck';
  readonly dot: Dot;
  readonly ballot: number;
}
/**
 * The dot is committed with timestamp `clock`; `votes` are the votes attached to it. `cmd` rides
 * along when the receiver may lack the payload: after a recovery, when a committed process helps a
 * recovering one, and when a commit is resent to a process that fell behind (PROTOCOLS.md §7.1).
 */
export interface MCommit {
  readonly type: 'MCommit';
  readonly dot: Dot;
  readonly clock: number;
  readonly votes: readonly Vote[];
  readonly cmd?: Command;
}
/**
 * Recovery, phase 1 of the dot's synod at a ballot above round 0 (PROTOCOLS.md §7.4). It carries the
 * payload and the coordinator's fast quorum, so a process that never saw the MCollect can take part.
 */
export interface MRec {
  readonly type: 'MRec';
  readonly dot: Dot;
  readonly ballot: number;
  readonly cmd: Command;
  readonly quorum: readonly ProcessId[];
}
/**
 * The promise: the sender's proposal for the dot and the votes attached to it (its original ones when
 * it was in the fast quorum's COLLECT, RECOVER_P; made now otherwise, RECOVER_R), and its accepted
 * timestamp if any (`abal` > 0).
 */
export interface MRecAck {
  readonly type: 'MRecAck';
  readonly dot: Dot;
  readonly ballot: number;
  readonly proposal: number;
  readonly votes: readonly Vote[];
  readonly phase: 'RECOVER_R' | 'RECOVER_P';
  readonly abal: number;
  readonly aval: number;
}
/**
 * [D] The sender has committed commands on `keys` that have not run for a recovery timeout: some votes
 * on them were probably lost (an MDetached, an MAttached). Each receiver answers with every vote it
 * may reveal on those keys: an MDetached with its votes not attached to a dot still in flight, and an
 * MAttached per such dot (applied by the asker only once that dot committed there, as always).
 */
export interface MVotesRequest {
  readonly type: 'MVotesRequest';
  readonly keys: readonly Key[];
}
/** [promises] Votes not tied to any command, broadcast periodically. */
export interface MDetached {
  readonly type: 'MDetached';
  readonly votes: readonly Vote[];
}
/**
 * [D] The sender's votes attached to `dot` that the commit it received did not carry. Receivers
 * apply them once the dot is committed there, and buffer them until then (PROTOCOLS.md §5.2).
 */
export interface MAttached {
  readonly type: 'MAttached';
  readonly dot: Dot;
  readonly votes: readonly Vote[];
}
/** Periodic: `committed[s − 1]` is the sender's committed frontier for dots of source `s`. */
export interface MGarbageCollection {
  readonly type: 'MGarbageCollection';
  readonly committed: readonly number[];
}

export type TempoMessage = MCollect | MCollectAck | MConsensus | MConsensusAck | MCommit | MRec | MRecAck | MDetached | MAttached | MVotesRequest | MGarbageCollection;

/** Executor input: a committed command's part on one key, with the votes attached to it on that key. */
export interface Committed {
  readonly type: 'Committed';
  readonly key: Key;
  readonly dot: Dot;
  readonly clock: number;
  readonly rifl: Rifl;
  readonly ops: readonly Op[];
  /** Every key of the command, ascending; more than one means the keys must agree to run it. */
  readonly keys: readonly Key[];
  /** Votes on `key` only. */
  readonly votes: readonly Vote[];
}
/** Executor input: votes on `key` not tied to a command here (detached, or attached to a committed dot). */
export interface Detached {
  readonly type: 'Detached';
  readonly key: Key;
  readonly votes: readonly Vote[];
}
/**
 * Executor shard to shard: the multi-key command `dot` is at the head of another of its keys and
 * stable there. Addressed to `key`, so the host routes it to the shard that owns `key`.
 */
export interface StableAtKey {
  readonly type: 'StableAtKey';
  readonly key: Key;
  readonly dot: Dot;
}

export type TempoInfo = Committed | Detached | StableAtKey;

/**
 * Deliberately broken behaviours, for the checker's own tests only (test/broken-variants.test.ts).
 * No host or CLI path sets them.
 */
export interface TempoFaultInjection {
  /** Votes needed for stability instead of ⌊n/2⌋+1. */
  readonly stabilityThreshold?: number;
  /** Reports of the highest proposal needed for the fast path instead of f. */
  readonly fastPathThreshold?: number;
  /** Fast-quorum size instead of ⌊n/2⌋+f. */
  readonly fastQuorumSize?: number;
}
