/**
 * A point's headline figures around a crash, read off its timeline (sim/timeline.ts): the throughput
 * before the crash, the lowest after it, the level at the end, how long it took to settle at that
 * level, and the worst p99. With closed-loop clients the level after a crash is usually below the one
 * before (the crashed site's clients talk to a farther process; quorums without the crashed process
 * are farther), so settling is measured against the level at the end, shown beside the one before. These are what the Atlas and Tempo papers' recovery figures are read for, as numbers a
 * table can hold. Only whole buckets count: the last bucket of a run (commands outstanding when the
 * clients stopped) and anything after `durationMs` would read as a drop that is not one.
 */
import type { TimelineBucket, TimelineSummary } from '../sim/timeline.js';
import type { Point, RecoveryField } from './definition.js';

/** Within this share of the level at the end counts as settled. */
export const SETTLED_SHARE = 0.9;
/** The level at the end is the mean of this many last whole buckets. */
export const END_BUCKETS = 5;

export type RecoveryFigures = Readonly<Record<RecoveryField, number | null>>;

const NONE: RecoveryFigures = {
  ops_per_sec_before: null,
  ops_per_sec_min_after: null,
  ops_per_sec_end: null,
  settled_after_s: null,
  p99_ms_max_after: null,
};

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

function meanOps(buckets: readonly TimelineBucket[]): number {
  return buckets.reduce((sum, b) => sum + b.opsPerSec, 0) / buckets.length;
}

/** The time of the point's first crash, or null when its schedule has none. */
export function firstCrashMs(point: Point): number | null {
  const crashes = point.faults?.crashes ?? [];
  return crashes.length === 0 ? null : Math.min(...crashes.map((c) => c.atMs));
}

/**
 * The whole buckets of a timeline: those that end by the clients' stop (`durationMs`), or, without
 * one, every bucket but the last.
 */
export function wholeBuckets(timeline: TimelineSummary, durationMs: number | undefined): TimelineBucket[] {
  const buckets = timeline.buckets;
  if (durationMs === undefined) return buckets.slice(0, -1);
  return buckets.filter((b) => b.startMs + timeline.bucketMs <= durationMs);
}

/**
 * The figures of a point with a timeline and a crash; all null otherwise. Before the crash: the
 * whole buckets that end by it, leaving out the first (clients' first round trips) when others
 * remain. After: the buckets from the one holding the crash on; the level at the end is the mean of
 * the last {@link END_BUCKETS}. `settled_after_s`: from the crash to the start of the first bucket
 * from which every later bucket keeps at least {@link SETTLED_SHARE} of the level at the end (0: no
 * dip that deep at this resolution).
 */
export function recoveryFigures(point: Point, timeline: TimelineSummary | undefined): RecoveryFigures {
  const crashMs = firstCrashMs(point);
  if (timeline === undefined || crashMs === null) return NONE;
  const whole = wholeBuckets(timeline, point.durationMs);
  const beforeAll = whole.filter((b) => b.startMs + timeline.bucketMs <= crashMs);
  const before = beforeAll.length > 1 ? beforeAll.slice(1) : beforeAll;
  const after = whole.filter((b) => b.startMs + timeline.bucketMs > crashMs);
  if (before.length === 0 || after.length === 0) return NONE;
  const level = meanOps(before);
  const end = meanOps(after.slice(-END_BUCKETS));
  let settledAt = after.length;
  while (settledAt > 0 && after[settledAt - 1]!.opsPerSec >= SETTLED_SHARE * end) settledAt--;
  const p99s = after.map((b) => b.p99Ms).filter((p): p is number => p !== null);
  return {
    ops_per_sec_before: round1(level),
    ops_per_sec_min_after: Math.min(...after.map((b) => b.opsPerSec)),
    ops_per_sec_end: round1(end),
    settled_after_s: settledAt === after.length ? null : Math.max(0, after[settledAt]!.startMs - crashMs) / 1000,
    p99_ms_max_after: p99s.length === 0 ? null : Math.max(...p99s),
  };
}
