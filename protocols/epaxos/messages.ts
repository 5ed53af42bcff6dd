/** EPaxos messages (PROTOCOLS.md §9), plain data tagged with fantoch's names; the paper's in brackets. */
import type { Command } from '../../core/command.js';
import type { Dot, ProcessId } from '../../core/ids.js';

/**
 * What EPaxos agrees on per dot: the command (null for a no-op, the value recovery settles on for a
 * dot whose command it could not find), the dependencies (sorted ascending) and the sequence number.
 * The command travels inside the value so that any process that learns the value can commit it,
 * whether or not the MCollect ever reached it (recovery, lost messages).
 */
export interface EPaxosValue {
  readonly cmd: Command | null;
  readonly deps: readonly Dot[];
  readonly seq: number;
}

/** [PreAccept] The coordinator proposes `cmd` with its local dependencies; sent to all. */
export interface MCollect {
  readonly type: 'MCollect';
  readonly dot: Dot;
  readonly cmd: Command;
  readonly deps: readonly Dot[];
  readonly seq: number;
  /** The coordinator's fast quorum, itself included. */
  readonly quorum: readonly ProcessId[];
  /**
   * Per source (index i = process i+1), the dots the coordinator knows executed at every process [D].
   * Members leave them out of their reports: they can no longer be reordered, and members that
   * pruned them from their index at different moments then still report identically. One cut-off
   * for all members (not each member's own knowledge) keeps the reports, which recovery rule 3
   * compares, exactly what the fast path compared.
   */
  readonly executedUpTo: readonly number[];
}
/** [PreAcceptOK] A fast-quorum member's dependencies and seq, the coordinator's merged with its own. */
export interface MCollectAck {
  readonly type: 'MCollectAck';
  readonly dot: Dot;
  readonly deps: readonly Dot[];
  readonly seq: number;
}
/** [Accept] Phase 2 of the dot's synod: the coordinator's slow path (round 0), or a recovery. */
export interface MConsensus {
  readonly type: 'MConsensus';
  readonly dot: Dot;
  readonly ballot: number;
  readonly value: EPaxosValue;
}
/** [AcceptOK] */
export interface MConsensusAck {
  readonly type: 'MConsensusAck';
  readonly dot: Dot;
  readonly ballot: number;
}
/** [Commit] The value is chosen. Also a committed process's answer to any recovery message (helping). */
export interface MCommit {
  readonly type: 'MCommit';
  readonly dot: Dot;
  readonly value: EPaxosValue;
}
/**
 * Periodic: the sender's committed and executed frontiers per source (index i = process i+1). The
 * executed vector is ours [D]: it says when a dot may leave the dependency index.
 */
export interface MGarbageCollection {
  readonly type: 'MGarbageCollection';
  readonly committed: readonly number[];
  readonly executed: readonly number[];
}

/**
 * [Prepare] Phase 1 of a recovery at `ballot` (PROTOCOLS.md §7.2). Carries the command when the
 * recovering process knows it, so that processes that never saw it can still take part. The fast
 * quorum is not needed: only its members ever pre-accept at round 0, which is what rule 3 counts.
 */
export interface MPrepare {
  readonly type: 'MPrepare';
  readonly dot: Dot;
  readonly ballot: number;
  readonly cmd: Command | null;
}
/** [PrepareOK] A promise for `ballot`, with everything the replier knows about the dot. */
export interface MPrepareOk {
  readonly type: 'MPrepareOk';
  readonly dot: Dot;
  readonly ballot: number;
  /** The dot's command, when the replier has it. */
  readonly cmd: Command | null;
  /** The replier's own round-0 proposal (coordinator) or MCollectAck (fast-quorum member), if it made one. */
  readonly preAccepted: { readonly deps: readonly Dot[]; readonly seq: number } | null;
  /** The value accepted with the highest ballot (abal > 0), if any. */
  readonly accepted: { readonly ballot: number; readonly value: EPaxosValue } | null;
}
/**
 * [PreAccept at ballot b] Recovery rule 4: the recovering process asks every process for its local
 * dependencies of `cmd` (registering it), without any fast path; F+1 answers make the Accept value.
 */
export interface MRecoverCollect {
  readonly type: 'MRecoverCollect';
  readonly dot: Dot;
  readonly ballot: number;
  readonly cmd: Command;
}
/** [PreAcceptOK at ballot b] */
export interface MRecoverCollectAck {
  readonly type: 'MRecoverCollectAck';
  readonly dot: Dot;
  readonly ballot: number;
  readonly deps: readonly Dot[];
  readonly seq: number;
}
/** A refused MPrepare, MRecoverCollect or MConsensus: the replier promised `ballot`, higher. [D] */
export interface MNack {
  readonly type: 'MNack';
  readonly dot: Dot;
  readonly ballot: number;
}

export type EPaxosMessage =
  | MCollect
  | MCollectAck
  | MConsensus
  | MConsensusAck
  | MCommit
  | MGarbageCollection
  | MPrepare
  | MPrepareOk
  | MRecoverCollect
  | MRecoverCollectAck
  | MNack;
