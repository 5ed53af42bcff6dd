/**
 * A histogram with exact statistics: it keeps a count per distinct value (latencies in the simulator
 * are integer nanoseconds, so distinct values are few), and answers percentiles by the nearest-rank
 * rule: the p-th percentile is the smallest value v such that at least p% of the samples are ≤ v.
 */
import { invariant } from './invariant.js';

export interface HistogramSummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  private total = 0;
  private sum = 0;
  private sortedCache: number[] | null = null;

  /** Adds `times` samples of `value` (a finite number). */
  add(value: number, times = 1): void {
    invariant(Number.isFinite(value), () => `histogram value must be finite (got ${value})`);
    this.counts.set(value, (this.counts.get(value) ?? 0) + times);
    this.total += times;
    this.sum += value * times;
    this.sortedCache = null;
  }

  /** Adds every sample of `other`. */
  merge(other: Histogram): void {
    for (const [value, count] of other.counts) this.add(value, count);
  }

  get count(): number {
    return this.total;
  }

  mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /** Nearest-rank percentile, `p` in (0, 100]. */
  percentile(p: number): number {
    invariant(p > 0 && p <= 100, () => `percentile must be in (0, 100] (got ${p})`);
    if (this.total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (const value of this.sorted()) {
      seen += this.counts.get(value)!;
      if (seen >= rank) return value;
    }
    return this.sorted()[this.sorted().length - 1]!;
  }

  min(): number {
    return this.total === 0 ? 0 : this.sorted()[0]!;
  }

  max(): number {
    const sorted = this.sorted();
    return this.total === 0 ? 0 : sorted[sorted.length - 1]!;
  }

  /** All statistics, each value passed through `scale` (e.g. nanoseconds to milliseconds). */
  summary(scale: (value: number) => number = (v) => v): HistogramSummary {
    return {
      count: this.total,
      mean: scale(this.mean()),
      min: scale(this.min()),
      p50: scale(this.percentile(50)),
      p95: scale(this.percentile(95)),
      p99: scale(this.percentile(99)),
      p999: scale(this.percentile(99.9)),
      max: scale(this.max()),
    };
  }

  /** (value, cumulative fraction) points, ascending: the empirical CDF. */
  cdf(): Array<[number, number]> {
    const points: Array<[number, number]> = [];
    let seen = 0;
    for (const value of this.sorted()) {
      seen += this.counts.get(value)!;
      points.push([value, seen / this.total]);
    }
    return points;
  }

  private sorted(): number[] {
    if (this.sortedCache === null) this.sortedCache = [...this.counts.keys()].sort((a, b) => a - b);
    return this.sortedCache;
  }
}
