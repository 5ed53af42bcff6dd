/**
 * The adapter-deploy scenario (sim/adapter-deploy/): the register against the rolling update on the
 * same seeds, every protocol; fault tolerance with validators crashing mid-run; corrupted downloads;
 * determinism; and the checkers (check/adapter.ts) failing on observations that break each property.
 */
import { describe, expect, test } from 'vitest';
import { TargetRegister } from '../apps/adapter-register/register.js';
import type { AuditEntry } from '../apps/adapter-register/audit-log.js';
import { checkDeployment, type DeployObservations } from '../check/adapter.js';
import { protocolByName } from '../protocols/index.js';
import { validateDeployFaults } from '../sim/adapter-deploy/faults.js';
import { REFERENCE_FACTORY, REFERENCE_SUITE } from '../sim/adapter-deploy/reference.js';
import { formatAdapterDeploy } from '../sim/adapter-deploy/report.js';
import { runAdapterDeploy, type AdapterDeployFigures, type AdapterDeployOptions } from '../sim/adapter-deploy/scenario.js';

const SMALL = { factory: REFERENCE_FACTORY, suite: REFERENCE_SUITE, fleet: 12, versions: 6, badFraction: 0.34, streamSeed: 11 } as const;

function run(protocol: string, strategy: 'register' | 'rolling', extra: Partial<AdapterDeployOptions> = {}): AdapterDeployFigures {
  return runAdapterDeploy({ ...SMALL, protocol: protocolByName(protocol), strategy, seed: 3, ...extra });
}

function property(figures: AdapterDeployFigures, name: string): boolean | undefined {
  return figures.properties.find((result) => result.property === name)!.holds;
}

describe('the register against the rolling update, same seed', () => {
  for (const protocol of ['fpaxos', 'epaxos', 'atlas', 'tempo']) {
    test(`${protocol}: the register serves no regressed version and converges within its bound; the rolling update serves some`, () => {
      const register = run(protocol, 'register');
      const rolling = run(protocol, 'rolling');
      expect(register.badVersions).toBe(2);
      expect(rolling.badVersions).toBe(2);
      expect(register.stuck).toBeNull();
      expect(rolling.stuck).toBeNull();
      expect(register.badVersionRequests).toBe(0);
      expect(rolling.badVersionRequests).toBeGreaterThan(0);
      for (const name of ['safety', 'integrity', 'monotonic', 'fault-tolerance', 'convergence']) expect(property(register, name), name).toBe(true);
      // Not vacuous: the good versions were released and the fleet served them.
      expect(register.versionFigures.filter((version) => version.outcome === 'released').length).toBeGreaterThanOrEqual(3);
      expect(register.requests).toBeGreaterThan(1000);
      // The rolling update's regressed versions reached nodes and were rolled back.
      expect(property(rolling, 'safety')).toBe(false);
      expect(rolling.rollbacks).toBeGreaterThan(0);
      expect(rolling.mixedVersionMs).toBeGreaterThan(register.mixedVersionMs);
    });
  }
});

describe('faults', () => {
  test('two of five validators crash mid-run and a partition cuts the group: good versions are still released, regressed ones never', () => {
    const faults = validateDeployFaults(
      {
        crashes: [
          { process: 1, atMs: 4000 },
          { process: 3, atMs: 15000 },
        ],
        partitions: [{ groups: [[2], [4, 5]], fromMs: 20000, untilMs: 24000 }],
        slowValidators: [{ validator: 5, factor: 2 }],
      },
      5,
    );
    for (const protocol of ['fpaxos', 'tempo']) {
      const figures = run(protocol, 'register', { faults, publishIntervalMs: 12000 });
      expect(figures.stuck).toBeNull();
      expect(figures.faults.crashed).toEqual([1, 3]);
      for (const name of ['safety', 'integrity', 'monotonic', 'fault-tolerance']) expect(property(figures, name), `${protocol} ${name}`).toBe(true);
      expect(figures.badVersionRequests).toBe(0);
      // The last version is good (stream seed 11) and was released after both crashes.
      const last = figures.versionFigures[figures.versionFigures.length - 1]!;
      expect(last.kind).toBe('good');
      expect(last.outcome).toBe('released');
    }
  });

  test('corrupted downloads are refused by validators and nodes; nothing corrupted is ever loaded', () => {
    const faults = validateDeployFaults({ corruptDownloads: [{ probability: 0.5, fromMs: 0, untilMs: 1e9 }] }, 5);
    for (const strategy of ['register', 'rolling'] as const) {
      const figures = run('atlas', strategy, { faults });
      expect(figures.refusedDownloads).toBeGreaterThan(10);
      expect(property(figures, 'integrity')).toBe(true);
      if (strategy === 'register') {
        expect(property(figures, 'safety')).toBe(true);
        expect(figures.badVersionRequests).toBe(0);
      }
    }
  });
});

describe('determinism', () => {
  test('same seed, same figures and text; another seed, other figures', () => {
    const a = [run('tempo', 'register'), run('tempo', 'rolling')];
    const b = [run('tempo', 'register'), run('tempo', 'rolling')];
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(formatAdapterDeploy(b)).toBe(formatAdapterDeploy(a));
    const other = run('tempo', 'register', { seed: 4 });
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(a[0]));
  });
});

describe('the checkers fail on what breaks each property', () => {
  const digest = (c: string) => c.repeat(64);
  /** A real register log: version 1 (digest a) released by 3 passes of 5, version 2 (digest b) rejected. */
  function log(): AuditEntry[] {
    const register = new TargetRegister('t', { validators: ['1', '2', '3', '4', '5'] });
    register.propose(digest('a'), 10, 0);
    for (const v of ['1', '2', '3']) register.vote('1-aaaaaaaaaaaa', v, true, 'ok');
    register.propose(digest('b'), 10, 1);
    for (const v of ['1', '2', '3']) register.vote('2-bbbbbbbbbbbb', v, false, 'bad');
    return [...register.auditLog()];
  }
  const base: DeployObservations = {
    strategy: 'register',
    groupSize: 5,
    stream: [
      { index: 1, kind: 'good', digest: digest('a') },
      { index: 2, kind: 'regressed', digest: digest('b') },
    ],
    auditLogs: [log(), log().slice(0, 4)],
    nodes: [{ switches: [{ atMs: 10, from: 0, to: 1 }], requests: [5, 7, 0] }],
    loads: [{ node: 0, index: 1, versionId: '1-aaaaaaaaaaaa', expectedDigest: digest('a'), loadedDigest: digest('a') }],
    currentSeqSeen: [[0, 1, 1]],
    corruption: false,
    finished: true,
  };
  const holds = (o: DeployObservations) => Object.fromEntries(checkDeployment(o).map((result) => [result.property, result.holds]));

  test('a correct run passes', () => {
    expect(holds(base)).toEqual({ safety: true, integrity: true, monotonic: true, 'fault-tolerance': true });
  });
  test('safety: a load of a rejected version, requests served by it, a release without a pass majority, diverging replicas', () => {
    expect(holds({ ...base, loads: [...base.loads, { ...base.loads[0]!, index: 2, versionId: '2-bbbbbbbbbbbb', expectedDigest: digest('b'), loadedDigest: digest('b') }] }).safety).toBe(false);
    expect(holds({ ...base, nodes: [{ ...base.nodes[0]!, requests: [5, 7, 1] }] }).safety).toBe(false);
    const unbacked = log().filter((entry, i) => !(entry.event.type === 'voted' && i === 1));
    expect(holds({ ...base, auditLogs: [unbacked] }).safety).toBe(false);
    const other = new TargetRegister('t', { validators: ['1', '2', '3', '4', '5'] });
    other.propose(digest('c'), 10, 0);
    expect(holds({ ...base, auditLogs: [log(), [...other.auditLog()]] }).safety).toBe(false);
  });
  test('integrity: bytes whose digest differs from the register’s', () => {
    expect(holds({ ...base, loads: [{ ...base.loads[0]!, loadedDigest: digest('e') }] }).integrity).toBe(false);
  });
  test('monotonic: a node moving backwards, a poller seeing current go back', () => {
    expect(holds({ ...base, nodes: [{ ...base.nodes[0]!, switches: [...base.nodes[0]!.switches, { atMs: 20, from: 1, to: 0 }] }] }).monotonic).toBe(false);
    expect(holds({ ...base, currentSeqSeen: [[0, 1, 0]] }).monotonic).toBe(false);
  });
  test('fault tolerance: a regressed version released, a good one rejected, a run that lost liveness', () => {
    expect(holds({ ...base, stream: [{ ...base.stream[0]!, kind: 'regressed' }, base.stream[1]!] })['fault-tolerance']).toBe(false);
    expect(holds({ ...base, stream: [base.stream[0]!, { ...base.stream[1]!, kind: 'good' }] })['fault-tolerance']).toBe(false);
    expect(holds({ ...base, finished: false })['fault-tolerance']).toBe(false);
  });
});
