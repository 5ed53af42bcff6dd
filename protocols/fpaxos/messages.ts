/** FPaxos messages (PROTOCOLS.md §9), plain data tagged with fantoch's names. */
import type { Command } from '../../core/command.js';

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
  readonly cmd: Command;
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
  readonly cmd: Command;
}
/** Periodic: every slot up to `committed` is committed at the sender. */
export interface MGarbageCollection {
  readonly type: 'MGarbageCollection';
  readonly committed: number;
}

export type FPaxosMessage = MForwardSubmit | MAccept | MAccepted | MChosen | MGarbageCollection;

/** What the slot executor receives: the command chosen for a slot. */
export interface SlotInfo {
  readonly slot: number;
  readonly cmd: Command;
}
