/**
 * Garbage collection of per-dot state for EPaxos and Atlas (PROTOCOLS.md §7.7).
 *
 * Each process records, per source, the dots it committed and the dots its executor ran, each as a
 * frontier plus exceptions. Every `gcIntervalMs` it sends both frontier vectors to the others. A
 * receiver joins each sender's vectors component-wise (reports can arrive reordered: a frontier never
 * moves back). Per source, a dot is
 * - *committed-stable* once every process reported it committed: its protocol state may go, and any
 *   later message about it is late and ignored (otherwise a late MCollect would revive it);
 * - *executed-stable* once every process reported it executed: it may leave the dependency index.
 * Until every process has reported, nothing is stable. "Every process" means every member of the
 * current configuration (core/membership.ts): a crashed process stops all collection until the
 * configuration removes it (`setMembers`), after which its reports no longer count.
 */
import { FrontierMap } from '../../core/frontier.js';
import { dotSeq, dotSource, makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';

/** Both frontier vectors of one process; index i is source i+1. */
export interface GcReport {
  readonly committed: readonly number[];
  readonly executed: readonly number[];
}

/** One process's view of what is committed and executed where, and what became stable. */
export class GarbageCollector {
  private readonly committed = new FrontierMap();
  private readonly executed = new FrontierMap();
  /** reported[p * n + s]: highest frontier process p+1 reported for source s+1. */
  private readonly reportedCommitted: Float64Array;
  private readonly reportedExecuted: Float64Array;
  /** Per source (index source−1), the stable frontiers. */
  private readonly stableCommitted: Float64Array;
  private readonly stableExecuted: Float64Array;
  /** member[p − 1] is 1 while process p belongs to the configuration. */
  private readonly member: Uint8Array;

  constructor(
    private readonly self: ProcessId,
    private readonly n: number,
  ) {
    this.reportedCommitted = new Float64Array(n * n);
    this.reportedExecuted = new Float64Array(n * n);
    this.stableCommitted = new Float64Array(n);
    this.stableExecuted = new Float64Array(n);
    this.member = new Uint8Array(n).fill(1);
  }

  /**
   * From now on only `members` must report a dot before it is stable; dots the departed processes
   * were holding back become stable at once (handed to the callbacks as in `receive`).
   */
  setMembers(members: readonly ProcessId[], onCollected: (dot: Dot) => void, onExecutedEverywhere: (dot: Dot) => void): void {
    this.member.fill(0);
    for (const p of members) this.member[p - 1] = 1;
    invariant(this.member[this.self - 1] === 1, 'a garbage collector outside its own configuration');
    const own = this.report();
    join(this.reportedCommitted, (this.self - 1) * this.n, own.committed);
    join(this.reportedExecuted, (this.self - 1) * this.n, own.executed);
    advance(this.reportedCommitted, this.stableCommitted, this.n, this.member, onCollected);
    advance(this.reportedExecuted, this.stableExecuted, this.n, this.member, onExecutedEverywhere);
  }

  /** This process committed `dot`. */
  commit(dot: Dot): void {
    this.committed.add(dotSource(dot), dotSeq(dot));
  }

  /** This process's executor ran `dot`. */
  execute(dot: Dot): void {
    this.executed.add(dotSource(dot), dotSeq(dot));
  }

  /** True when `dot` is committed at every process: its state is gone and messages about it are late. */
  isCollected(dot: Dot): boolean {
    return dotSeq(dot) <= this.stableCommitted[dotSource(dot) - 1]!;
  }

  /** True when `dot` executed at every process. */
  isExecutedEverywhere(dot: Dot): boolean {
    return dotSeq(dot) <= this.stableExecuted[dotSource(dot) - 1]!;
  }

  /** The committed-stable frontier of `source`. */
  collectedUpTo(source: ProcessId): number {
    return this.stableCommitted[source - 1]!;
  }

  /** The executed-stable frontier of `source`. */
  executedEverywhereUpTo(source: ProcessId): number {
    return this.stableExecuted[source - 1]!;
  }

  /** This process's committed frontier of `source`: its dots 1..frontier are all committed here. */
  committedFrontier(source: ProcessId): number {
    return this.committed.set(source).frontier;
  }

  /** True when this process committed `dot`. */
  isCommitted(dot: Dot): boolean {
    return this.committed.has(dotSource(dot), dotSeq(dot));
  }

  /** The highest committed frontier of `source` that `peer` reported (0 before its first report). */
  reportedCommittedBy(peer: ProcessId, source: ProcessId): number {
    return this.reportedCommitted[(peer - 1) * this.n + (source - 1)]!;
  }

  /** This process's own frontiers, to gossip. */
  report(): GcReport {
    const committed: number[] = [];
    const executed: number[] = [];
    for (let source = 1; source <= this.n; source++) {
      committed.push(this.committed.set(source).frontier);
      executed.push(this.executed.set(source).frontier);
    }
    return { committed, executed };
  }

  /**
   * Joins `from`'s report (and this process's own frontiers), then hands every newly committed-stable
   * dot to `onCollected` and every newly executed-stable dot to `onExecutedEverywhere`, by source and seq.
   */
  receive(from: ProcessId, report: GcReport, onCollected: (dot: Dot) => void, onExecutedEverywhere: (dot: Dot) => void): void {
    const n = this.n;
    invariant(from >= 1 && from <= n && from !== this.self, () => `garbage collection report from process ${from}`);
    invariant(report.committed.length === n && report.executed.length === n, () => `garbage collection report of the wrong size from ${from}`);
    join(this.reportedCommitted, (from - 1) * n, report.committed);
    join(this.reportedExecuted, (from - 1) * n, report.executed);
    const own = this.report();
    join(this.reportedCommitted, (this.self - 1) * n, own.committed);
    join(this.reportedExecuted, (this.self - 1) * n, own.executed);
    advance(this.reportedCommitted, this.stableCommitted, n, this.member, onCollected);
    advance(this.reportedExecuted, this.stableExecuted, n, this.member, onExecutedEverywhere);
  }
}

function join(reported: Float64Array, row: number, frontiers: readonly number[]): void {
  for (let s = 0; s < frontiers.length; s++) {
    const value = frontiers[s]!;
    if (value > reported[row + s]!) reported[row + s] = value;
  }
}

function advance(reported: Float64Array, stable: Float64Array, n: number, member: Uint8Array, onStable: (dot: Dot) => void): void {
  for (let s = 0; s < n; s++) {
    let lowest = Infinity;
    for (let p = 0; p < n; p++) if (member[p] === 1) lowest = Math.min(lowest, reported[p * n + s]!);
    const from = stable[s]!;
    if (lowest <= from) continue;
    stable[s] = lowest;
    for (let seq = from + 1; seq <= lowest; seq++) onStable(makeDot(s + 1, seq));
  }
}
