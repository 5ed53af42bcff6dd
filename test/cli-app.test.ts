/**
 * `orrery app adapter-register` (simulator mode): a good run prints the comparison and the properties,
 * the same seed prints the same bytes, and bad input is one line with exit code 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

function orrery(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const SMALL = ['app', 'adapter-register', '--protocol', 'atlas', '--validators', '3', '--fleet', '6', '--versions', '4', '--bad-fraction', '0.5', '--poll-ms', '400'];

describe('orrery app adapter-register', () => {
  test('a run compares the register with the rolling update on one seed, with the properties; same seed, same bytes', () => {
    const run = orrery(...SMALL, '--seed', '5');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^adapter-deploy: atlas, 3 validators \(us-east1, europe-west2, asia-southeast1\), fleet 6, 4 versions \(2 regressed\), poll 400 ms, seed 5\n/);
    const badRow = run.stdout.split('\n').find((line) => line.startsWith('bad-version requests'))!;
    const [register, rolling] = badRow.trim().split(/\s+/).slice(-2).map(Number);
    expect(register).toBe(0);
    expect(rolling).toBeGreaterThan(0);
    for (const property of ['safety', 'integrity', 'monotonic', 'fault-tolerance', 'convergence']) expect(run.stdout).toContain(`  ✓ ${property}: `);
    expect(run.stdout).toContain('  ✗ safety: ');
    expect(orrery(...SMALL, '--seed', '5').stdout).toBe(run.stdout);
    expect(orrery(...SMALL, '--seed', '6').stdout).not.toBe(run.stdout);
  });

  test('--versions as a list of kinds: exactly that stream', () => {
    const run = orrery('app', 'adapter-register', '--validators', '3', '--fleet', '4', '--versions', 'regressed,good,regressed', '--strategy', 'register', '--json');
    expect(run.stderr).toBe('');
    const [figures] = JSON.parse(run.stdout);
    expect(figures.versionFigures.map((version: { kind: string; outcome: string }) => `${version.kind} ${version.outcome}`)).toEqual(['regressed rejected', 'good released', 'regressed rejected']);
  });

  test('--strategy register --json: the figures of one strategy', () => {
    const run = orrery(...SMALL, '--strategy', 'register', '--json');
    expect(run.code).toBe(0);
    const figures = JSON.parse(run.stdout);
    expect(figures).toHaveLength(1);
    expect(figures[0].strategy).toBe('register');
    expect(figures[0].badVersionRequests).toBe(0);
  });

  test('a faults file with a crashed validator and corrupted downloads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-app-'));
    const file = join(dir, 'faults.json');
    writeFileSync(file, JSON.stringify({ crashes: [{ process: 2, atMs: 3000 }], corruptDownloads: [{ probability: 0.3, fromMs: 0, untilMs: 20000 }] }));
    const run = orrery(...SMALL, '--strategy', 'register', '--faults', file);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('faults: crashed [2]');
    expect(run.stdout).toMatch(/refused downloads \(digest\)\s+[1-9]/);
    expect(run.stdout).toContain('  – convergence: not judged: the bound assumes no faults');
  });

  const dir = mkdtempSync(join(tmpdir(), 'orrery-app-bad-'));
  const badFaults = join(dir, 'bad-faults.json');
  writeFileSync(badFaults, JSON.stringify({ slowValidators: [{ validator: 9, factor: 2 }] }));
  const cases: Array<[string[], RegExp]> = [
    [['app'], /^orrery: name the application: orrery app adapter-register$/],
    [['app', 'kv-store'], /^orrery: unknown application 'kv-store'; accepted: adapter-register$/],
    [['app', 'adapter-register', '--strategy', 'canary'], /^orrery: --strategy must be one of register, rolling, both \(got 'canary'\)$/],
    [['app', 'adapter-register', '--protocol', 'raft'], /^orrery: --protocol must be one of fpaxos, epaxos, atlas, tempo \(got 'raft'\)$/],
    [['app', 'adapter-register', '--validators', '2'], /^orrery: --validators must be an integer from 3 to 15 \(got '2'\)$/],
    [['app', 'adapter-register', '--fleet', '0'], /^orrery: --fleet must be an integer from 1 to 10000 \(got '0'\)$/],
    [['app', 'adapter-register', '--versions', '0'], /^orrery: --versions must be an integer from 1 to 1000 \(got '0'\)$/],
    [['app', 'adapter-register', '--versions', 'ten'], /^orrery: --versions must be a number from 1 to 1000 or comma-separated kinds good, regressed \(got 'ten'\)$/],
    [['app', 'adapter-register', '--bad-fraction', '1.5'], /^orrery: --bad-fraction must be a number from 0 to 1 \(got '1.5'\)$/],
    [['app', 'adapter-register', '--poll-ms', '0'], /^orrery: --poll-ms must be a number from 1 to 600000 \(got '0'\)$/],
    [['app', 'adapter-register', '--faults', join(dir, 'none.json')], /^orrery: cannot read faults file '.*none\.json' \(ENOENT\)$/],
    [['app', 'adapter-register', '--faults', badFaults], /^orrery: .*bad-faults\.json: faults\.slowValidators\[0\]\.validator must be a validator \(process\) id from 1 to 5 \(got 9\)$/],
    [['app', 'adapter-register', '--bogus', '1'], /^orrery: Unknown argument: bogus; see 'orrery app --help' for the accepted options$/],
    [['app', 'adapter-register', '--versions', 'good,bogus'], /^orrery: --versions must be a number from 1 to 1000 or comma-separated kinds good, regressed \(got 'good,bogus'\)$/],
    [['app', 'adapter-register', '--versions', 'good,corrupted'], /^orrery: --versions: 'corrupted' is a runtime kind; in the simulator, corrupt downloads with a faults file \(corruptDownloads\)$/],
    [['app', 'adapter-register', '--versions', 'good,regressed', '--bad-fraction', '0.5'], /^orrery: --bad-fraction applies to a number of versions, not to a list of kinds$/],
    [['app', 'adapter-register', '--inference-nodes', '3'], /^orrery: --inference-nodes does not apply to the simulator \(add --runtime for a real deployment\); its options are --protocol, /],
    [['app', 'adapter-register', '--runtime', '--fleet', '3'], /^orrery: --fleet does not apply to --runtime; its options are --runtime, --protocol, --n, /],
  ];
  for (const [args, message] of cases) {
    test(`orrery ${args.join(' ')}`, () => {
      const run = orrery(...args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    });
  }
});
