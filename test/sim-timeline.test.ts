/**
 * The simulator's timeline (sim/timeline.ts, `SimulationOptions.timelineMs`) and fixed-length runs
 * (`durationMs`): buckets account for every completed command, agree with the history, show a crashed
 * site's clients stalling until their timeout sends them elsewhere, and are the same for the same seed.
 * Simulated time only.
 */
import { describe, expect, test } from 'vitest';
import { Histogram } from '../core/histogram.js';
import { formatReport, makeReport, nsToMs } from '../sim/report.js';
import { Simulation } from '../sim/simulation.js';
import { Timeline } from '../sim/timeline.js';
import { simulationOptions } from './support/simulate.js';

const REGIONS = ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'];
const CRASH_AT_MS = 2_000;
const CLIENT_TIMEOUT_MS = 1_000;
const DURATION_MS = 6_000;

function run(protocol: 'fpaxos' | 'tempo', timelineMs: number | undefined, seed = 1) {
  const options = simulationOptions({ protocol, regions: REGIONS, clientsPerRegion: 4, workload: { commandsPerClient: 100_000 }, seed });
  return new Simulation({
    ...options,
    durationMs: DURATION_MS,
    faults: { crashes: [{ process: 1, atMs: CRASH_AT_MS }], clientTimeoutMs: CLIENT_TIMEOUT_MS },
    failureDetectionMs: 200,
    ...(timelineMs === undefined ? {} : { timelineMs }),
  }).run();
}

describe('timeline: commands and latency per bucket of simulated time', () => {
  for (const protocol of ['fpaxos', 'tempo'] as const) {
    test(`${protocol}: buckets add up to the run, match the history, and show the crashed site's clients stalled`, () => {
      const result = run(protocol, 500);
      const timeline = result.timeline!;
      expect(timeline.bucketMs).toBe(500);
      expect(timeline.regions).toEqual(REGIONS);
      const buckets = timeline.buckets;
      // Every completed command is in exactly one bucket, and each bucket's region counts add up.
      expect(buckets.reduce((sum, b) => sum + b.commands, 0)).toBe(result.commandsCompleted);
      for (const bucket of buckets) expect(bucket.byRegion.reduce((a, b) => a + b, 0)).toBe(bucket.commands);
      buckets.forEach((bucket, k) => expect(bucket.startMs).toBe(k * 500));
      // Clients stop at the duration: the last bucket holds the commands outstanding then, no later.
      const lastReplyMs = result.durationNs / 1_000_000;
      expect(lastReplyMs).toBeGreaterThan(DURATION_MS);
      expect(buckets.length).toBe(Math.floor(lastReplyMs / 500) + 1);
      expect(lastReplyMs).toBeLessThan(DURATION_MS + 2 * CLIENT_TIMEOUT_MS);
      // Against the history: the same counts and latency percentiles per bucket.
      buckets.forEach((bucket, k) => {
        const inBucket = result.history!.filter((h) => Math.floor(h.completeMs / 500) === k);
        expect(inBucket.length).toBe(bucket.commands);
        if (inBucket.length === 0) return expect(bucket.p99Ms).toBeNull();
        const latency = new Histogram();
        for (const h of inBucket) latency.add(Math.round((h.completeMs - h.invokeMs) * 1_000_000));
        expect(bucket.p50Ms).toBe(nsToMs(latency.percentile(50)));
        expect(bucket.p99Ms).toBe(nsToMs(latency.percentile(99)));
        expect(bucket.opsPerSec).toBeCloseTo(bucket.commands * 2, 1);
      });
      // Process 1 (us-east1, FPaxos's leader) crashes at 2 s: its 4 clients complete at most the command
      // in flight each (replies already on the wire, retries answered) until their timeout (1 s) sends
      // them to another process, against dozens a second before; and they complete again after that.
      const usEast = (from: number, until: number) => buckets.slice(from / 500, until / 500).reduce((sum, b) => sum + b.byRegion[0]!, 0);
      expect(usEast(CRASH_AT_MS - 1000, CRASH_AT_MS)).toBeGreaterThan(20);
      expect(usEast(CRASH_AT_MS, CRASH_AT_MS + CLIENT_TIMEOUT_MS)).toBeLessThanOrEqual(2 * 4);
      expect(buckets.slice(((CRASH_AT_MS + CLIENT_TIMEOUT_MS) / 500) + 2, DURATION_MS / 500).every((b) => b.byRegion[0]! > 0)).toBe(true);
      // Before the crash every region completes commands in every bucket after the first round trips.
      for (const bucket of buckets.slice(1, CRASH_AT_MS / 500)) expect(bucket.byRegion.every((count) => count > 0)).toBe(true);
    });
  }

  test('the same seed gives the same timeline; another seed another; the option off records none', () => {
    const a = makeReport(run('tempo', 1000));
    expect(JSON.stringify(makeReport(run('tempo', 1000)))).toBe(JSON.stringify(a));
    expect(JSON.stringify(makeReport(run('tempo', 1000, 2)).timeline)).not.toBe(JSON.stringify(a.timeline));
    const off = run('tempo', undefined);
    expect(off.timeline).toBeUndefined();
    // The timeline only observes: the run itself is the same with it on or off.
    expect(makeReport(off).latencyMs).toEqual(a.latencyMs);
    expect(formatReport(a)).toMatch(/\ntimeline: 1000 ms buckets of simulated time, by completion\n +t \(s\) +ops\/s +mean +p50 +p99 +us-east1/);
  });

  test('a bucket with nothing completed has no latency; buckets grow as time reaches them', () => {
    const timeline = new Timeline(1000, ['a', 'b']);
    timeline.add(2_500_000_000, 40_000_000, 1);
    timeline.add(2_600_000_000, 20_000_000, 0);
    const summary = timeline.summary();
    expect(summary.buckets.map((b) => [b.startMs, b.commands, b.opsPerSec, b.p50Ms, b.p99Ms, b.byRegion])).toEqual([
      [0, 0, 0, null, null, [0, 0]],
      [1000, 0, 0, null, null, [0, 0]],
      [2000, 2, 2, 20, 40, [1, 1]],
    ]);
    expect(() => new Timeline(0, ['a'])).toThrow(/^the timeline's bucket must be 1 to 3600000 ms/);
  });
});
