/**
 * Tempo's stability soundness (PROTOCOLS.md §8, Tempo), checked after the run: for every key `k`,
 * every command that *ever* commits with timestamp ≤ t on `k` was already committed at process p
 * when t became stable at p. Recovery is where this can break (a recovered timestamp below votes a
 * majority already revealed, votes revealed before their command committed), so the check runner
 * applies it to every Tempo case.
 *
 * The monitor watches what each process hands its executor (the simulator's `onInfo`): commits with
 * their attached votes, and detached votes. It keeps its own vote table per process and key, with the
 * real threshold ⌊n/2⌋+1, so it judges the votes the protocol revealed, independently of the
 * executor's own stability computation (an executor bug is caught by the order checks instead).
 * For each commit it notes the process's stable timestamp just before; at the end, a commit at or
 * below that, or a commit anywhere at or below a process's final stable timestamp that this process
 * never committed, is a violation.
 */
import { formatDot, type Dot, type ProcessId } from '../core/ids.js';
import { majority } from '../core/quorum.js';
import type { TempoInfo } from '../protocols/tempo/messages.js';
import { VoteTable } from '../protocols/tempo/vote-table.js';

export class TempoStabilityMonitor {
  /** `${process}/${key}` → the process's votes on the key as revealed to it. */
  private readonly tables = new Map<string, VoteTable>();
  /** `${process}/${key}/${dot}` → the key's stable timestamp at the process just before it committed the dot. */
  private readonly stableAtCommit = new Map<string, number>();
  /** `${key}/${dot}` → the committed timestamp (the first seen; agreement is checked elsewhere). */
  private readonly commits = new Map<string, { readonly key: string; readonly dot: Dot; readonly clock: number }>();
  private readonly processes = new Set<ProcessId>();

  constructor(
    private readonly n: number,
    private readonly limit = 20,
  ) {}

  /** `process` handed `info` to its executor. */
  onInfo(process: ProcessId, info: TempoInfo): void {
    if (info.type === 'StableAtKey') return;
    this.processes.add(process);
    const table = this.table(process, info.key);
    if (info.type === 'Committed') {
      this.stableAtCommit.set(`${process}/${info.key}/${info.dot}`, table.stable());
      const id = `${info.key}/${info.dot}`;
      if (!this.commits.has(id)) this.commits.set(id, { key: info.key, dot: info.dot, clock: info.clock });
    }
    for (const vote of info.votes) table.add(vote.by, vote.start, vote.end);
  }

  /** Every breach of stability soundness, as sentences (at most `limit`). */
  violations(): string[] {
    const found: string[] = [];
    const processes = [...this.processes].sort((a, b) => a - b);
    for (const { key, dot, clock } of this.commits.values()) {
      for (const process of processes) {
        const before = this.stableAtCommit.get(`${process}/${key}/${dot}`);
        const stable = before ?? this.tables.get(`${process}/${key}`)?.stable() ?? 0;
        if (clock > stable) continue;
        found.push(
          before === undefined
            ? `process ${process} key ${key}: timestamp ${stable} is stable but ${formatDot(dot)} at ${clock} never committed there (stability soundness)`
            : `process ${process} key ${key}: ${formatDot(dot)} committed at ${clock} after ${stable} was stable there (stability soundness)`,
        );
        if (found.length >= this.limit) return found;
      }
    }
    return found;
  }

  private table(process: ProcessId, key: string): VoteTable {
    const id = `${process}/${key}`;
    let table = this.tables.get(id);
    if (table === undefined) {
      table = new VoteTable(this.n, majority(this.n));
      this.tables.set(id, table);
    }
    return table;
  }
}
