/**
 * Execution-order agreement, the universal SMR check (PROTOCOLS.md §8, "Consistent order"), for any
 * protocol. It watches every process's executor from outside and checks, per key:
 * - no process executes a rifl twice on a key (integrity);
 * - each process's sequence of writes is a prefix of one common sequence;
 * - each read sits between the same two writes everywhere (read/read pairs may differ).
 */
import { formatRifl, type ProcessId, type Rifl } from '../core/ids.js';

/** Tells whether a command wrote a key (true) or only read it (false). */
export type WriteLookup = (rifl: Rifl, key: string) => boolean;

export class ExecutionOrderMonitor {
  /** key → process → rifls in execution order */
  private readonly byKey = new Map<string, Map<ProcessId, Rifl[]>>();
  private readonly countByProcess = new Map<ProcessId, number>();

  /** Records that `process` executed `rifl`'s operations on `key`. */
  onExecuted(process: ProcessId, rifl: Rifl, key: string): void {
    let byProcess = this.byKey.get(key);
    if (byProcess === undefined) {
      byProcess = new Map();
      this.byKey.set(key, byProcess);
    }
    let sequence = byProcess.get(process);
    if (sequence === undefined) {
      sequence = [];
      byProcess.set(process, sequence);
    }
    sequence.push(rifl);
    this.countByProcess.set(process, (this.countByProcess.get(process) ?? 0) + 1);
  }

  /** Partial results executed by `process`. */
  executedBy(process: ProcessId): number {
    return this.countByProcess.get(process) ?? 0;
  }

  /** The rifls `process` executed on `key`, in order. */
  sequence(process: ProcessId, key: string): readonly Rifl[] {
    return this.byKey.get(key)?.get(process) ?? [];
  }

  keys(): string[] {
    return [...this.byKey.keys()].sort();
  }

  /** Every violation found, as sentences (empty when the order agrees everywhere). */
  violations(isWrite: WriteLookup, limit = 20): string[] {
    const found: string[] = [];
    for (const key of this.keys()) {
      if (found.length >= limit) break;
      this.checkKey(key, this.byKey.get(key)!, isWrite, found);
    }
    return found.slice(0, limit);
  }

  private checkKey(key: string, byProcess: Map<ProcessId, Rifl[]>, isWrite: WriteLookup, found: string[]): void {
    let reference: Rifl[] = [];
    let referenceProcess = 0;
    const writesByProcess = new Map<ProcessId, Rifl[]>();
    const readSlots = new Map<Rifl, { process: ProcessId; writesBefore: number }>();
    const processes = [...byProcess.keys()].sort((a, b) => a - b);
    for (const process of processes) {
      const sequence = byProcess.get(process)!;
      const seen = new Set<Rifl>();
      const writes: Rifl[] = [];
      for (const rifl of sequence) {
        if (seen.has(rifl)) {
          found.push(`key ${key}: process ${process} executed ${formatRifl(rifl)} twice`);
          continue;
        }
        seen.add(rifl);
        if (isWrite(rifl, key)) {
          writes.push(rifl);
          continue;
        }
        const slot = readSlots.get(rifl);
        if (slot === undefined) readSlots.set(rifl, { process, writesBefore: writes.length });
        else if (slot.writesBefore !== writes.length) {
          found.push(
            `key ${key}: read ${formatRifl(rifl)} follows ${slot.writesBefore} writes at process ${slot.process} but ${writes.length} at process ${process}`,
          );
        }
      }
      writesByProcess.set(process, writes);
      if (writes.length > reference.length) {
        reference = writes;
        referenceProcess = process;
      }
    }
    for (const process of processes) {
      const writes = writesByProcess.get(process)!;
      for (let i = 0; i < writes.length; i++) {
        if (writes[i] !== reference[i]) {
          found.push(
            `key ${key}: write #${i + 1} is ${formatRifl(writes[i]!)} at process ${process} but ${formatRifl(reference[i]!)} at process ${referenceProcess}`,
          );
          break;
        }
      }
    }
  }
}

/** A {@link WriteLookup} built from the commands of a run. */
export function writeLookupFrom(commands: Iterable<{ rifl: Rifl; keys: readonly { key: string; ops: readonly { op: string }[] }[] }>): WriteLookup {
  const writes = new Map<Rifl, Set<string>>();
  for (const cmd of commands) {
    const written = new Set<string>();
    for (const keyOps of cmd.keys) if (keyOps.ops.some((op) => op.op !== 'get')) written.add(keyOps.key);
    writes.set(cmd.rifl, written);
  }
  return (rifl, key) => writes.get(rifl)?.has(key) ?? true;
}
