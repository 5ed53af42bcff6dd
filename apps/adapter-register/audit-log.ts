/**
 * The register's hash-chained audit log (docs/adapter-register.md, "The register").
 *
 * Each entry carries the hash of the entry before it (64 zeros for the first), and its own hash is
 * SHA-256 over that previous hash and a canonical encoding of its index, target and event. Editing,
 * removing, reordering or re-hashing any entry therefore breaks the chain at that entry or the next
 * one. Rewriting the whole tail consistently is only caught against a head obtained elsewhere (a
 * replica's `read()`), which is why {@link verifyAuditLog} takes an optional expected head.
 */
import { sha256Hex } from './sha256.js';

/** The previous hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What happened, as plain data; every accepted transition and vote is one event. */
export type AuditEvent =
  | {
      readonly type: 'proposed';
      readonly versionId: string;
      readonly seq: number;
      readonly digest: string;
      readonly size: number;
      readonly proposedAt: number;
    }
  | { readonly type: 'superseded'; readonly versionId: string; readonly by: string }
  | { readonly type: 'voted'; readonly versionId: string; readonly validator: string; readonly pass: boolean; readonly evidence: string }
  | { readonly type: 'released'; readonly versionId: string; readonly passes: number; readonly fails: number }
  | { readonly type: 'rejected'; readonly versionId: string; readonly passes: number; readonly fails: number }
  | { readonly type: 'stable'; readonly versionId: string };

/** One link of the chain. */
export interface AuditEntry {
  /** Position in the target's log, from 0. */
  readonly index: number;
  /** The deployment target whose register this log belongs to. */
  readonly target: string;
  readonly event: AuditEvent;
  /** `hash` of the entry at `index - 1`, or {@link GENESIS_HASH}. */
  readonly previousHash: string;
  /** SHA-256 of `previousHash` and the canonical encoding of index, target and event. */
  readonly hash: string;
}

/**
 * JSON with object keys sorted at every level, so the bytes hashed depend on the values only, never on
 * the order in which an entry's fields were written (or re-written by someone editing the log).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** The hash an entry with these contents must carry. */
export function entryHash(previousHash: string, index: number, target: string, event: AuditEvent): string {
  return sha256Hex(`${previousHash}\n${canonicalJson({ index, target, event })}`);
}

/** Builds the entry that follows `previous` (or the first entry when `previous` is undefined). */
export function chainEntry(previous: AuditEntry | undefined, target: string, event: AuditEvent): AuditEntry {
  const index = previous === undefined ? 0 : previous.index + 1;
  const previousHash = previous === undefined ? GENESIS_HASH : previous.hash;
  return { index, target, event, previousHash, hash: entryHash(previousHash, index, target, event) };
}

/** The outcome of {@link verifyAuditLog}: the head hash, or the first broken entry and why. */
export type AuditVerdict =
  | { readonly ok: true; readonly head: string; readonly length: number }
  | { readonly ok: false; readonly index: number; readonly reason: string };

/** What a verifier trusts from elsewhere: the head hash and length a replica reported. */
export interface ExpectedHead {
  readonly head: string;
  readonly length: number;
}

/**
 * Checks a log entry by entry: positions 0, 1, 2, … in order, one target, each previous hash equal to
 * the hash before it, and each hash recomputed from the entry's contents. With `expected`, the log must
 * also end at that head and length, which catches a truncated log or a consistently rewritten tail.
 */
export function verifyAuditLog(log: readonly AuditEntry[], expected?: ExpectedHead): AuditVerdict {
  let previousHash = GENESIS_HASH;
  const target = log[0]?.target;
  for (let i = 0; i < log.length; i++) {
    const entry = log[i]!;
    if (entry.index !== i) return { ok: false, index: i, reason: `entry at position ${i} claims index ${entry.index} (removed or reordered entries)` };
    if (entry.target !== target) return { ok: false, index: i, reason: `entry ${i} belongs to target '${entry.target}', not '${target}'` };
    if (entry.previousHash !== previousHash) {
      return { ok: false, index: i, reason: `entry ${i} does not chain to entry ${i - 1} (previous hash ${entry.previousHash.slice(0, 12)}…, expected ${previousHash.slice(0, 12)}…)` };
    }
    const recomputed = entryHash(entry.previousHash, entry.index, entry.target, entry.event);
    if (entry.hash !== recomputed) return { ok: false, index: i, reason: `entry ${i} was altered (its hash does not match its contents)` };
    previousHash = entry.hash;
  }
  if (expected !== undefined) {
    if (log.length !== expected.length) {
      return { ok: false, index: Math.min(log.length, expected.length), reason: `log has ${log.length} entries, the trusted head has ${expected.length}` };
    }
    if (previousHash !== expected.head) return { ok: false, index: log.length - 1, reason: 'log ends at a head other than the trusted one' };
  }
  return { ok: true, head: previousHash, length: log.length };
}
