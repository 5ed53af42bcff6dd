/**
 * The votes one key has received from all n processes, and the stability rule (PROTOCOLS.md §5.3).
 *
 * Each process's votes on the key are a {@link VoteRanges}: a frontier (every timestamp 1..frontier
 * voted) plus the disjoint ranges voted above it. A timestamp t is *stable* once ⌊n/2⌋+1 processes
 * have frontiers ≥ t: some majority voted on everything up to t, it intersects the majority whose
 * proposals bound any command's timestamp from below, and that command's votes travel only with its
 * commit, so every command that will ever commit at ≤ t on this key is already committed here.
 */
import { invariant } from '../../core/invariant.js';
import { majority } from '../../core/quorum.js';

/** A set of timestamps ≥ 1: a frontier plus sorted, disjoint, non-adjacent ranges above it. */
export class VoteRanges {
  private frontierValue = 0;
  /** Flat [start0, end0, start1, end1, …], ascending, each start > frontier + 1. */
  private above: number[] = [];

  /** The largest x such that 1..x are all voted. */
  get frontier(): number {
    return this.frontierValue;
  }

  /** Ranges held above the frontier (for memory checks). */
  get rangeCount(): number {
    return this.above.length / 2;
  }

  /** Adds `start..end`; adding votes already present is harmless (set union). Returns true if the frontier moved. */
  add(start: number, end: number): boolean {
    invariant(start >= 1 && start <= end, () => `bad vote range ${start}..${end}`);
    if (end <= this.frontierValue) return false;
    if (start <= this.frontierValue + 1) {
      this.frontierValue = end;
      this.absorb();
      return true;
    }
    this.insert(start, end);
    return false;
  }

  /** Moves ranges that now touch the frontier into it. */
  private absorb(): void {
    const above = this.above;
    let i = 0;
    while (i < above.length && above[i]! <= this.frontierValue + 1) {
      if (above[i + 1]! > this.frontierValue) this.frontierValue = above[i + 1]!;
      i += 2;
    }
    if (i > 0) this.above = above.slice(i);
  }

  /** Inserts a range above frontier + 1, merging with overlapping or adjacent ranges. */
  private insert(start: number, end: number): void {
    const above = this.above;
    let i = 0;
    while (i < above.length && above[i + 1]! + 1 < start) i += 2; // ranges wholly below
    let j = i;
    let mergedStart = start;
    let mergedEnd = end;
    while (j < above.length && above[j]! <= end + 1) {
      mergedStart = Math.min(mergedStart, above[j]!);
      mergedEnd = Math.max(mergedEnd, above[j + 1]!);
      j += 2;
    }
    above.splice(i, j - i, mergedStart, mergedEnd);
  }
}

/** The votes of all n processes on one key, and the key's stable timestamp. */
export class VoteTable {
  private readonly byProcess: VoteRanges[];
  private readonly scratch: number[];
  private readonly stableIndex: number;
  private stableValue = 0;
  private dirty = false;

  /** `stabilityThreshold` is ⌊n/2⌋+1; only the checker's broken-variant tests pass another. */
  constructor(
    readonly n: number,
    stabilityThreshold = majority(n),
  ) {
    this.byProcess = Array.from({ length: n }, () => new VoteRanges());
    this.scratch = new Array<number>(n).fill(0);
    // Ascending frontiers: the entry at n − (⌊n/2⌋+1) is reached by ⌊n/2⌋+1 processes.
    this.stableIndex = n - stabilityThreshold;
  }

  /** Adds a vote by process `by` on `start..end`. */
  add(by: number, start: number, end: number): void {
    const ranges = this.byProcess[by - 1];
    invariant(ranges !== undefined, () => `vote by unknown process ${by} (n=${this.n})`);
    if (ranges.add(start, end)) this.dirty = true;
  }

  /** The process's frontier on this key. */
  frontierOf(by: number): number {
    return this.byProcess[by - 1]!.frontier;
  }

  /** The highest timestamp a majority has voted up to: every timestamp ≤ it is stable. */
  stable(): number {
    if (!this.dirty) return this.stableValue;
    this.dirty = false;
    const values = this.scratch;
    const n = this.n;
    // Insertion sort: n is small (≤ 64) and this runs only after a frontier moved.
    for (let i = 0; i < n; i++) {
      const value = this.byProcess[i]!.frontier;
      let j = i - 1;
      while (j >= 0 && values[j]! > value) {
        values[j + 1] = values[j]!;
        j--;
      }
      values[j + 1] = value;
    }
    const stable = values[this.stableIndex]!;
    invariant(stable >= this.stableValue, () => `stable timestamp went back from ${this.stableValue} to ${stable}`);
    this.stableValue = stable;
    return stable;
  }
}
