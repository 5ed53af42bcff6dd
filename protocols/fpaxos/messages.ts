/** FPaxos messages (PROTOCOLS.md §9), plain data tagged with fantoch's names. */
import type { Command } from '../../core/command.js';

/** What a slot holds: a client command, or null for a no-op (a hole a new leader filled). */
export type SlotValue = Command | null;

/** A non-leader hands a client command to the leader. */
export interface MForwardSubmit {
  readonly type: 'MForwardSubmit';
  readonly cmd: Command;
}
/** Phase 2a: the leader asks its write quorum to accept `cmd` in `slot`. */
export interface MAccept {
  readonly type: 'MAccept';
  readonly ballot: number;
  readonly slot: number;
  readonly cmd: SlotValue;
}
/** Phase 2b: an acceptor accepted `slot` at `ballot`. */
export interface MAccepted {
  readonly type: 'MAccepted';
  readonly ballot: number;
  readonly slot: number;
}
/** `cmd` is chosen for `slot`. */
export interface MChosen {
  readonly type: 'MChosen';
  readonly slot: number;
  readonly cmd: SlotValue;
}
/** Periodic: every slot up to `committed` is committed at the sender. */
export interface MGarbageCollection {
  readonly type: 'MGarbageCollection';
  readonly committed: number;
}

/** Phase 1a: a candidate asks every acceptor to promise `ballot` (PROTOCOLS.md §2.3). */
export interface MPrepare {
  readonly type: 'MPrepare';
  readonly ballot: number;
}
/** One slot an acceptor reports in its promise. */
export interface PromisedSlot {
  readonly slot: number;
  readonly abal: number;
  readonly cmd: SlotValue;
}
/** Phase 1b: the acceptor promised `ballot`; what it accepted above its collected slots, and its committed frontier. */
export interface MPromise {
  readonly type: 'MPromise';
  readonly ballot: number;
  readonly accepted: readonly PromisedSlot[];
  readonly committed: number;
}
/** The acceptor refused a prepare or accept: it promised the higher `ballot`. */
export interface MNack {
  readonly type: 'MNack';
  readonly ballot: number;
}

export type FPaxosMessage = MForwardSubmit | MAccept | MAccepted | MChosen | MGarbageCollection | MPrepare | MPromise | MNack;

/** What the slot executor receives: the value chosen for a slot. */
export interface SlotInfo {
  readonly slot: number;
  readonly cmd: SlotValue;
}
