/**
 * Calibration produces a well-formed profile: it parses, covers every message kind and executor info
 * a run of the protocol produces, and its figures are finite, non-negative and not all zero. Also the
 * profile parser's errors, the executor-cost fit, and the CLI flags of the CPU model.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { calibrate, fitExecutor } from '../cli/calibrate.js';
import { infoKind, parseCpuProfile } from '../sim/cpu.js';
import { Simulation } from '../sim/simulation.js';
import { simulationOptions } from './support/simulate.js';
import { toyCosts, toyProfile } from './support/cpu-profiles.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

describe('orrery calibrate: a well-formed profile from the real code', () => {
  const profile = calibrate({ protocols: ['tempo', 'fpaxos'], clientsPerRegion: 4, commandsPerClient: 40, conflictRate: 2, command: 'test' });
  const parsed = parseCpuProfile(JSON.stringify(profile), 'calibrated');

  test('it parses back to itself, with machine, commit and date', () => {
    expect(parsed).toEqual(profile);
    expect(typeof profile.machine['cpu']).toBe('string');
    expect(profile.machine['node']).toBe(process.version);
    expect(profile.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(Number.isNaN(Date.parse(profile.date))).toBe(false);
    expect(Object.keys(profile.protocols).sort()).toEqual(['fpaxos', 'tempo']);
  });

  for (const protocol of ['tempo', 'fpaxos'] as const) {
    test(`${protocol}: every message kind and info a run produces has a measured cost`, () => {
      const costs = parsed.protocols[protocol]!;
      const infos = new Set<string>();
      const result = new Simulation({
        ...simulationOptions({ protocol, regions: ['us-east1', 'us-east4', 'us-central1'], clientsPerRegion: 2, workload: { commandsPerClient: 10 } }),
        observer: { onInfo: (_p, info) => void infos.add(infoKind(info)) },
      }).run();
      for (const kind of result.messagesByType.keys()) {
        expect(costs.handleNs[kind], kind).toBeGreaterThanOrEqual(0);
        expect(costs.encodeNs[kind], kind).toBeGreaterThan(0);
        expect(costs.decodeNs[kind], kind).toBeGreaterThan(0);
        expect(costs.wireBytes[kind], kind).toBeGreaterThan(0);
      }
      for (const kind of infos) expect(costs.executeNs[kind], kind).toBeGreaterThanOrEqual(0);
      expect(costs.handleNs['submit']).toBeGreaterThan(0);
      expect(costs.encodeNs['reply']).toBeGreaterThan(0);
      expect(costs.decodeNs['submit']).toBeGreaterThan(0);
      const all = [...Object.values(costs.handleNs), ...Object.values(costs.executeNs), costs.executedNs];
      for (const value of all) expect(Number.isFinite(value)).toBe(true);
    });
  }
});

describe('the executor fit keeps each kind\'s mean cost', () => {
  test('intercept per kind, slope per executed part', () => {
    // Exactly 1 µs + 2 µs per part for kind a; 0.5 µs + 2 µs per part for kind b.
    const calls = [];
    for (let i = 0; i < 400; i++) calls.push({ kind: 'a', executed: i % 3, ms: 0.001 + 0.002 * (i % 3) });
    for (let i = 0; i < 400; i++) calls.push({ kind: 'b', executed: i % 2, ms: 0.0005 + 0.002 * (i % 2) });
    const fit = fitExecutor(calls, 0);
    expect(fit.executedNs).toBeCloseTo(2000, 0);
    expect(fit.executeNs.get('a')).toBeCloseTo(1000, 0);
    expect(fit.executeNs.get('b')).toBeCloseTo(500, 0);
  });

  test('search work gets a slope of its own, apart from the parts executed', () => {
    // 1 µs + 2 µs per part + 30 ns per unit of search work; parts and units vary independently.
    const calls = [];
    for (let i = 0; i < 600; i++) {
      const executed = i % 3;
      const units = (i * 7) % 50;
      calls.push({ kind: 'a', executed, units, ms: 0.001 + 0.002 * executed + 0.00003 * units });
    }
    const fit = fitExecutor(calls, 0);
    expect(fit.executedNs).toBeCloseTo(2000, 0);
    expect(fit.executeUnitNs).toBeCloseTo(30, 0);
    expect(fit.executeNs.get('a')).toBeCloseTo(1000, 0);
    // Without units in the calls, the unit slope is 0 and the rest is as before.
    expect(fitExecutor(calls.map(({ units: _units, ...call }) => call), 0).executeUnitNs).toBe(0);
  });

  test('a constant number executed puts the whole cost on the parts', () => {
    const fit = fitExecutor(Array.from({ length: 100 }, () => ({ kind: 'info', executed: 1, ms: 0.0003 })), 0);
    expect(fit.executedNs).toBeCloseTo(300, 0);
    expect(fit.executeNs.get('info')).toBe(0);
  });
});

describe('profile errors name the file and the field', () => {
  const cases: Array<[string, RegExp]> = [
    ['not json', /^p.json is not JSON/],
    ['{"format":"other"}', /^p.json is not a CPU profile/],
    ['{"format":"orrery-cpu-profile","version":2,"protocols":{}}', /version 2 is not supported/],
    [JSON.stringify({ ...toyProfile(['tempo'], toyCosts(1)), protocols: { tempo: { ...toyCosts(1), handleNs: { MCommit: -3 } } } }), /protocols.tempo.handleNs.MCommit must be a number of nanoseconds/],
    [JSON.stringify({ ...toyProfile(['tempo'], toyCosts(1)), protocols: { tempo: { ...toyCosts(1), handleNs: {} } } }), /protocols.tempo.handleNs is empty/],
  ];
  for (const [text, message] of cases) test(message.source, () => expect(() => parseCpuProfile(text, 'p.json')).toThrow(message));
});

describe('orrery sim --cpu and orrery calibrate on the command line', () => {
  const orrery = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const dir = mkdtempSync(join(tmpdir(), 'orrery-cpu-'));
  const profileFile = join(dir, 'profile.json');
  writeFileSync(profileFile, JSON.stringify(toyProfile(['fpaxos', 'tempo'], toyCosts(10_000))));

  test('--cores without --cpu is a usage error', () => {
    const run = orrery('sim', '--cores', '4');
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe('orrery: --cores needs the CPU model: give a profile with --cpu (e.g. --cpu results/cpu-profile.json)');
  });

  test('sim --cpu prints per-process utilisation; --json carries it', () => {
    const text = orrery('sim', '--protocol', 'fpaxos', '--cpu', profileFile, '--cores', '2', '--commands', '5');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/cpu: 2 cores per process, 1 executor core/);
    expect(text.stdout).toMatch(/1:us-east1 protocol core \d+\.\d%, executor \d+\.\d%/);
    const json = JSON.parse(orrery('sim', '--protocol', 'tempo', '--cpu', profileFile, '--cores', '4', '--nic-bytes-per-sec', '1e6', '--payload-bytes', '1000', '--commands', '5', '--json').stdout);
    expect(json.cpu.executorCores).toBe(3);
    expect(json.config.executorShards).toBe(3);
    expect(json.cpu.processes).toHaveLength(5);
    expect(json.cpu.processes[0].nic).toBeGreaterThan(0);
  });

  test('calibrate --out writes a profile sim --cpu accepts', () => {
    const out = join(dir, 'calibrated.json');
    // The transport measurement has its own test (runtime-calibrate-transport): skipped here for time.
    const run = orrery('calibrate', '--protocol', 'fpaxos', '--commands', '20', '--clients-per-region', '2', '--transport', 'no', '--out', out);
    expect(run.status).toBe(0);
    const profile = parseCpuProfile(readFileSync(out, 'utf8'), out);
    expect(profile.command).toBe('orrery calibrate --protocol fpaxos --commands 20 --clients-per-region 2 --transport no --out ' + out);
    const bad = orrery('calibrate', '--transport', 'maybe');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe("orrery: --transport must be yes or no (got 'maybe')");
    const replica = orrery('calibrate', '--replica', 'yes', '--transport', 'no');
    expect(replica.status).toBe(2);
    expect(replica.stderr.trim()).toBe('orrery: --replica yes needs --transport yes: the replay is compared with the transport model');
    const live: Array<[string[], string]> = [
      [['--live', 'sometimes'], "orrery: --live must be yes or no (got 'sometimes')"],
      [['--live', 'yes', '--transport', 'no'], 'orrery: --live yes needs --transport yes: the live runs are compared with the transport model'],
      [['--live', 'yes', '--replica', 'yes'], 'orrery: --live yes and --replica yes both fit the replica residual: pick one'],
      [['--live', 'yes', '--live-clients', '15'], "orrery: --live-clients must be at least two integers in 3..3000, comma-separated (got '15')"],
      [['--live', 'yes', '--live-clients', '15,x'], "orrery: --live-clients must be at least two integers in 3..3000, comma-separated (got '15,x')"],
    ];
    for (const [flags, message] of live) {
      const run = orrery('calibrate', ...flags);
      expect(run.status, flags.join(' ')).toBe(2);
      expect(run.stderr.trim()).toBe(message);
    }
    expect(orrery('sim', '--protocol', 'fpaxos', '--cpu', out, '--commands', '5').status).toBe(0);
    const missing = orrery('sim', '--protocol', 'tempo', '--cpu', out, '--commands', '5');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/has no costs for tempo \(it has: fpaxos\); run 'orrery calibrate --protocol tempo'/);
  });
});
