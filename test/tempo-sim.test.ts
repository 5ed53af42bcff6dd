import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import type { ProtocolDefinition } from '../core/process.js';
import { bote } from '../sim/bote.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';
import { tempo } from '../protocols/tempo/index.js';
import type { TempoInfo, TempoMessage } from '../protocols/tempo/messages.js';
import { TempoProcess } from '../protocols/tempo/tempo.js';
import { runTempo } from './tempo-harness.js';

describe('Tempo latency equals bote at 0% conflict', () => {
  const cases: Array<{ planet: 'gcp' | 'aws'; f: number; regions: string[] }> = [
    { planet: 'gcp', f: 1, regions: ['europe-west1', 'us-east1', 'asia-east1'] },
    { planet: 'gcp', f: 1, regions: ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2'] },
    { planet: 'gcp', f: 2, regions: ['asia-south1', 'europe-north1', 'us-central1', 'australia-southeast1', 'southamerica-east1'] },
    { planet: 'gcp', f: 2, regions: ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2', 'asia-south1', 'southamerica-east1'] },
    { planet: 'aws', f: 1, regions: ['eu-west-1', 'us-east-1', 'ap-northeast-1'] },
    { planet: 'aws', f: 2, regions: ['eu-west-1', 'us-east-1', 'ap-northeast-1', 'sa-east-1', 'ap-southeast-2'] },
  ];
  for (const { planet, f, regions } of cases) {
    test(`${planet} f=${f} ${regions.join(',')}`, () => {
      const n = regions.length;
      const run = runTempo({ n, f, planet, regions, workload: { conflictRate: 0, commandsPerClient: 30 } });
      const estimates = bote({ protocol: 'tempo', config: run.result.config, planet: builtInPlanet(planet), processRegions: regions, clientRegions: regions });
      for (const estimate of estimates) {
        const histogram = run.result.latencyNsByRegion.get(estimate.region)!;
        expect(histogram.count).toBe(60);
        expect({ region: estimate.region, latencyNs: histogram.mean() }).toEqual({ region: estimate.region, latencyNs: estimate.latencyNs });
        expect(histogram.max()).toBe(estimate.latencyNs);
      }
    });
  }
});

describe('Tempo determinism', () => {
  test('the same seed gives the same run, message for message', () => {
    const options = { n: 5, f: 2, clientsPerRegion: 3, workload: { conflictRate: 20, keysPerCommand: 2, sharedKeys: 3 } };
    const [a, b] = [runTempo(options), runTempo(options)];
    expect(b.result.messagesByType).toEqual(a.result.messagesByType);
    expect(b.result.history).toEqual(a.result.history);
    expect(b.executed).toEqual(a.executed);
    const other = runTempo({ ...options, seed: 8 });
    expect(other.result.history).not.toEqual(a.result.history);
  });
});

describe('Tempo executor shards', () => {
  test('k = 1, 2 and 4 shards give identical execution orders, results and latencies', () => {
    const runs = [1, 2, 4].map((shards) =>
      runTempo({ n: 5, f: 2, shards, clientsPerRegion: 3, workload: { conflictRate: 30, keysPerCommand: 2, sharedKeys: 4, readRatio: 30 } }),
    );
    const [one, ...rest] = runs;
    expect(one!.orderViolations).toEqual([]);
    const replies = (run: (typeof runs)[number]) =>
      run.result.history!.map((entry) => [entry.rifl, entry.completeMs, [...entry.results].sort((a, b) => (a.key < b.key ? -1 : 1))]);
    for (const other of rest) {
      expect(other.orderViolations).toEqual([]);
      for (let p = 1; p <= 5; p++) {
        for (const key of one!.monitor.keys()) expect(other.monitor.sequence(p, key)).toEqual(one!.monitor.sequence(p, key));
      }
      expect(other.monitor.keys()).toEqual(one!.monitor.keys());
      expect(replies(other)).toEqual(replies(one!));
      expect(other.executed).toEqual(one!.executed);
    }
  });

  test('with 4 shards every shard holds keys', () => {
    const owners = new Set<number>();
    for (let i = 0; i < 16; i++) owners.add(tempo.shardOf!({ type: 'Detached', key: `s${i}`, votes: [] }, 4));
    expect([...owners].sort()).toEqual([0, 1, 2, 3]);
  });
});

describe('Tempo garbage collection', () => {
  test('per-dot state stays flat: committed dots are dropped once every process committed them', () => {
    const processes: TempoProcess[] = [];
    const tracked: ProtocolDefinition<TempoMessage, TempoInfo> = {
      ...tempo,
      createProcess: (id, config) => {
        const process = new TempoProcess(id, config);
        processes.push(process);
        return process;
      },
    };
    const regions = ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2'];
    const result = new Simulation({
      protocol: tracked,
      config: makeConfig('tempo', { n: 5, f: 1 }),
      planet: builtInPlanet('gcp'),
      processRegions: regions,
      clientRegions: regions,
      clientsPerRegion: 4,
      workload: { ...WORKLOAD_DEFAULTS, conflictRate: 10, commandsPerClient: 300 },
      seed: 3,
    }).run();
    expect(result.commandsCompleted).toBe(6000);
    for (const process of processes) {
      // 6000 dots went through; what is left is at most the last few GC periods' worth.
      expect(process.dotCount).toBeLessThan(100);
      for (let source = 1; source <= 5; source++) expect(process.collectedUpToOf(source)).toBeGreaterThan(1000);
    }
  });
});
