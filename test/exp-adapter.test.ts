/**
 * The adapter-deploy kind of experiment (experiments/adapter-deploy.ts) end to end through
 * `orrery exp`: the files, the same bytes with one or two workers, a point rerun alone with the
 * `orrery app` command it records, and definition mistakes as one-line errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ADAPTER_CSV_COLUMNS, appFlagsOf, expandAdapterDefinition, validateAdapterDefinition, type AdapterDeployDefinition } from '../experiments/adapter-deploy.js';
import { ADAPTER_EXPERIMENTS } from '../experiments/catalog.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

function orrery(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const TINY: AdapterDeployDefinition = {
  kind: 'adapter-deploy',
  name: 'tiny-adapter',
  description: 'A tiny adapter-deploy experiment for the tests.',
  protocols: ['fpaxos'],
  strategies: ['register', 'rolling'],
  badFractions: [0.5],
  seeds: [1, 2],
  validators: 3,
  fleet: 4,
  versions: 2,
  pollMs: 500,
  tables: [{ title: 'bad', rows: ['strategy'], columns: 'bad_fraction', value: 'bad_version_requests' }],
};

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) if (name.includes('.')) out.set(name, readFileSync(join(dir, name), 'utf8'));
  return out;
}

describe('orrery exp: an adapter-deploy experiment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-exp-adapter-'));
  const file = join(dir, 'tiny.json');
  writeFileSync(file, JSON.stringify(TINY));
  const points = expandAdapterDefinition(TINY);

  test('points are protocol × strategy × bad fraction × seed; the files are the same with 1 or 2 workers; a point reruns as its command', () => {
    expect(points.map((point) => `${point.id} ${point.strategy} ${point.seed}`)).toEqual(['0 register 1', '1 register 2', '2 rolling 1', '3 rolling 2']);
    const one = orrery('exp', file, '--out', join(dir, 'a'), '--workers', '1');
    expect(one.stderr).toBe('');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^tiny-adapter: 4 points in \d+s; wrote /);
    const two = orrery('exp', file, '--out', join(dir, 'b'), '--workers', '2');
    expect(two.code).toBe(0);
    const a = files(join(dir, 'a'));
    expect(files(join(dir, 'b'))).toEqual(a);
    const csv = a.get('results.csv')!.trimEnd().split('\n');
    expect(csv[0]).toBe(ADAPTER_CSV_COLUMNS.join(','));
    expect(csv).toHaveLength(5);
    const header = csv[0]!.split(',');
    const bad = (line: string) => Number(line.split(',')[header.indexOf('bad_version_requests')]);
    expect(bad(csv[1]!)).toBe(0);
    expect(bad(csv[3]!)).toBeGreaterThan(0);
    expect(a.get('summary.md')).toContain('### bad');

    // The charts: requests served by regressed versions (the rolling update alone when the register
    // served none), the mixed-version window, convergence; and the page. `orrery plot` redraws them
    // from the raw results to the same bytes.
    expect(one.stdout).toContain('3 PNGs and');
    for (const png of ['bad-version-requests.png', 'mixed-version-window.png', 'convergence.png']) {
      expect(readFileSync(join(dir, 'a', png)).subarray(0, 8).toString('hex'), png).toBe('89504e470d0a1a0a');
    }
    expect(a.get('report.html')).toContain('Requests served by regressed versions: rolling update (the register: 0 on all 2 of its points)');
    rmSync(join(dir, 'a', 'report.html'));
    rmSync(join(dir, 'a', 'convergence.png'));
    const plot = orrery('plot', join(dir, 'a'));
    expect(plot.stderr).toBe('');
    expect(plot.code).toBe(0);
    expect(files(join(dir, 'a'))).toEqual(a);

    const raw = JSON.parse(a.get(join('points', '2.json'))!);
    expect(raw.command).toBe('orrery app adapter-register --protocol fpaxos --strategy rolling --validators 3 --fleet 4 --versions 2 --bad-fraction 0.5 --poll-ms 500 --seed 1');
    const args = Object.entries(appFlagsOf(points[2]!)).flatMap(([flag, value]) => [`--${flag}`, value]);
    const alone = orrery('app', 'adapter-register', ...args, '--json');
    expect(alone.code).toBe(0);
    expect(JSON.parse(alone.stdout)).toEqual([raw.figures]);
  });

  test('definition mistakes name the field and what is accepted', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...TINY, strategies: ['canary'] }));
    const run = orrery('exp', bad);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd()).toBe(`orrery: experiment 'tiny-adapter': strategies[0] must be one of register, rolling (got "canary")`);
    expect(() => validateAdapterDefinition({ ...TINY, fleet: 0 } as unknown as Record<string, unknown>)).toThrow(/fleet must be an integer from 1 to 10000 \(got 0\)/);
    expect(() => validateAdapterDefinition({ ...TINY, siteSets: [] } as unknown as Record<string, unknown>)).toThrow(/unknown field 'siteSets'/);
  });

  test('the built-in adapter-deploy experiment is listed with its command', () => {
    expect([...ADAPTER_EXPERIMENTS.keys()]).toEqual(['adapter-deploy']);
    const run = orrery('exp', '--list');
    expect(run.stdout).toMatch(/^adapter-deploy: .+\n {2}48 points; fpaxos, tempo × register, rolling × .+\n {2}run: orrery exp adapter-deploy$/m);
  });
});
