/**
 * The recovery experiment's machinery at a small size: fault cases as a dimension of the points, the
 * timeline in each point's report, the recovery figures and timeline.csv, the timeline chart (one
 * line per point, a marker at the crash), and the same bytes for the same definition. Simulated time
 * only; a few seconds.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { EXPERIMENTS } from '../experiments/catalog.js';
import { chartConfig, chartModels } from '../experiments/charts.js';
import { expandDefinition, validateDefinition, type ExperimentDefinition } from '../experiments/definition.js';
import { csvColumns, tidyRows, timelineCsv } from '../experiments/output.js';
import { runPoint, simCommandOf } from '../experiments/point.js';
import { recoveryFigures } from '../experiments/recovery-figures.js';
import type { TimelineSummary } from '../sim/timeline.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with 'npm test', which builds first`);
});

const CRASH_AT_MS = 2_000;
const DURATION_MS = 6_000;

/** The built-in recovery experiment, shrunk: 3 clients per site, 6 s, crash at 2 s, no CPU model. */
const { cpuProfile: _cpuProfile, cores: _cores, ...BUILT_IN } = EXPERIMENTS.get('recovery')!;
const SMALL: ExperimentDefinition = {
  ...BUILT_IN,
  name: 'recovery-small',
  protocols: [{ protocol: 'tempo', f: [1] }, { protocol: 'fpaxos', f: [1] }],
  clientsPerRegion: [3],
  durationMs: DURATION_MS,
  // The crash cases; the removal case runs in its own test below.
  faults: BUILT_IN.faults!.filter((c) => c.schedule.removals === undefined).map((c) => ({
    ...c,
    schedule: { ...c.schedule, crashes: c.schedule.crashes!.map((crash) => ({ ...crash, atMs: CRASH_AT_MS })) },
  })),
};

describe('the recovery experiment', () => {
  test('the built-in definition: GCP 5 sites, the CPU model, a crash at 10 s of a 30 s run (then, in a second case, the removal at 15 s), FPaxos also with a follower crash', () => {
    const recovery = EXPERIMENTS.get('recovery')!;
    const points = expandDefinition(recovery);
    expect(points.map((p) => `${p.label} ${p.fault}`)).toEqual([
      'tempo f=1 crash-p1',
      'tempo f=1 crash-p1-removed',
      'atlas f=1 crash-p1',
      'atlas f=1 crash-p1-removed',
      'epaxos crash-p1',
      'epaxos crash-p1-removed',
      'fpaxos f=1 crash-p1',
      'fpaxos f=1 crash-p1-removed',
      'fpaxos f=1 crash-p4',
    ]);
    for (const point of points.filter((p) => p.fault === 'crash-p1-removed')) expect(point.faults!.removals).toEqual([{ process: 1, atMs: 15_000 }]);
    for (const point of points) {
      expect(point.regions.length).toBe(5);
      expect(point.cpuProfile).toBe('results/cpu-profile.json');
      expect(point.durationMs).toBe(30_000);
      expect(point.timelineMs).toBe(1000);
      expect(point.faults!.crashes![0]!.atMs).toBe(10_000);
      expect(point.failureDetectionMs).toBeGreaterThan(0);
    }
    // The command reruns the point alone, fault schedule inline.
    expect(simCommandOf(points.at(-1)!)).toMatch(/--duration-ms 30000 --faults '\{"crashes":\[\{"process":4,"atMs":10000\}\],"clientTimeoutMs":1000\}' --failure-detection-ms 1000 --timeline-ms 1000$/);
  });

  test('fault cases are validated with the simulator\'s own rules, and a timeline plot needs timelineMs', () => {
    const bad = (change: Record<string, unknown>) => () => validateDefinition({ ...SMALL, ...change });
    expect(bad({ faults: [{ name: 'x', schedule: { crashes: [{ process: 9, atMs: 1 }] } }] })).toThrow(
      /faults\[0\]\.schedule with site set gcp-5 \(n=5\): faults\.crashes\[0\]\.process must be a process id from 1 to 5 \(got 9\)$/,
    );
    expect(bad({ faults: [{ name: 'x', schedule: { removals: [{ process: 9, atMs: 1 }] } }] })).toThrow(/faults\.removals\[0\]\.process must be a process id from 1 to 5 \(got 9\)$/);
    expect(bad({ faults: [{ name: 'x', schedule: { restarts: [] } }] })).toThrow(/unknown fault kind 'restarts'/);
    expect(bad({ faults: [{ name: 'x', protocols: ['raft'], schedule: {} }] })).toThrow(/faults\[0\]\.protocols\[0\] must be one of the experiment's protocols tempo, fpaxos/);
    expect(bad({ timelineMs: undefined })).toThrow(/plots\[0\]: a timeline plot needs the definition's timelineMs/);
    expect(bad({ plots: [{ kind: 'timeline', file: 'x', title: 't', y: ['ops_per_sec', 'p99_ms'] }] })).toThrow(/draw ops_per_sec alone/);
    expect(bad({ faults: undefined })).toThrow(/failureDetectionMs needs faults/);
  });

  test('points run under their fault case; figures, CSVs and charts come from the timelines', () => {
    const points = expandDefinition(SMALL);
    expect(points.map((p) => `${p.label} ${p.fault}`)).toEqual(['tempo f=1 crash-p1', 'fpaxos f=1 crash-p1', 'fpaxos f=1 crash-p4']);
    const results = points.map(runPoint);
    for (const { point, report } of results) {
      const timeline = report.timeline!;
      // Every completed command is in one bucket; the run's faults are reported as `orrery sim --json` does.
      expect(timeline.buckets.reduce((sum, b) => sum + b.commands, 0)).toBe(report.commands);
      expect(report.faults!.crashed).toEqual([point.faults!.crashes![0]!.process]);
      // Buckets after the crash exist up to the clients' stop, and commands complete again in the last ones.
      expect(timeline.buckets.length).toBeGreaterThanOrEqual(DURATION_MS / 1000);
      expect(timeline.buckets[DURATION_MS / 1000 - 1]!.commands).toBeGreaterThan(0);
      // The crashed process's own clients (us-east1 for process 1, us-west1 for 4) complete nothing in
      // the bucket after the crash: their timeout (1 s) has not sent them elsewhere yet.
      const crashedSite = point.faults!.crashes![0]!.process === 1 ? 0 : 3;
      expect(timeline.buckets[CRASH_AT_MS / 1000 - 1]!.byRegion[crashedSite]).toBeGreaterThan(0);
      expect(timeline.buckets[CRASH_AT_MS / 1000]!.byRegion[crashedSite]).toBeLessThanOrEqual(3);
    }
    const [tempo, fpaxosLeader, fpaxosFollower] = results.map((r) => recoveryFigures(r.point, r.report.timeline));
    // A leader crash all but stops FPaxos for a second (what completes are replies already on their
    // way); afterwards the new leader is farther from most clients than us-east1 was, so FPaxos ends
    // lower than after a follower crash, which only moves that follower's clients.
    expect(fpaxosLeader!.ops_per_sec_min_after!).toBeLessThan(0.1 * fpaxosLeader!.ops_per_sec_before!);
    expect(fpaxosFollower!.ops_per_sec_end!).toBeGreaterThan(fpaxosLeader!.ops_per_sec_end!);
    for (const figures of [tempo!, fpaxosLeader!, fpaxosFollower!]) {
      expect(figures.ops_per_sec_min_after!).toBeLessThan(figures.ops_per_sec_before!);
      expect(figures.ops_per_sec_end!).toBeGreaterThan(figures.ops_per_sec_min_after!);
      expect(figures.settled_after_s).not.toBeNull();
    }
    const rows = tidyRows(results);
    expect(csvColumns(rows)).toEqual(expect.arrayContaining(['fault', 'ops_per_sec_before', 'settled_after_s']));
    const csv = timelineCsv(results)!.trim().split('\n');
    expect(csv[0]).toBe('experiment,point,label,fault,seed,t_s,commands,ops_per_sec,mean_ms,p50_ms,p99_ms');
    // Whole buckets only: the clients' stop ends each point's rows.
    expect(csv.length).toBe(1 + 3 * (DURATION_MS / 1000));

    const { models } = chartModels(SMALL.plots!, rows, results);
    const [throughput, latency] = models;
    expect(throughput!.datasets.map((d) => d.label)).toEqual(['tempo f=1', 'fpaxos f=1 (crash-p1)', 'fpaxos f=1 (crash-p4)']);
    expect(throughput!.datasets[0]!.data).toHaveLength(DURATION_MS / 1000);
    expect(throughput!.markers).toEqual([{ x: 2, label: 'crash of process 1 or 4' }]);
    // The two FPaxos lines have different colours, and p99 is dashed beside p50.
    expect(new Set(throughput!.datasets.map((d) => d.color)).size).toBe(3);
    expect(latency!.datasets.map((d) => [d.label, d.dashed === true])).toEqual([
      ['tempo f=1 p50', false],
      ['tempo f=1 p99', true],
      ['fpaxos f=1 (crash-p1) p50', false],
      ['fpaxos f=1 (crash-p1) p99', true],
      ['fpaxos f=1 (crash-p4) p50', false],
      ['fpaxos f=1 (crash-p4) p99', true],
    ]);
    const config = chartConfig(latency!, { responsive: false }) as { data: { markers: unknown; datasets: Array<{ borderDash?: number[] }> } };
    expect(config.data.markers).toEqual([{ x: 2, label: 'crash of process 1 or 4' }]);
    expect(config.data.datasets[1]!.borderDash).toEqual([6, 4]);
  });

  test('the removal case: the configuration changes at the removal, the chart marks it, and the run stays live', () => {
    const removal = BUILT_IN.faults!.find((c) => c.schedule.removals !== undefined)!;
    const definition: ExperimentDefinition = {
      ...SMALL,
      protocols: [{ protocol: 'atlas', f: [1] }],
      faults: [{ ...removal, schedule: { ...removal.schedule, crashes: [{ process: 1, atMs: CRASH_AT_MS }], removals: [{ process: 1, atMs: CRASH_AT_MS + 1_000 }] } }],
    };
    const [result] = expandDefinition(definition).map(runPoint);
    const report = result!.report;
    expect(report.faults!.configurations!.map((c) => c.members)).toEqual([[2, 3, 4, 5]]);
    expect(report.faults!.configurations![0]!.atMs).toBeGreaterThanOrEqual(CRASH_AT_MS + 1_000);
    expect(report.timeline!.buckets[DURATION_MS / 1000 - 1]!.commands).toBeGreaterThan(0);
    const { models } = chartModels(definition.plots!, tidyRows([result!]), [result!]);
    expect(models[0]!.markers).toEqual([
      { x: 2, label: 'crash of process 1' },
      { x: 3, label: 'removal of process 1' },
    ]);
  });

  test('orrery exp writes timeline.csv and the timeline PNGs; the same definition rewrites the same bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-recovery-'));
    const file = join(dir, 'small.json');
    const small = { ...SMALL, protocols: [{ protocol: 'fpaxos', f: [1] }], clientsPerRegion: [2] };
    writeFileSync(file, JSON.stringify(small));
    const outputs = ['a', 'b'].map((out) => {
      const run = spawnSync(process.execPath, [CLI, 'exp', file, '--out', join(dir, out), '--workers', '1'], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return join(dir, out);
    });
    const names = readdirSync(outputs[0]!).sort();
    expect(names).toEqual(['experiment.json', 'latency-over-time.png', 'points', 'report.html', 'results.csv', 'summary.md', 'throughput-over-time.png', 'timeline.csv']);
    for (const name of names.filter((n) => n.includes('.'))) {
      expect(readFileSync(join(outputs[1]!, name)).equals(readFileSync(join(outputs[0]!, name))), name).toBe(true);
    }
    expect(readFileSync(join(outputs[0]!, 'summary.md'), 'utf8')).toMatch(/\| fpaxos f=1 \| crash-p1 \| \d+ \| \d+ \| \d+ \|/);
  });

  test('recovery figures read whole buckets only, and a run that never dips settles at once', () => {
    const bucket = (k: number, ops: number) => ({ startMs: k * 1000, commands: ops, opsPerSec: ops, meanMs: 1, p50Ms: 1, p99Ms: ops === 0 ? null : 100 + k, byRegion: [ops] });
    const timeline: TimelineSummary = { bucketMs: 1000, regions: ['a'], buckets: [10, 100, 100, 0, 50, 80, 80, 80, 5].map((ops, k) => bucket(k, ops)) };
    const point = { ...expandDefinition(SMALL)[0]!, durationMs: 8000 };
    // The crash is at 2 s. Before: bucket 1 (bucket 0 is the clients' first round trips); after: 2–7; bucket 8 is past the stop.
    expect(recoveryFigures(point, timeline)).toEqual({ ops_per_sec_before: 100, ops_per_sec_min_after: 0, ops_per_sec_end: 58, settled_after_s: 3, p99_ms_max_after: 107 });
    const flat: TimelineSummary = { ...timeline, buckets: [100, 100, 100, 100, 100, 100, 100, 100].map((ops, k) => bucket(k, ops)) };
    expect(recoveryFigures(point, flat).settled_after_s).toBe(0);
    expect(recoveryFigures({ ...point, faults: {} }, timeline).ops_per_sec_before).toBeNull();
  });
});
