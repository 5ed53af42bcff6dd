/**
 * A set of positive integers stored as a frontier plus exceptions: every value ≤ `frontier` is in the
 * set, and `exceptions` holds the members above it. Sequences that fill in mostly in order (dots of one
 * source, requests of one client, slots) stay O(gaps) in memory however long the run.
 */
export class FrontierSet {
  private frontierValue = 0;
  private readonly above = new Set<number>();

  /** The largest x such that 1..x are all members. */
  get frontier(): number {
    return this.frontierValue;
  }

  /** Members above the frontier. */
  get exceptionCount(): number {
    return this.above.size;
  }

  has(value: number): boolean {
    return value <= this.frontierValue || this.above.has(value);
  }

  /** Adds `value` (≥ 1); returns false when it was already a member. */
  add(value: number): boolean {
    if (this.has(value)) return false;
    if (value === this.frontierValue + 1) {
      this.frontierValue = value;
      while (this.above.delete(this.frontierValue + 1)) this.frontierValue++;
    } else {
      this.above.add(value);
    }
    return true;
  }

  /** Adds every value in 1..upTo. */
  addUpTo(upTo: number): void {
    if (upTo <= this.frontierValue) return;
    for (const value of this.above) if (value <= upTo) this.above.delete(value);
    this.frontierValue = upTo;
    while (this.above.delete(this.frontierValue + 1)) this.frontierValue++;
  }
}

/** One {@link FrontierSet} per source (process or client). */
export class FrontierMap {
  private readonly bySource = new Map<number, FrontierSet>();

  set(source: number): FrontierSet {
    let set = this.bySource.get(source);
    if (set === undefined) {
      set = new FrontierSet();
      this.bySource.set(source, set);
    }
    return set;
  }

  has(source: number, value: number): boolean {
    const set = this.bySource.get(source);
    return set !== undefined && set.has(value);
  }

  /** Adds `(source, value)`; returns false when it was already a member. */
  add(source: number, value: number): boolean {
    return this.set(source).add(value);
  }

  /** The frontier of every source seen, by ascending source. */
  frontiers(): Array<[number, number]> {
    return [...this.bySource].map(([source, set]): [number, number] => [source, set.frontier]).sort((a, b) => a[0] - b[0]);
  }
}
