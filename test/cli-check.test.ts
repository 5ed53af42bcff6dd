/** `orrery check` and `orrery sim --faults`, run as a user would. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { caseArbitrary, scheduleKindsFor } from '../check/arbitraries.js';
import { encodeCase } from '../check/case.js';
import { fpaxos } from '../protocols/fpaxos/index.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

function orrery(...args: string[]) {
  const run = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function file(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'orrery-check-')), name);
  writeFileSync(path, content);
  return path;
}

describe('orrery check', () => {
  test('per protocol: runs checked, schedules with crashes/partitions/drops, violations; same seed, same output', () => {
    const run = orrery('check', '--protocol', 'all', '--runs', '12', '--seed', '4');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('orrery check: seed 4, 12 runs per protocol');
    // Every protocol has recovery now: every fault kind, and no note line.
    let line = 1;
    for (const protocol of ['fpaxos', 'epaxos', 'atlas', 'tempo']) {
      expect(lines[line++]).toMatch(new RegExp(`^${protocol}: 12 runs checked; schedules with crashes [1-9]\\d*, partitions [1-9]\\d*, drops [1-9]\\d*, removals \\d+; runs with recoveries \\d+, configuration changes \\d+; \\d+ commands; linearizability unknown keys 0; violations 0$`));
    }
    expect(lines.length).toBe(line);
    expect(orrery('check', '--protocol', 'all', '--runs', '12', '--seed', '4').stdout).toBe(run.stdout);
  });

  test('--soak adds wall-clock time and schedules per second; --budget-ms bounds linearizability by wall clock', () => {
    const run = orrery('check', '--protocol', 'fpaxos', '--runs', '10', '--soak', '--budget-ms', '50');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^orrery check: seed 1, 10 runs per protocol, linearizability budget 50 ms per case$/m);
    expect(run.stdout).toMatch(/; violations 0; \d+\.\d s, \d+\.\d schedules\/s$/m);
  });

  test('--faults FILE checks every case under one schedule', () => {
    const faults = file('faults.json', JSON.stringify({ crashes: [{ process: 2, atMs: 300 }], partitions: [{ groups: [[1]], fromMs: 100, untilMs: 900 }], clientTimeoutMs: 1000 }));
    const run = orrery('check', '--protocol', 'fpaxos', '--runs', '8', '--faults', faults);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^fpaxos: 8 runs checked; schedules with crashes 8, partitions 8, drops 0, removals 0; .*violations 0$/m);
  });

  test('--replay runs one printed case again', () => {
    const [c] = fc.sample(caseArbitrary({ protocol: 'fpaxos', kinds: scheduleKindsFor(fpaxos.faultTolerance) }), { seed: 3, numRuns: 1 });
    const run = orrery('check', '--protocol', 'fpaxos', '--replay', encodeCase(c!));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^fpaxos: replay of seed ${c!.seed}: n=${c!.n} f=${c!.f} `));
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('fpaxos: violations 0');
    expect(orrery('check', '--replay', JSON.stringify(c)).stdout).toBe(run.stdout);
  });

  const bad: Array<[string[], RegExp]> = [
    [['check', '--runs', '0'], /^orrery: --runs must be an integer from 1 to 10000000 \(got '0'\)$/],
    [['check', '--protocol', 'raft'], /^orrery: unknown protocol 'raft'; accepted: fpaxos, epaxos, atlas, tempo$/],
    [['check', '--replay', '%%%'], /^orrery: --replay takes a case as printed by orrery check: base64url or JSON$/],
    [['check', '--replay', '{"protocol":"fpaxos"}'], /^orrery: replay case lacks field 'seed'$/],
    [['check', '--replay', 'e30', '--runs', '3'], /^orrery: --runs does not apply to --replay, which fixes the whole case$/],
    [['check', '--faults', '/no/such.json'], /^orrery: cannot read faults file '\/no\/such.json' \(ENOENT\)$/],
  ];
  for (const [args, message] of bad) {
    test(`orrery ${args.join(' ')}`, () => {
      const run = orrery(...args);
      expect(run.code).toBe(2);
      expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
    });
  }

  test('a bad faults file names the file, the entry and the accepted values', () => {
    const path = file('bad.json', JSON.stringify({ messageFaults: [{ drop: 2, fromMs: 0, untilMs: 10 }] }));
    const run = orrery('check', '--faults', path);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`orrery: ${path}: faults.messageFaults[0].drop must be a probability from 0 to 1 (got 2)`);
  });
});

describe('orrery sim --faults', () => {
  const small = ['--regions', 'us-east1,europe-west2,us-west1', '--clients-per-region', '2', '--commands', '10', '--conflict', '50'];

  test('runs one schedule and reports what the faults did and what recovered', () => {
    const faults = file('crash.json', JSON.stringify({ crashes: [{ process: 1, atMs: 500 }], messageFaults: [{ drop: 0.1, duplicate: 0.1, fromMs: 0, untilMs: 1000 }], clientTimeoutMs: 1500 }));
    const run = orrery('sim', ...small, '--faults', faults, '--recovery-timeout-ms', '400');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^commands: 60 in /m);
    expect(run.stdout).toMatch(/^faults: crashed 1; messages dropped \d+, cut by partitions 0, lost at crashed processes \d+, duplicated \d+, reordered 0; client retries [1-9]\d*$/m);
    expect(run.stdout).toMatch(/^recovered: process [23] ×1; live processes caught up: 2, 3$/m);
    const json = JSON.parse(orrery('sim', ...small, '--faults', faults, '--recovery-timeout-ms', '400', '--json').stdout);
    expect(json.faults.crashed).toEqual([1]);
    expect(json.faults.caughtUp).toEqual([2, 3]);
  });

  test('a run stuck behind faults it does not recover from in time is reported, exit code 1', () => {
    const faults = file('drop.json', JSON.stringify({ messageFaults: [{ drop: 1, fromMs: 0, untilMs: 200 }] }));
    // Recovery would only start after 1,000 s: the simulator's stall limit (30 s without progress) comes first.
    const run = orrery('sim', ...small, '--protocol', 'epaxos', '--recovery-timeout-ms', '1000000', '--faults', faults);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^stuck: simulation made no progress from [\d.]+ ms to [\d.]+ ms of simulated time \(faults healed at 200 ms\) with \d+ commands unanswered/m);
    expect(run.stdout).toMatch(/^faults: crashed none; messages dropped [1-9]\d*/m);
  });

  test('bad schedules: the file, the entry and the accepted values; crash-restart refused', () => {
    const unknown = file('unknown.json', JSON.stringify({ crashes: [{ proc: 1, atMs: 5 }] }));
    expect(orrery('sim', ...small, '--faults', unknown).stderr.trim()).toBe(`orrery: ${unknown}: faults.crashes[0] has unknown field 'proc'; accepted: process, atMs, restartAtMs`);
    const restart = file('restart.json', JSON.stringify({ crashes: [{ process: 1, atMs: 5, restartAtMs: 50 }] }));
    const run = orrery('sim', ...small, '--faults', restart);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^orrery: faults\.crashes\[0\]\.restartAtMs: fpaxos does not support crash-restart/);
    const outOfRange = file('range.json', JSON.stringify({ partitions: [{ groups: [[4]], fromMs: 0, untilMs: 5 }] }));
    expect(orrery('sim', ...small, '--faults', outOfRange).stderr.trim()).toBe(
      `orrery: ${outOfRange}: faults.partitions[0].groups[0][0] must be a process id from 1 to 3 (got 4)`,
    );
  });
});
