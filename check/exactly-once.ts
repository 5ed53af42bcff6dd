/**
 * Exactly-once execution (PROTOCOLS.md §8.1 validity, §8.2 integrity, §8.7 liveness), from the same
 * observations as the real-time check: the client history and the per-process execution sequences.
 *
 * - At most once: no process executes a rifl twice on a key. The {@link ExecutionOrderMonitor}
 *   already reports this; it is asked here with every command treated as a read, which leaves the
 *   write-order checks nothing to compare, so what it returns is exactly the duplicates.
 * - At least once: after a run, every completed command was executed, on each of its keys, by every
 *   process that caught up.
 * - Nothing made up: when the history lists every submitted command (pending ones included), every
 *   rifl a process executed on a key was submitted with that key.
 */
import type { Key } from '../core/command.js';
import { formatRifl, type ProcessId, type Rifl } from '../core/ids.js';
import { validateHistory, type History } from './history.js';
import type { ExecutionOrderMonitor } from './order.js';

/** What the check needs to see of the order monitor. */
export type ExecutionRecord = Pick<ExecutionOrderMonitor, 'sequence' | 'keys' | 'violations'>;

export interface ExactlyOnceOptions {
  /** Processes expected to have executed every completed command (after a run, those caught up). */
  readonly caughtUp: readonly ProcessId[];
  /** Every process whose executions were observed (checked for duplicates and made-up rifls). */
  readonly processes: readonly ProcessId[];
  /** The history lists every submitted command, pending ones included, so an unknown rifl is a fault. */
  readonly historyHasEverySubmission?: boolean;
  /** Sentences returned at most. */
  readonly limit?: number;
}

/** Every exactly-once violation, as sentences (empty when each command ran exactly once where it should). */
export function exactlyOnceViolations(history: History, executions: ExecutionRecord, options: ExactlyOnceOptions): string[] {
  validateHistory(history);
  const limit = options.limit ?? 20;
  const found = executions.violations(() => false, limit);
  const keysOf = new Map<Rifl, ReadonlySet<Key>>();
  for (const operation of history) keysOf.set(operation.rifl, new Set(operation.keys.map((record) => record.key)));
  const processes = [...options.processes].sort((a, b) => a - b);

  const executedOn = new Map<string, ReadonlySet<Rifl>>();
  const executedAt = (process: ProcessId, key: Key): ReadonlySet<Rifl> => {
    const id = `${process}@${key}`;
    let set = executedOn.get(id);
    if (set === undefined) executedOn.set(id, (set = new Set(executions.sequence(process, key))));
    return set;
  };

  if (options.historyHasEverySubmission === true) {
    for (const key of executions.keys()) {
      for (const process of processes) {
        for (const rifl of executedAt(process, key)) {
          if (found.length >= limit) return found;
          if (keysOf.get(rifl)?.has(key) !== true) {
            const why = keysOf.has(rifl) ? `which does not touch key ${key}` : 'which no client submitted';
            found.push(`key ${key}: process ${process} executed ${formatRifl(rifl)}, ${why}`);
          }
        }
      }
    }
  }

  const ordered = [...history].sort((a, b) => a.rifl - b.rifl);
  for (const process of [...options.caughtUp].sort((a, b) => a - b)) {
    for (const operation of ordered) {
      if (operation.completeMs === null) continue;
      for (const record of operation.keys) {
        if (found.length >= limit) return found;
        if (!executedAt(process, record.key).has(operation.rifl)) {
          found.push(`key ${record.key}: process ${process} caught up but never executed ${formatRifl(operation.rifl)}, which completed at ${operation.completeMs} ms`);
        }
      }
    }
  }
  return found;
}
