/**
 * Operation histories as a client sees them, independent of any protocol (PROTOCOLS.md §8.5–§8.6).
 *
 * An operation is one client command: when it was invoked, when its reply arrived (or that it never
 * arrived: a crashed client's last command may or may not have taken effect), and per key the
 * operations it applied and the results it got back. The simulator's `HistoryEntry` and a runtime
 * client's log both convert into this shape, so every checker in check/ reads only this.
 *
 * Checkers work per key: {@link projectByKey} splits every command into one sub-operation per key.
 * Linearizability is compositional (a history is linearizable iff every per-key projection is) only
 * when every command touches one key. A multi-key command must be atomic across its keys, which the
 * per-key projection cannot see; for multi-key workloads the per-key check is a proxy, to be read
 * together with the execution-order and real-time checks (PROTOCOLS.md §8.6).
 */
import type { Key, Op, OpResult } from '../core/command.js';
import { formatRifl, riflClient, riflSeq, type ClientId, type Rifl } from '../core/ids.js';
import { invariant } from '../core/invariant.js';

/** What one operation did to one key: its operations in order and, once completed, their results. */
export interface KeyOperationRecord {
  readonly key: Key;
  readonly ops: readonly Op[];
  /** One result per op, in order; null while the operation has not completed. */
  readonly results: readonly OpResult[] | null;
}

/** One client operation (one command). */
export interface Operation {
  readonly client: ClientId;
  readonly rifl: Rifl;
  /** When the client submitted the command, in milliseconds. */
  readonly invokeMs: number;
  /** When the reply reached the client, in milliseconds; null when it never did (pending). */
  readonly completeMs: number | null;
  /** Per key, sorted by key; every key's results are null exactly when `completeMs` is null. */
  readonly keys: readonly KeyOperationRecord[];
}

/** A whole run's operations, in any order. */
export type History = readonly Operation[];

/** One command's share of one key's history (what the per-key checkers search over). */
export interface KeyOperation {
  readonly client: ClientId;
  readonly rifl: Rifl;
  readonly invokeMs: number;
  readonly completeMs: number | null;
  readonly ops: readonly Op[];
  readonly results: readonly OpResult[] | null;
}

/**
 * The fields of a completed simulator operation this module reads. `sim/simulation.ts`'s
 * `HistoryEntry` fits it; taking the shape rather than the type keeps check/ independent of sim/.
 */
export interface CompletedEntry {
  readonly client: ClientId;
  readonly rifl: Rifl;
  readonly command: { readonly keys: readonly { readonly key: Key; readonly ops: readonly Op[] }[] };
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly results: readonly { readonly key: Key; readonly results: readonly OpResult[] }[];
}

/** A command that was submitted but whose reply never arrived (for example its client crashed). */
export interface PendingEntry {
  readonly client: ClientId;
  readonly rifl: Rifl;
  readonly command: { readonly keys: readonly { readonly key: Key; readonly ops: readonly Op[] }[] };
  readonly invokeMs: number;
}

/**
 * Converts the simulator's completed entries (and any commands that never completed) into a
 * {@link History}, matching each key's results to its operations. Throws when an entry's results do
 * not fit its command (a key without a result, two results for one key, a wrong result count),
 * because then the history itself is broken, not the protocol.
 */
export function historyFromSimulation(completed: readonly CompletedEntry[], pending: readonly PendingEntry[] = []): History {
  const history: Operation[] = [];
  for (const entry of completed) {
    const resultsByKey = new Map<Key, readonly OpResult[]>();
    for (const result of entry.results) {
      invariant(!resultsByKey.has(result.key), () => `${formatRifl(entry.rifl)}: two results for key ${result.key}`);
      resultsByKey.set(result.key, result.results);
    }
    invariant(
      resultsByKey.size === entry.command.keys.length,
      () => `${formatRifl(entry.rifl)}: ${resultsByKey.size} key results for a command on ${entry.command.keys.length} keys`,
    );
    const keys = entry.command.keys.map((keyOps): KeyOperationRecord => {
      const results = resultsByKey.get(keyOps.key);
      invariant(results !== undefined, () => `${formatRifl(entry.rifl)}: no result for key ${keyOps.key}`);
      return { key: keyOps.key, ops: keyOps.ops, results };
    });
    history.push({ client: entry.client, rifl: entry.rifl, invokeMs: entry.invokeMs, completeMs: entry.completeMs, keys: sortKeys(keys) });
  }
  for (const entry of pending) {
    const keys = entry.command.keys.map((keyOps): KeyOperationRecord => ({ key: keyOps.key, ops: keyOps.ops, results: null }));
    history.push({ client: entry.client, rifl: entry.rifl, invokeMs: entry.invokeMs, completeMs: null, keys: sortKeys(keys) });
  }
  validateHistory(history);
  return history;
}

/**
 * Throws when a history is malformed: a rifl twice, a rifl of another client, a completion before
 * its invocation, non-finite times, a command without keys or with a key twice, results missing
 * on a completed operation or present on a pending one, or a result count that differs from the op
 * count. Checkers call it first so that a verdict is never about a broken input.
 */
export function validateHistory(history: History): void {
  const seen = new Set<Rifl>();
  for (const operation of history) {
    const name = formatRifl(operation.rifl);
    invariant(!seen.has(operation.rifl), () => `history: ${name} appears twice`);
    seen.add(operation.rifl);
    invariant(riflClient(operation.rifl) === operation.client, () => `history: ${name} belongs to client ${riflClient(operation.rifl)}, not ${operation.client}`);
    invariant(Number.isFinite(operation.invokeMs), () => `history: ${name} has invocation time ${operation.invokeMs}`);
    const completeMs = operation.completeMs;
    if (completeMs !== null) {
      invariant(Number.isFinite(completeMs), () => `history: ${name} has completion time ${completeMs}`);
      invariant(completeMs >= operation.invokeMs, () => `history: ${name} completes at ${completeMs} ms, before its invocation at ${operation.invokeMs} ms`);
    }
    invariant(operation.keys.length > 0, () => `history: ${name} touches no key`);
    const keys = new Set<Key>();
    for (const record of operation.keys) {
      invariant(!keys.has(record.key), () => `history: ${name} lists key ${record.key} twice`);
      keys.add(record.key);
      invariant(record.ops.length > 0, () => `history: ${name} has no operations on key ${record.key}`);
      if (completeMs === null) {
        invariant(record.results === null, () => `history: ${name} never completed but has results on key ${record.key}`);
        continue;
      }
      const results = record.results;
      invariant(results !== null, () => `history: ${name} completed without results on key ${record.key}`);
      invariant(
        results.length === record.ops.length,
        () => `history: ${name} has ${results.length} results for ${record.ops.length} operations on key ${record.key}`,
      );
    }
  }
}

/**
 * Splits a history into one sub-history per key, keys sorted, each sub-history sorted by
 * invocation time (then rifl), so that every checker walks it in the same deterministic order.
 */
export function projectByKey(history: History): Map<Key, KeyOperation[]> {
  const byKey = new Map<Key, KeyOperation[]>();
  for (const operation of history) {
    for (const record of operation.keys) {
      let list = byKey.get(record.key);
      if (list === undefined) byKey.set(record.key, (list = []));
      list.push({
        client: operation.client,
        rifl: operation.rifl,
        invokeMs: operation.invokeMs,
        completeMs: operation.completeMs,
        ops: record.ops,
        results: record.results,
      });
    }
  }
  const sorted = new Map<Key, KeyOperation[]>();
  for (const key of [...byKey.keys()].sort(compareKeys)) {
    sorted.set(key, byKey.get(key)!.sort((a, b) => a.invokeMs - b.invokeMs || a.rifl - b.rifl));
  }
  return sorted;
}

/**
 * The real-time order between two operations: `a` precedes `b` when `a`'s reply arrived strictly
 * before `b` was invoked. Equal times count as concurrent (nothing says which happened first),
 * except between two operations of one client, whose later request cannot have been sent before
 * the earlier reply it waited for: there a completion at the very instant of the next invocation
 * still precedes it. A pending operation precedes nothing.
 */
export function precedes(a: Pick<KeyOperation, 'client' | 'rifl' | 'invokeMs' | 'completeMs'>, b: Pick<KeyOperation, 'client' | 'rifl' | 'invokeMs'>): boolean {
  if (a.completeMs === null) return false;
  if (a.completeMs < b.invokeMs) return true;
  return a.client === b.client && a.completeMs === b.invokeMs && riflSeq(a.rifl) < riflSeq(b.rifl);
}

/** True when the operation writes (puts or deletes) its key. */
export function writesKey(ops: readonly Op[]): boolean {
  for (const op of ops) if (op.op !== 'get') return true;
  return false;
}

/** A short description of one key operation for violation sentences, e.g. `2.7 put("2.7") [10.5–31.0 ms]`. */
export function describeKeyOperation(operation: KeyOperation): string {
  const parts: string[] = [];
  operation.ops.forEach((op, i) => {
    const result = operation.results === null ? '' : ` → ${formatValue(operation.results[i] ?? null)}`;
    parts.push(op.op === 'put' ? `put(${formatValue(op.value)})${result}` : `${op.op}${result}`);
  });
  const completion = operation.completeMs === null ? 'never completed' : `${formatMs(operation.completeMs)} ms`;
  return `${formatRifl(operation.rifl)} ${parts.join('; ')} [${formatMs(operation.invokeMs)}–${completion}]`;
}

/** A register value as written in sentences: quoted, or `null`. */
export function formatValue(value: OpResult): string {
  return value === null ? 'null' : JSON.stringify(value);
}

function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(3).replace(/0+$/, '');
}

function compareKeys(a: Key, b: Key): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortKeys(keys: KeyOperationRecord[]): KeyOperationRecord[] {
  return keys.sort((a, b) => compareKeys(a.key, b.key));
}
