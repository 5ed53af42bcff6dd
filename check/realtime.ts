/**
 * Real-time order (PROTOCOLS.md §8.5): if `c1`'s reply reached its client before `c2` was submitted
 * and the two conflict on key `k`, every process executes `c1` before `c2` on `k`.
 *
 * A cheap companion to the linearizability search: it reads the client history and the per-process
 * execution sequences the {@link ExecutionOrderMonitor} records, and runs in time linear in what
 * each process executed. It is exact for multi-key commands too, where the per-key linearizability
 * check is only a proxy. Together with the order monitor (every process executes conflicting
 * commands in one order) it implies that order extends real time.
 */
import type { Key } from '../core/command.js';
import { formatRifl, type ProcessId, type Rifl } from '../core/ids.js';
import { precedes, projectByKey, validateHistory, writesKey, type History, type KeyOperation } from './history.js';
import type { ExecutionOrderMonitor } from './order.js';

/** Per process and key, the rifls executed in order (the {@link ExecutionOrderMonitor} provides it). */
export type ExecutionSequences = Pick<ExecutionOrderMonitor, 'sequence'>;

/**
 * Every real-time order violation, as sentences (at most `limit`; at most one per process and key,
 * since one misplaced command usually drags others along). Rifls executed but absent from the
 * history are ignored here (validity is {@link exactlyOnceViolations}' concern); a process that
 * executed nothing on a key is not checked on it.
 */
export function realTimeOrderViolations(history: History, executions: ExecutionSequences, processes: readonly ProcessId[], limit = 20): string[] {
  validateHistory(history);
  const found: string[] = [];
  for (const [key, operations] of projectByKey(history)) {
    const byRifl = new Map<Rifl, KeyOperation>();
    for (const operation of operations) byRifl.set(operation.rifl, operation);
    for (const process of [...processes].sort((a, b) => a - b)) {
      if (found.length >= limit) return found;
      const violation = checkProcess(key, process, executions.sequence(process, key), operations, byRifl);
      if (violation !== undefined) found.push(violation);
    }
  }
  return found;
}

/** The earliest-completing operation in some set, split by whether it writes the key. */
class Earliest {
  any: KeyOperation | undefined;
  writer: KeyOperation | undefined;

  add(operation: KeyOperation): void {
    if (operation.completeMs === null) return;
    if (this.any === undefined || operation.completeMs < this.any.completeMs!) this.any = operation;
    if (writesKey(operation.ops) && (this.writer === undefined || operation.completeMs < this.writer.completeMs!)) this.writer = operation;
  }

  /** The operation that must precede `c2` (conflicting with it) among those in the set, if any. */
  blocking(c2: KeyOperation): KeyOperation | undefined {
    // A write conflicts with everything on the key; a read only with writes.
    const first = writesKey(c2.ops) ? this.any : this.writer;
    return first !== undefined && precedes(first, c2) ? first : undefined;
  }
}

function checkProcess(
  key: Key,
  process: ProcessId,
  sequence: readonly Rifl[],
  operations: readonly KeyOperation[],
  byRifl: ReadonlyMap<Rifl, KeyOperation>,
): string | undefined {
  if (sequence.length === 0) return undefined;
  // First executions only: a second execution is an integrity violation reported elsewhere.
  const executed: KeyOperation[] = [];
  const seen = new Set<Rifl>();
  for (const rifl of sequence) {
    const operation = byRifl.get(rifl);
    if (operation === undefined || seen.has(rifl)) continue;
    seen.add(rifl);
    executed.push(operation);
  }
  // Walk backwards, keeping the earliest completion among commands executed later (or never), both
  // over all clients (a strictly earlier completion precedes) and per client (program order: a
  // completion at the instant of the same client's next invocation precedes it too).
  const never = new Earliest();
  const neverByClient = new Map<number, Earliest>();
  for (const operation of operations) {
    if (seen.has(operation.rifl)) continue;
    never.add(operation);
    earliestOf(neverByClient, operation.client).add(operation);
  }
  const later = new Earliest();
  const laterByClient = new Map<number, Earliest>();
  for (let j = executed.length - 1; j >= 0; j--) {
    const c2 = executed[j]!;
    const laterC1 = later.blocking(c2) ?? laterByClient.get(c2.client)?.blocking(c2);
    if (laterC1 !== undefined) return sentence(key, process, laterC1, c2, 'after');
    const neverC1 = never.blocking(c2) ?? neverByClient.get(c2.client)?.blocking(c2);
    if (neverC1 !== undefined) return sentence(key, process, neverC1, c2, 'never');
    later.add(c2);
    earliestOf(laterByClient, c2.client).add(c2);
  }
  return undefined;
}

function earliestOf(map: Map<number, Earliest>, client: number): Earliest {
  let earliest = map.get(client);
  if (earliest === undefined) map.set(client, (earliest = new Earliest()));
  return earliest;
}

function sentence(key: Key, process: ProcessId, c1: KeyOperation, c2: KeyOperation, how: 'after' | 'never'): string {
  const executedC1 = how === 'after' ? `executed ${formatRifl(c2.rifl)} before ${formatRifl(c1.rifl)}` : `executed ${formatRifl(c2.rifl)} but never ${formatRifl(c1.rifl)}`;
  return (
    `key ${key}: process ${process} ${executedC1}, though ${formatRifl(c1.rifl)} completed (at ${c1.completeMs} ms) ` +
    `before ${formatRifl(c2.rifl)} was invoked (at ${c2.invokeMs} ms) and they conflict (real-time order)`
  );
}
