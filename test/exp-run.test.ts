import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { ExperimentDefinition } from '../experiments/definition.js';
import { expandDefinition } from '../experiments/definition.js';
import { CSV_COLUMNS, renderTable, tidyCsv, tidyRows, type TidyRow } from '../experiments/output.js';
import { runPoint, simFlagsOf } from '../experiments/point.js';
import { runPoints } from '../experiments/runner.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

function orrery(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with 'npm test', which builds first`);
});

const TINY: ExperimentDefinition = {
  name: 'tiny',
  description: 'FPaxos and Tempo on three AWS sites',
  siteSets: [{ name: 'aws-3', planet: 'aws', regions: ['eu-west-1', 'us-west-1', 'ap-southeast-1'] }],
  protocols: [{ protocol: 'fpaxos', f: [1] }, { protocol: 'tempo', f: [1] }],
  conflictPct: [0, 30],
  clientsPerRegion: [2],
  commandsPerClient: 6,
  seeds: [1, 7],
  bote: true,
  tables: [{ title: 'mean', rows: ['label'], columns: 'conflict_pct', value: 'mean_ms', where: { region: 'all' } }],
  plots: [
    { kind: 'bars', file: 'per-site', title: 'latency per site', x: 'region', value: 'mean_ms', whisker: 'p99_ms', where: { conflict_pct: 30 } },
    { kind: 'lines', file: 'fast-path', title: 'fast path', x: 'conflict_pct', y: 'fast_ratio', where: { region: 'all' } },
    { kind: 'cdf', file: 'cdf', title: 'latency CDF', where: { conflict_pct: 30, seed: 1 } },
    { kind: 'bars', file: 'bote', title: 'estimate and simulation', x: 'label', values: ['bote_ms', 'mean_ms'], where: { region: 'all', conflict_pct: 0 } },
  ],
};

const PLOT_FILES = ['per-site.png', 'fast-path.png', 'cdf.png', 'bote.png', 'report.html'];

/** Every file under `dir` (by relative path) and its bytes. */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (name.includes('.')) out.set(name, readFileSync(path));
  }
  return out;
}

/** A PNG's width and height, from its IHDR chunk. */
function pngSize(png: Buffer): [number, number] {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe('orrery exp: a tiny experiment end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-exp-'));
  const definitionFile = join(dir, 'tiny.json');
  writeFileSync(definitionFile, JSON.stringify(TINY));
  const points = expandDefinition(TINY);

  test('writes raw JSON per point, a tidy CSV, a summary, the experiment file, PNGs and report.html; the same bytes with 1 or 2 workers', () => {
    const first = orrery('exp', definitionFile, '--out', join(dir, 'a'), '--workers', '1');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // Not a terminal: no progress bar, just the closing line.
    expect(first.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(first.stdout).toMatch(/^tiny: 8 points in \d+s; wrote /);
    const second = orrery('exp', definitionFile, '--out', join(dir, 'b'), '--workers', '2');
    expect(second.code).toBe(0);
    const a = files(join(dir, 'a'));
    const b = files(join(dir, 'b'));
    expect([...a.keys()].sort()).toEqual(['experiment.json', 'results.csv', 'summary.md', ...PLOT_FILES, ...points.map((p) => join('points', `${p.id}.json`))].sort());
    // Byte for byte, PNGs included: two processes drew the same data into the same pixels.
    for (const [name, bytes] of a) expect(b.get(name)?.equals(bytes), name).toBe(true);

    const raw = JSON.parse(a.get(join('points', '3.json'))!.toString('utf8'));
    expect(raw.orreryVersion).toBe(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
    expect(raw.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(raw.seed).toBe(7);
    expect(raw.point).toEqual(points[3]);
    expect(raw.report.config.f).toBe(1);
    expect(raw.report.workload.conflictRate).toBe(30);
    expect(raw.command).toBe(
      'orrery sim --protocol fpaxos --planet aws --regions eu-west-1,us-west-1,ap-southeast-1 --client-regions eu-west-1,us-west-1,ap-southeast-1 --f 1 --conflict 30 --clients-per-region 2 --commands 6 --seed 7',
    );

    // The latency distribution over all client regions: the recorded percentiles match the report's.
    const cdf = raw.latencyCdf;
    expect(cdf.percentiles).toHaveLength(cdf.ms.length);
    expect(cdf.minMs).toBe(raw.report.latencyMs.all.min);
    for (const [p, field] of [[50, 'p50'], [95, 'p95'], [99, 'p99'], [99.9, 'p999'], [100, 'max']] as const) {
      expect(cdf.ms[cdf.percentiles.indexOf(p)]).toBe(raw.report.latencyMs.all[field]);
    }
    expect([...cdf.ms].sort((x: number, y: number) => x - y)).toEqual(cdf.ms);

    for (const png of PLOT_FILES.filter((name) => name.endsWith('.png'))) expect(pngSize(a.get(png)!)).toEqual([1000, 500]);
    const html = a.get('report.html')!.toString('utf8');
    expect(html).toContain(`commit <code>${raw.commit}</code>`);
    expect(html).toContain('<h3>mean</h3>');
    expect(html).toContain(raw.command);
    // Nothing is fetched: no src or href to another origin.
    expect(html).not.toMatch(/(src|href)="?(https?:)?\/\//);

    const csv = a.get('results.csv')!.toString('utf8').trimEnd().split('\n');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    // 8 points × (3 client regions + all).
    expect(csv).toHaveLength(1 + 8 * 4);
    const header = csv[0]!.split(',');
    const allRow = csv.find((line) => line.startsWith('tiny,3,') && line.includes(',all,'))!.split(',');
    expect(Number(allRow[header.indexOf('mean_ms')])).toBe(raw.report.latencyMs.all.mean);
    expect(Number(allRow[header.indexOf('commands')])).toBe(3 * 2 * 6);
    expect(a.get('summary.md')!.toString('utf8')).toContain(`Produced by \`orrery exp ${definitionFile}\``);
  });

  test('orrery plot redraws the same PNGs and report.html from the raw results alone', () => {
    const source = files(join(dir, 'a'));
    const copy = join(dir, 'replot');
    for (const [name, bytes] of source) {
      if (PLOT_FILES.includes(name)) continue;
      mkdirSync(dirname(join(copy, name)), { recursive: true });
      writeFileSync(join(copy, name), bytes);
    }
    const run = orrery('plot', copy);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`tiny: redrew 4 PNGs and ${join(copy, 'report.html')}\n`);
    const redrawn = files(copy);
    for (const name of PLOT_FILES) expect(redrawn.get(name)?.equals(source.get(name)!), name).toBe(true);
  });

  test('orrery plot on raw results without latency distributions draws everything else and says why the CDF is missing', () => {
    const old = join(dir, 'old');
    for (const [name, bytes] of files(join(dir, 'a'))) {
      if (PLOT_FILES.includes(name)) continue;
      mkdirSync(dirname(join(old, name)), { recursive: true });
      const text = bytes.toString('utf8');
      writeFileSync(join(old, name), name.startsWith('points') ? JSON.stringify({ ...JSON.parse(text), latencyCdf: undefined }) : text);
    }
    const run = orrery('plot', old);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^tiny: redrew 3 PNGs and .*report\.html\nnote: cdf: these raw results hold no latency distribution .*; re-run the experiment to draw it\n$/);
    expect(existsSync(join(old, 'cdf.png'))).toBe(false);
    expect(readFileSync(join(old, 'report.html'), 'utf8')).toContain('Not drawn: cdf: ');
  });

  test('a point reproduces as the orrery sim command it records', () => {
    const point = points[6]!;
    const args = Object.entries(simFlagsOf(point)).flatMap(([flag, value]) => [`--${flag}`, value]);
    const sim = orrery('sim', ...args, '--json');
    expect(sim.code).toBe(0);
    expect(runPoint(point).report).toEqual(JSON.parse(sim.stdout));
  });

  test('user mistakes are one line and exit code 2', () => {
    const noProfile = join(dir, 'no-profile.json');
    writeFileSync(noProfile, JSON.stringify({ ...TINY, cpuProfile: join(dir, 'missing-profile.json') }));
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"name": ');
    for (const [args, message] of [
      [['exp', 'nope'], /^orrery: unknown experiment 'nope'; accepted: f1-vs-f2, fast-path, increasing-sites, throughput, bote/],
      [['exp'], /^orrery: name one experiment: f1-vs-f2, /],
      [['exp', join(dir, 'missing.json')], /^orrery: cannot read experiment file '.*missing\.json' \(ENOENT\)$/],
      [['exp', noProfile, '--workers', '2'], /^orrery: cannot read CPU profile '.*missing-profile\.json' \(ENOENT\); write one with 'orrery calibrate'$/],
      [['exp', badJson], /^orrery: experiment file '.*bad\.json' is not JSON: /],
      [['exp', definitionFile, '--workers', '0'], /^orrery: --workers must be an integer from 1 to 1024 \(got '0'\)$/],
      [['plot', join(dir, 'nowhere')], /^orrery: results directory '.*nowhere' does not exist$/],
      [['plot', dir], /^orrery: '.*' is not an experiment's results directory: it has no experiment\.json \(orrery exp <name> writes one\)$/],
      [['plot', definitionFile], /^orrery: '.*tiny\.json' is not a directory; give an experiment's results directory, e.g\. results\/f1-vs-f2$/],
      [['plot'], /^orrery: name an experiment's results directory, e.g. orrery plot results\/f1-vs-f2$/],
    ] as const) {
      const run = orrery(...args);
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr.trimEnd()).toMatch(message);
    }
  });

  test('orrery exp --list describes every experiment with its command', () => {
    const run = orrery('exp', '--list');
    expect(run.code).toBe(0);
    for (const name of ['f1-vs-f2', 'fast-path', 'increasing-sites', 'throughput', 'bote']) {
      expect(run.stdout).toMatch(new RegExp(`^${name}: .+\\n  \\d+ points; .+\\n  run: orrery exp ${name}$`, 'm'));
    }
  });
});

describe('results are deterministic and independent of scheduling', () => {
  test('the same points give the same tidy CSV, whatever the order they are given in', async () => {
    const points = expandDefinition(TINY);
    const forward = await runPoints(points, { workers: 1 });
    const backward = await runPoints([...points].reverse(), { workers: 1 });
    expect(backward.map((r) => r.point.id)).toEqual(points.map((p) => p.id));
    expect(tidyCsv(tidyRows(backward))).toBe(tidyCsv(tidyRows(forward)));
  });

  test('a different seed changes the numbers (the seed is used)', () => {
    const [one, seven] = [expandDefinition(TINY)[6]!, expandDefinition(TINY)[7]!];
    expect(one.seed).not.toBe(seven.seed);
    expect(runPoint(one).report.latencyMs).not.toEqual(runPoint(seven).report.latencyMs);
  });

  test('progress is reported once per point, ending at the total', async () => {
    const points = expandDefinition({ ...TINY, seeds: [1], conflictPct: [0] });
    const seen: string[] = [];
    await runPoints(points, { workers: 1, onProgress: (done, total) => seen.push(`${done}/${total}`) });
    expect(seen).toEqual(['1/2', '2/2']);
  });

  test('at 0% conflict the closed-form estimate equals the simulated mean', () => {
    const result = runPoint(expandDefinition(TINY)[0]!);
    expect(result.boteMs!['all']).toBe(result.report.latencyMs.all.mean);
  });
});

describe('summary tables', () => {
  const row = (label: string, f: number, seed: number, mean: number): TidyRow =>
    ({ label, protocol: label, f, seed, region: 'all', mean_ms: mean, p99_ms: mean * 2 }) as unknown as TidyRow;
  const rows = [row('tempo', 1, 1, 100), row('tempo', 1, 2, 110), row('tempo', 2, 1, 150), row('fpaxos', 1, 1, 200), row('fpaxos', 2, 1, 250)];

  test('a pivot averages seeds and adds the difference', () => {
    const text = renderTable({ title: 'cost', rows: ['protocol'], columns: 'f', value: 'mean_ms', delta: true }, rows);
    expect(text.split('\n').slice(4)).toEqual([
      '| protocol | f=1 | f=2 | Δ | Δ% |',
      '| --- | --- | --- | --- | --- |',
      '| tempo | 105.0 | 150.0 | 45.0 | 42.9% |',
      '| fpaxos | 200.0 | 250.0 | 50.0 | 25.0% |',
    ]);
  });

  test('a protocol\'s f values sit together, in the order protocols first appear', () => {
    const labelled = (siteSet: string, protocol: string, f: number): TidyRow =>
      ({ site_set: siteSet, label: protocol === 'epaxos' ? 'epaxos' : `${protocol} f=${f}`, protocol, f, region: 'all', mean_ms: 1 }) as unknown as TidyRow;
    const input = [labelled('r3', 'tempo', 1), labelled('r3', 'epaxos', 1), labelled('r5', 'tempo', 1), labelled('r5', 'tempo', 2), labelled('r5', 'epaxos', 2)];
    const text = renderTable({ title: 't', rows: ['label'], columns: 'site_set', value: 'mean_ms' }, input);
    expect(text.split('\n').slice(6).map((line) => line.split(' | ')[0])).toEqual(['| tempo f=1', '| tempo f=2', '| epaxos']);
  });

  test('side-by-side values and a where filter with a list', () => {
    const text = renderTable({ title: 't', rows: ['protocol', 'f'], values: ['mean_ms', 'p99_ms'], where: { protocol: ['fpaxos'], f: 2 } }, rows);
    expect(text.split('\n').slice(4)).toEqual(['| protocol | f | mean_ms | p99_ms |', '| --- | --- | --- | --- |', '| fpaxos | 2 | 250.0 | 500.0 |']);
  });
});
