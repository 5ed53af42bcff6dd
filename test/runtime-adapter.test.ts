import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runAdapterDeployment } from '../runtime/adapter-deployment.js';
import { expectNoOrphans } from './support/runtime.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'orrery.js');

describe('the adapter register deployed on real processes: replicas, validators, inference nodes and the artifact store on loopback', () => {
  test('tempo: a good release reaches every node; a regressed file is rejected and never served; a file corrupted in the store and damaged transfers are refused', async () => {
    const pids: number[] = [];
    const logs: string[] = [];
    const report = await runAdapterDeployment({
      protocol: 'tempo',
      n: 3,
      inferenceNodes: 3,
      versions: ['good', 'regressed', 'corrupted', 'good'],
      seed: 7,
      pollMs: 40,
      requestRate: 200,
      stepsPerRequest: 4,
      stepMs: 5,
      corruptInferenceDownloads: 2,
      onChild: (pid) => pids.push(pid),
      onLog: (line) => logs.push(line),
    });
    const [first, regressed, corrupted, second] = report.versions;
    // Releases: every validator passed, every inference node swapped to it, then it was marked stable.
    for (const release of [first!, second!]) {
      expect(release.outcome).toBe('released');
      expect(release.verdicts.filter((v) => v.pass && v.counted).length).toBeGreaterThanOrEqual(2);
      expect(release.nodesServing).toBe(3);
      expect(release.convergenceMs).not.toBeNull();
      expect(release.markedStable).toBe(true);
    }
    // The regressed file: failed by the validation suite, rejected, never loaded, never served.
    expect(regressed!.outcome).toBe('rejected');
    expect(regressed!.verdicts.filter((v) => !v.pass && v.counted).length).toBe(2);
    for (const verdict of regressed!.verdicts) expect(verdict.evidence).toMatch(/^fail \[regression/);
    expect(regressed!.nodesServing).toBe(0);
    expect(report.requestsByVersion[regressed!.versionId]).toBeUndefined();
    // The file damaged on the store's disk: every validator that looked refused its bytes and failed it.
    expect(corrupted!.outcome).toBe('rejected');
    expect(corrupted!.verdicts.length).toBeGreaterThanOrEqual(2);
    for (const verdict of corrupted!.verdicts) {
      expect(verdict.pass).toBe(false);
      expect(verdict.evidence).toMatch(/digest mismatch/);
      expect(verdict.integrityRefusals).toBe(2);
    }
    expect(report.integrityRefusals.validators).toBeGreaterThanOrEqual(4);
    expect(report.requestsByVersion[corrupted!.versionId]).toBeUndefined();
    // Damaged transfers: refused by the inference nodes (never loaded), which then loaded the good bytes.
    expect(report.store.corruptedTransfers).toBe(2);
    expect(report.integrityRefusals.inference).toBe(2);
    expect(first!.inferenceRefusals).toBe(2);
    // Safety, integrity, monotonic progression.
    expect(report.badVersionRequests).toBe(0);
    expect(report.probeMismatches).toBe(0);
    expect(report.backwardSwaps).toBe(0);
    for (const node of report.inference) {
      expect(node.served).toEqual([first!.versionId, second!.versionId]);
      expect(Object.keys(node.requestsByVersion).every((id) => id === first!.versionId || id === second!.versionId)).toBe(true);
    }
    expect(report.requestsServed).toBeGreaterThan(0);
    // Requests take 4 steps of 5 ms at 200/s per node: swaps find requests in flight, which finish on their version.
    expect(report.requestsSpanningSwap).toBeGreaterThan(0);
    expect(report.requestsByVersion[second!.versionId]).toBeGreaterThan(0);
    // Every replica holds the same register: the second release is current and stable.
    expect(report.replicasAgree).toBe(true);
    for (const { state } of report.finalStates) {
      expect(state.phase).toBe('STABLE');
      expect(state.current?.versionId).toBe(second!.versionId);
    }
    expect(logs.filter((line) => /fatal|poll failed/.test(line))).toEqual([]);
    expectNoOrphans(pids);
    expect([...report.childPids].sort()).toEqual([...pids].sort());
  });

  test('epaxos with one of three validators down: the live majority still releases a good file and rejects a regressed one', async () => {
    const pids: number[] = [];
    const report = await runAdapterDeployment({
      protocol: 'epaxos',
      n: 3,
      inferenceNodes: 2,
      versions: ['good', 'regressed'],
      seed: 3,
      pollMs: 40,
      requestRate: 100,
      stepsPerRequest: 2,
      stepMs: 0,
      corruptInferenceDownloads: 0,
      crashedValidators: [3],
      onChild: (pid) => pids.push(pid),
      onLog: () => undefined,
    });
    const [good, regressed] = report.versions;
    expect(good!.outcome).toBe('released');
    expect(good!.verdicts.map((v) => [v.validator, v.pass])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(good!.nodesServing).toBe(2);
    expect(regressed!.outcome).toBe('rejected');
    expect(regressed!.verdicts.map((v) => [v.validator, v.pass])).toEqual([
      [1, false],
      [2, false],
    ]);
    expect(report.badVersionRequests).toBe(0);
    expect(report.replicasAgree).toBe(true);
    expectNoOrphans(pids);
  });

  test('orrery app adapter-register --runtime with a bad flag: one line, exit code 2, nothing started', () => {
    const run = spawnSync(process.execPath, [CLI, 'app', 'adapter-register', '--runtime', '--versions', 'good,broken'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe("orrery: --versions: unknown artifact kind 'broken'; accepted: good, regressed, corrupted\n");
    const even = spawnSync(process.execPath, [CLI, 'app', 'adapter-register', '--runtime', '--n', '4'], { encoding: 'utf8', timeout: 30_000 });
    expect(even.status).toBe(2);
    expect(even.stderr).toBe('orrery: --n must be odd, so that a strict majority of validators is well defined (got 4)\n');
  });
});
