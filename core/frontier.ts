/**
 * A set of positive integers stored as a frontier plus exceptions: every value ≤ `frontier` is in the
 * set, and `exceptions` holds the members above it. Sequences that fill in mostly in order (dots of one
 * source, requests of one client, slots) stay O(gaps) in memory however long the run.
 */
export class FrontierSet {
  private frontierValue = 0;
  /**
   * The members above the frontier: one in an inline slot (0: the slot is empty), the others in a
   * Set made only when the slot is taken. Sparse sequences — a client's requests as seen on one key
   * by Tempo's executor — mostly hold exactly one, and a Set for each of them cost that executor about
   * a quarter of its CPU time, allocation and garbage collection (bench:executor, inline).
   */
  private firstAbove = 0;
  private moreAbove: Set<number> | undefined;

  /** The largest x such that 1..x are all members. */
  get frontier(): number {
    return this.frontierValue;
  }

  /** Members above the frontier. */
  get exceptionCount(): number {
    return (this.firstAbove === 0 ? 0 : 1) + (this.moreAbove?.size ?? 0);
  }

  has(value: number): boolean {
    return value <= this.frontierValue || value === this.firstAbove || (this.moreAbove !== undefined && this.moreAbove.has(value));
  }

  /** Adds `value` (≥ 1); returns false when it was already a member. */
  add(value: number): boolean {
    if (this.has(value)) return false;
    if (value === this.frontierValue + 1) {
      this.frontierValue = value;
      this.absorb();
    } else if (this.firstAbove === 0) {
      this.firstAbove = value;
    } else {
      (this.moreAbove ??= new Set()).add(value);
    }
    return true;
  }

  /** Adds every value in 1..upTo. */
  addUpTo(upTo: number): void {
    if (upTo <= this.frontierValue) return;
    if (this.firstAbove !== 0 && this.firstAbove <= upTo) this.firstAbove = 0;
    if (this.moreAbove !== undefined) for (const value of this.moreAbove) if (value <= upTo) this.moreAbove.delete(value);
    this.frontierValue = upTo;
    this.absorb();
  }

  /** Moves members above the frontier that now extend it into it. */
  private absorb(): void {
    for (;;) {
      const next = this.frontierValue + 1;
      if (this.firstAbove === next) this.firstAbove = 0;
      else if (this.moreAbove === undefined || !this.moreAbove.delete(next)) break;
      this.frontierValue = next;
    }
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
