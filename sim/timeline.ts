/**
 * Throughput and latency over time: the commands clients completed in each bucket of simulated time
 * (`[k·bucket, (k+1)·bucket)`, by completion time), with their latencies. This is the shape of the
 * Atlas and Tempo papers' recovery figures: a crash shows as a dip in commands per second and a spike
 * in latency, and the buckets after it show whether and when the protocol came back.
 *
 * The simulator feeds it one call per completed client command when the option is on, and holds no
 * instance when it is off (one branch on the reply path). Buckets are created as time reaches them,
 * so a run allocates one histogram per bucket, not per command.
 */
import { Histogram } from '../core/histogram.js';
import { invariant, UsageError } from '../core/invariant.js';

const NS_PER_MS = 1_000_000;
/** Limit on buckets per run: a timeline is for a chart, not a trace (an hour in 1 s buckets fits). */
export const TIMELINE_BUCKETS_MAX = 100_000;

/** One bucket of a finished timeline, ready for a report (milliseconds, rounded to the microsecond). */
export interface TimelineBucket {
  /** Start of the bucket in simulated milliseconds. */
  readonly startMs: number;
  /** Commands completed in the bucket. */
  readonly commands: number;
  /** Commands completed per second of the bucket. */
  readonly opsPerSec: number;
  /** Latency of the commands completed in the bucket; null when none completed. */
  readonly meanMs: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Commands completed in the bucket per client region, in the order of `regions`. */
  readonly byRegion: readonly number[];
}

/** A finished timeline. */
export interface TimelineSummary {
  readonly bucketMs: number;
  /** The client regions `byRegion` counts are for. */
  readonly regions: readonly string[];
  /**
   * Every bucket from 0 to the one holding the last completion (empty ones included); after a stall,
   * to the one where the simulator gave up.
   */
  readonly buckets: readonly TimelineBucket[];
}

/** Milliseconds from nanoseconds, rounded to the microsecond (as sim/report.ts). */
function nsToMs(ns: number): number {
  return Math.round(ns / 1000) / 1000;
}

/** Checks a bucket width given by a person (flag or definition). */
export function validateTimelineMs(bucketMs: number): void {
  if (!(Number.isFinite(bucketMs) && bucketMs >= 1 && bucketMs <= 3_600_000)) {
    throw new UsageError(`the timeline's bucket must be 1 to 3600000 ms of simulated time (got ${bucketMs})`);
  }
}

export class Timeline {
  private readonly bucketNs: number;
  private readonly latencies: Histogram[] = [];
  /** Completions per (bucket · regions + region), grown with the buckets. */
  private byRegion: Uint32Array = new Uint32Array(0);

  /**
   * @param bucketMs width of a bucket in simulated milliseconds
   * @param regions the client regions, in the order `add`'s `region` indexes
   */
  constructor(
    readonly bucketMs: number,
    readonly regions: readonly string[],
  ) {
    validateTimelineMs(bucketMs);
    this.bucketNs = Math.round(bucketMs * NS_PER_MS);
  }

  /** A client of region `region` (an index into `regions`) completed a command at `completeNs` after `latencyNs`. */
  add(completeNs: number, latencyNs: number, region: number): void {
    const bucket = Math.floor(completeNs / this.bucketNs);
    if (bucket >= this.latencies.length) this.grow(bucket);
    this.latencies[bucket]!.add(latencyNs);
    this.byRegion[bucket * this.regions.length + region]!++;
  }

  private grow(bucket: number): void {
    invariant(bucket < TIMELINE_BUCKETS_MAX, () => `timeline: bucket ${bucket} passes TIMELINE_BUCKETS_MAX=${TIMELINE_BUCKETS_MAX}; use wider buckets`);
    while (this.latencies.length <= bucket) this.latencies.push(new Histogram());
    const counts = new Uint32Array(this.latencies.length * this.regions.length);
    counts.set(this.byRegion);
    this.byRegion = counts;
  }

  /** Commands recorded so far. */
  get commands(): number {
    return this.latencies.reduce((sum, h) => sum + h.count, 0);
  }

  /**
   * The buckets so far; with `throughNs`, also the empty buckets up to the one holding `throughNs − 1`
   * (a run that stalled: nothing completed until then).
   */
  summary(throughNs?: number): TimelineSummary {
    if (throughNs !== undefined && throughNs > 0) {
      const last = Math.min(Math.floor((throughNs - 1) / this.bucketNs), TIMELINE_BUCKETS_MAX - 1);
      if (last >= this.latencies.length) this.grow(last);
    }
    const seconds = this.bucketNs / (1000 * NS_PER_MS);
    const regions = this.regions.length;
    return {
      bucketMs: this.bucketMs,
      regions: this.regions,
      buckets: this.latencies.map((h, k) => {
        const empty = h.count === 0;
        return {
          startMs: nsToMs(k * this.bucketNs),
          commands: h.count,
          opsPerSec: Math.round((h.count / seconds) * 10) / 10,
          meanMs: empty ? null : nsToMs(h.mean()),
          p50Ms: empty ? null : nsToMs(h.percentile(50)),
          p99Ms: empty ? null : nsToMs(h.percentile(99)),
          byRegion: Array.from(this.byRegion.subarray(k * regions, (k + 1) * regions)),
        };
      }),
    };
  }
}
