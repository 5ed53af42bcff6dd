/**
 * Commands, operations and the conflict relation (PROTOCOLS.md §1.2).
 *
 * A command carries one or more keys, each with a list of operations applied in order. Two commands
 * conflict iff they share a key that at least one of them writes; read/read pairs commute.
 */
import type { Rifl } from './ids.js';
import { invariant } from './invariant.js';

export type Key = string;

/**
 * One operation on one key. `get`, `put` and `delete` are the key-value store's; `call` invokes a
 * named operation of another application (the adapter register's `propose`, `vote`, …) with its
 * arguments encoded as a string by that application, so commands stay plain data. Every operation but
 * `get` counts as a write for conflicts, `call` included: the command layer cannot know which calls
 * leave state untouched, and treating one as a write only costs ordering, never safety.
 */
export type Op =
  | { readonly op: 'get' }
  | { readonly op: 'put'; readonly value: string }
  | { readonly op: 'delete' }
  | { readonly op: 'call'; readonly name: string; readonly args: string };

/** The operations a command applies to one key, in order. */
export interface KeyOps {
  readonly key: Key;
  readonly ops: readonly Op[];
}

/** A client command: plain data, keys unique and sorted ascending. */
export interface Command {
  readonly rifl: Rifl;
  readonly keys: readonly KeyOps[];
  /** Opaque payload size in bytes (models request bodies; 0 when absent). */
  readonly payloadBytes: number;
}

/** The result of one operation: the value read or removed, or null. */
export type OpResult = string | null;

/** Builds a command, sorting its keys and checking they are unique and non-empty. */
export function makeCommand(rifl: Rifl, keys: readonly KeyOps[], payloadBytes = 0): Command {
  invariant(keys.length > 0, 'a command needs at least one key');
  const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const entry = sorted[i]!;
    invariant(entry.ops.length > 0, () => `key ${entry.key} has no operations`);
    invariant(i === 0 || sorted[i - 1]!.key !== entry.key, () => `key ${entry.key} appears twice`);
  }
  return { rifl, keys: sorted, payloadBytes };
}

/** True when every operation on `keyOps` is a get. */
export function keyOpsReadOnly(keyOps: KeyOps): boolean {
  for (const op of keyOps.ops) {
    if (op.op !== 'get') return false;
  }
  return true;
}

/** True when every operation on every key is a get. */
export function isReadOnly(cmd: Command): boolean {
  for (const keyOps of cmd.keys) {
    if (!keyOpsReadOnly(keyOps)) return false;
  }
  return true;
}

/** The command's operations on `key`, or undefined when it does not touch it. */
export function opsOnKey(cmd: Command, key: Key): KeyOps | undefined {
  for (const keyOps of cmd.keys) {
    if (keyOps.key === key) return keyOps;
  }
  return undefined;
}

/** Two commands conflict iff they share a key that at least one of them writes. */
export function conflicts(a: Command, b: Command): boolean {
  // Both key lists are sorted: walk them like a merge.
  let i = 0;
  let j = 0;
  while (i < a.keys.length && j < b.keys.length) {
    const ka = a.keys[i]!;
    const kb = b.keys[j]!;
    if (ka.key < kb.key) i++;
    else if (ka.key > kb.key) j++;
    else {
      if (!keyOpsReadOnly(ka) || !keyOpsReadOnly(kb)) return true;
      i++;
      j++;
    }
  }
  return false;
}
