/**
 * Identifiers shared by every protocol (PROTOCOLS.md §1.1).
 *
 * `Dot` and `Rifl` are pairs, encoded into one safe integer `high * 2^32 + low` so that they are
 * plain data (they cross the simulator, TCP and postMessage unchanged), cheap to hash as Map keys,
 * and totally ordered lexicographically by plain numeric comparison.
 */
import { invariant } from './invariant.js';

/** A replica process, 1..n. The id 0 is reserved (ballot 0 means "nothing accepted"). */
export type ProcessId = number;
/** A client, 1..2^20. */
export type ClientId = number;
/** An executor shard index, 0..shards-1. */
export type ShardId = number;

/** (source process, sequence ≥ 1): the id a coordinator gives a command. */
export type Dot = number;
/** (client, sequence ≥ 1): the client's request id, used to reply and to de-duplicate. */
export type Rifl = number;

const LOW = 0x1_0000_0000; // 2^32
/** Largest value of the high half, so that `high * 2^32 + low` stays a safe integer. */
export const PAIR_HIGH_MAX = 0x1f_ffff; // 2^21 - 1

function pair(high: number, low: number, what: string): number {
  invariant(Number.isInteger(high) && high >= 0 && high <= PAIR_HIGH_MAX, () => `${what}: bad high part ${high}`);
  invariant(Number.isInteger(low) && low >= 0 && low < LOW, () => `${what}: bad low part ${low}`);
  return high * LOW + low;
}

/** The dot `(source, seq)`. */
export function makeDot(source: ProcessId, seq: number): Dot {
  return pair(source, seq, 'dot');
}
export function dotSource(dot: Dot): ProcessId {
  return Math.floor(dot / LOW);
}
export function dotSeq(dot: Dot): number {
  return dot % LOW;
}
/** `(source,seq)`, as the papers write it. */
export function formatDot(dot: Dot): string {
  return `(${dotSource(dot)},${dotSeq(dot)})`;
}

/** The rifl `(client, seq)`. */
export function makeRifl(client: ClientId, seq: number): Rifl {
  return pair(client, seq, 'rifl');
}
export function riflClient(rifl: Rifl): ClientId {
  return Math.floor(rifl / LOW);
}
export function riflSeq(rifl: Rifl): number {
  return rifl % LOW;
}
export function formatRifl(rifl: Rifl): string {
  return `${riflClient(rifl)}.${riflSeq(rifl)}`;
}

/** Ascending numeric order; for dots this is the lexicographic `(source, seq)` order. */
export function compareIds(a: number, b: number): number {
  return a - b;
}
