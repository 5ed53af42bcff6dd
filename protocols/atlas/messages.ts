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
/**
 * Slow path: phase 2 of the dot's synod. A recovery's MConsensus also carries the payload, so that
 * every acceptor of a recovered value can hand it on (a later recovery may find only them).
 */
export interface MConsensus {
  readonly type: 'MConsensus';
  readonly dot: Dot;
  readonly ballot: number;
  readonly value: AtlasValue;
  readonly payload?: Payload;
}
/** A command with its coordinator's fast quorum: what a process needs to take part in a recovery. */
export interface Payload {
  readonly cmd: Command;
  readonly quorum: readonly ProcessId[];
}
/** The acceptor accepted the value at `ballot`. */
export interface MConsensusAck {
  readonly type: 'MConsensusAck';
  readonly dot: Dot;
  readonly ballot: number;
}
/**
 * The value is chosen. `cmd` rides along when the receiver may not have the payload: after a
 * recovery, when a committed process helps a recovering one, and when a commit is resent to a
 * process that fell behind (PROTOCOLS.md §7.1).
 */
export interface MCommit {
  readonly type: 'MCommit';
  readonly dot: Dot;
  readonly value: AtlasValue;
  readonly cmd?: Command;
}
/**
 * Where a recovery acknowledger stood when it promised (PROTOCOLS.md §7.3); NO_PAYLOAD [D]: it never
 * saw the command, and the recovering process did not send it either (it recovers a dependency it
 * only knows by its dot).
 */
export type RecoveryPhase = 'RECOVER_R' | 'RECOVER_P' | 'NO_PAYLOAD';
/**
 * Recovery, phase 1 of the dot's synod at a ballot above round 0. It carries the payload (the command
 * and the coordinator's fast quorum), so a process that never saw the MCollect can still take part;
 * null when the recovering process knows the dot only as a dependency of a committed command.
 */
export interface MRec {
  readonly type: 'MRec';
  readonly dot: Dot;
  readonly ballot: number;
  readonly payload: Payload | null;
}
/**
 * The promise: the sender's dependencies for the dot (its original report when it was in the fast
 * quorum's COLLECT, RECOVER_P; computed now otherwise, RECOVER_R), its accepted value if any, and the
 * payload when it has it (so a recovering process without it learns it).
 */
export interface MRecAck {
  readonly type: 'MRecAck';
  readonly dot: Dot;
  readonly ballot: number;
  readonly deps: readonly Dot[];
  readonly phase: RecoveryPhase;
  readonly abal: number;
  readonly aval: AtlasValue | null;
  readonly payload: Payload | null;
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

export type AtlasMessage = MCollect | MCollectAck | MConsensus | MConsensusAck | MCommit | MRec | MRecAck | MGarbageCollection;
