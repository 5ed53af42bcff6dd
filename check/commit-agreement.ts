/**
 * Commit agreement (PROTOCOLS.md §8, "Commit agreement"): every process that commits a slot or a
 * dot commits the same value — the command of an FPaxos slot, the timestamp of a Tempo dot, the
 * dependencies of an EPaxos/Atlas dot. The monitor watches what each process hands its executor
 * (the simulator's `onInfo`), turned into a {@link CommitRecord} by the protocol's `commitOf`, so it
 * needs nothing from inside the protocol and sees disagreements before any execution does.
 */
import type { ProcessId } from '../core/ids.js';
import type { CommitRecord } from '../core/process.js';

export class CommitAgreementMonitor {
  /** id → the first value committed under it and who committed it. */
  private readonly first = new Map<string, { readonly value: string; readonly process: ProcessId }>();
  private readonly found: string[] = [];
  private commits = 0;

  constructor(private readonly limit = 20) {}

  /** Records that `process` committed `record`. */
  onCommit(process: ProcessId, record: CommitRecord): void {
    this.commits++;
    const first = this.first.get(record.id);
    if (first === undefined) {
      this.first.set(record.id, { value: record.value, process });
      return;
    }
    if (first.value === record.value || this.found.length >= this.limit) return;
    this.found.push(`${record.id}: process ${first.process} committed ${first.value} but process ${process} committed ${record.value} (commit agreement)`);
  }

  /** Commits observed, over every process. */
  get observed(): number {
    return this.commits;
  }

  /** Every disagreement found, as sentences (at most `limit`). */
  violations(): string[] {
    return [...this.found];
  }
}
