/** EPaxos messages (PROTOCOLS.md §9), plain data tagged with fantoch's names; the paper's in brackets. */
import type { Command } from '../../core/command.js';
import type { Dot, ProcessId } from '../../core/ids.js';

/** What EPaxos agrees on per dot: the dependencies (sorted ascending) and the sequence number. */
export interface EPaxosValue {
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
}
/** [PreAcceptOK] A fast-quorum member's dependencies and seq, the coordinator's merged with its own. */
export interface MCollectAck {
  readonly type: 'MCollectAck';
  readonly dot: Dot;
  readonly deps: readonly Dot[];
  readonly seq: number;
}
/** [Accept] Slow path: phase 2 of the dot's synod. */
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
/** [Commit] The value is chosen. */
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

export type EPaxosMessage = MCollect | MCollectAck | MConsensus | MConsensusAck | MCommit | MGarbageCollection;
