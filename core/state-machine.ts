/**
 * The replicated application, as every executor sees it: a deterministic function of the operations
 * applied to it, in the order the protocol decided. Executors own one instance each and call `apply`
 * with one command's operations on one key; the application never learns which protocol ordered them
 * (the key-value store and the adapter register both run under FPaxos, EPaxos, Atlas and Tempo).
 *
 * The contract that replication relies on: the results and the state after `apply` depend only on the
 * state before it and on `keyOps` — no clock, no randomness, no I/O, no iteration order of anything
 * the caller does not control. Two instances fed the same sequence are indistinguishable.
 *
 * Conflicts are the command layer's business (core/command.ts): every operation but `get` is a write,
 * so an application must leave its state untouched when it answers a `get`.
 */
import type { KeyOps, OpResult } from './command.js';
import { UsageError } from './invariant.js';

/** A deterministic application an executor applies committed commands to. */
export interface StateMachine {
  /** Applies one command's operations on one key, in order, and returns one result per operation. */
  apply(keyOps: KeyOps): OpResult[];
}

/**
 * An operation the configured application does not implement (e.g. an adapter-register `call`
 * reaching the key-value store): the deployment wires commands to the wrong application.
 */
export class UnsupportedOperationError extends UsageError {
  override name = 'UnsupportedOperationError';
}
