/** Atlas messages (PROTOCOLS.md §9), plain data tagged with fantoch's names. */
import type { Command } from '../../core/command.js';
import type { Dot, ProcessId } from '../../core/ids.js';

/** What Atlas agrees on per dot: the dependencies (sorted ascending), or a no-op after recovery. */
export interface AtlasValue {
  readonly isNoop: boolean;
  readonly deps: readonly Dot[];
}

/** The coordinator proposes `cmd` with its local dependencies (`past`); sent to all. */
export interface MCollect {
  readonly type: 'MCollect';
  readonly dot: Dot;
  readonly cmd: Command;
  readonly deps: readonly Dot[];
  /** The coordinator's fast quorum, itself included. */
  readonly quorum: readonly ProcessId[];
}
/** A fast-quorum member's dependencies: `past` merged with its own (the coordinator sends `past`). */
export interface MCollectAck {
  readonly type: 'MCollectAck';
  readonly dot: Dot;
  readonly deps: readonly Dot[];
}
/** Slow path: phase 2 of the dot's synod. */
export interface MConsensus {
  readonly type: 'MConsensus';
  readonly dot: Dot;
  readonly ballot: number;
  readonly value: AtlasValue;
}
/** The acceptor accepted the value at `ballot`. */
export interface MConsensusAck {
  readonly type: 'MConsensusAck';
  readonly dot: Dot;
  readonly ballot: number;
}
/** The value is chosen. */
export interface MCommit {
  readonly type: 'MCommit';
  readonly dot: Dot;
  readonly value: AtlasValue;
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

export type AtlasMessage = MCollect | MCollectAck | MConsensus | MConsensusAck | MCommit | MGarbageCollection;
