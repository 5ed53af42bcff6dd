/**
 * The Option-F dependency index of EPaxos and Atlas (PROTOCOLS.md §4.1, decision [D]).
 *
 * Per key it keeps every command this process registered (as coordinator or fast-quorum member) that
 * is not yet known to have executed at every process. A read depends on all the writes on its keys; a
 * write depends on all the reads and all the writes. Unlike fantoch's latest-read/latest-write index
 * (Option L), this orders two reads followed by a write correctly and does not rely on transitivity,
 * which recovery may break.
 *
 * Pruning is safe only for commands executed everywhere: a command registered after the pruning is not
 * committed anywhere yet, so every process runs it after the pruned one. Pruning merely on "committed
 * everywhere" would not be safe (a committed command may still wait for its own dependencies at some
 * process, and a new command that skips it could overtake it there).
 *
 * The index also remembers each command's EPaxos `seq` (0 for Atlas).
 */
import { keyOpsReadOnly, type Command, type Key } from '../../core/command.js';
import { formatDot, type Dot } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { sortUniqueDeps } from './deps.js';

interface KeyEntry {
  readonly reads: Set<Dot>;
  readonly writes: Set<Dot>;
}

interface Registered {
  readonly cmd: Command;
  seq: number;
}

/** Most commands one index holds; reaching it means garbage collection is not keeping up. */
export const DEPENDENCY_INDEX_MAX = 4 * 1024 * 1024;

/** One process's Option-F index: per key, the registered reads and writes not yet executed everywhere. */
export class DependencyIndex {
  private readonly byKey = new Map<Key, KeyEntry>();
  private readonly registered = new Map<Dot, Registered>();

  /** Commands currently registered. */
  get size(): number {
    return this.registered.size;
  }

  /** Keys with at least one registered command. */
  get keyCount(): number {
    return this.byKey.size;
  }

  /** True when `dot` is registered here (and not pruned). */
  has(dot: Dot): boolean {
    return this.registered.has(dot);
  }

  /** The registered commands `cmd` conflicts with, sorted ascending. */
  conflicts(cmd: Command): Dot[] {
    const found: Dot[] = [];
    for (const keyOps of cmd.keys) {
      const entry = this.byKey.get(keyOps.key);
      if (entry === undefined) continue;
      for (const dot of entry.writes) found.push(dot);
      if (!keyOpsReadOnly(keyOps)) for (const dot of entry.reads) found.push(dot);
    }
    return sortUniqueDeps(found);
  }

  /** 1 + the highest `seq` among `deps` that are registered here (1 when there are none). */
  nextSeq(deps: readonly Dot[]): number {
    let highest = 0;
    for (const dot of deps) {
      const seq = this.registered.get(dot)?.seq ?? 0;
      if (seq > highest) highest = seq;
    }
    return highest + 1;
  }

  /** Adds `cmd` under `dot`, so that later conflicting commands depend on it. */
  register(dot: Dot, cmd: Command, seq: number): void {
    invariant(!this.registered.has(dot), () => `dependency index: ${formatDot(dot)} registered twice`);
    invariant(this.registered.size < DEPENDENCY_INDEX_MAX, () => `dependency index holds more than DEPENDENCY_INDEX_MAX=${DEPENDENCY_INDEX_MAX} commands`);
    this.registered.set(dot, { cmd, seq });
    for (const keyOps of cmd.keys) {
      let entry = this.byKey.get(keyOps.key);
      if (entry === undefined) {
        entry = { reads: new Set(), writes: new Set() };
        this.byKey.set(keyOps.key, entry);
      }
      (keyOpsReadOnly(keyOps) ? entry.reads : entry.writes).add(dot);
    }
  }

  /** Records the committed `seq` of a registered command (EPaxos); unknown dots are ignored. */
  updateSeq(dot: Dot, seq: number): void {
    const found = this.registered.get(dot);
    if (found !== undefined) found.seq = seq;
  }

  /** Forgets `dot`, a command executed at every process; unknown dots are ignored. */
  prune(dot: Dot): void {
    const found = this.registered.get(dot);
    if (found === undefined) return;
    this.registered.delete(dot);
    for (const keyOps of found.cmd.keys) {
      const entry = this.byKey.get(keyOps.key)!;
      (keyOpsReadOnly(keyOps) ? entry.reads : entry.writes).delete(dot);
      if (entry.reads.size === 0 && entry.writes.size === 0) this.byKey.delete(keyOps.key);
    }
  }
}
