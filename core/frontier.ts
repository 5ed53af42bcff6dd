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

/**
 * One {@link FrontierSet} per source (process or client).
 *
 * The two states most sources stay in are kept as a plain number instead of an object: `f > 0` is
 * "frontier f, nothing above it", `−e` is "frontier 0 and the single member e". Tempo's executor
 * keeps one map per key with a source per client, a client's requests on one key are sparse, and a
 * set object for each of those (millions in a long run) was a large part of what its garbage
 * collector had to trace. Any other state, or a caller asking for the set itself, gets a FrontierSet.
 */
export class FrontierMap {
  private readonly bySource = new Map<number, number | FrontierSet>();

  /** The set of `source`, as an object the caller may add to (made and kept from here on). */
  set(source: number): FrontierSet {
    const current = this.bySource.get(source);
    if (current instanceof FrontierSet) return current;
    const set = new FrontierSet();
    if (current !== undefined) {
      if (current > 0) set.addUpTo(current);
      else set.add(-current);
    }
    this.bySource.set(source, set);
    return set;
  }

  has(source: number, value: number): boolean {
    const current = this.bySource.get(source);
    if (current === undefined) return false;
    if (typeof current !== 'number') return current.has(value);
    return current > 0 ? value <= current : value === -current;
  }

  /** Adds `(source, value)` (value ≥ 1); returns false when it was already a member. */
  add(source: number, value: number): boolean {
    const current = this.bySource.get(source);
    if (current === undefined) {
      this.bySource.set(source, value === 1 ? 1 : -value);
      return true;
    }
    if (typeof current !== 'number') return current.add(value);
    if (current > 0) {
      // Frontier `current`, nothing above it (0 is never stored: a first member is 1 or above 1).
      if (value <= current) return false;
      if (value === current + 1) this.bySource.set(source, value);
      else this.set(source).add(value);
      return true;
    }
    // Frontier 0 and the single member `-current`.
    const single = -current;
    if (value === single) return false;
    if (value === 1 && single === 2) this.bySource.set(source, 2);
    else this.set(source).add(value);
    return true;
  }

  /** The frontier of every source seen, by ascending source. */
  frontiers(): Array<[number, number]> {
    return [...this.bySource]
      .map(([source, current]): [number, number] => [source, typeof current !== 'number' ? current.frontier : Math.max(current, 0)])
      .sort((a, b) => a[0] - b[0]);
  }
}
