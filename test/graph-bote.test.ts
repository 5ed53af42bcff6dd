import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import { atlas } from '../protocols/atlas/index.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { bote } from '../sim/bote.js';
import { builtInPlanet } from '../sim/planet.js';
import { checkedRun } from './graph-helpers.js';

const REGION_SETS = [
  { planet: 'gcp', regions: ['europe-west1', 'us-east1', 'asia-east1'] },
  { planet: 'gcp', regions: ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2'] },
  { planet: 'gcp', regions: ['asia-south1', 'australia-southeast1', 'europe-north1', 'us-central1', 'southamerica-east1', 'asia-northeast1', 'europe-west4'] },
  { planet: 'aws', regions: ['eu-west-1', 'us-east-1', 'ap-northeast-1'] },
  { planet: 'aws', regions: ['eu-central-1', 'us-west-2', 'ap-southeast-2', 'sa-east-1', 'ap-south-1'] },
] as const;

describe.each(REGION_SETS)('$planet $regions.length regions', ({ planet, regions }) => {
  const n = regions.length;
  const cases = [
    { protocol: epaxos, f: 1 },
    { protocol: atlas, f: 1 },
    ...(n >= 5 ? [{ protocol: atlas, f: 2 }] : []),
  ];
  test.each(cases)('$protocol.name f=$f: simulated mean per region at 0% conflict equals bote to the nanosecond', ({ protocol, f }) => {
    const run = checkedRun({ protocol, n, f, planet, regions, clientsPerRegion: 3, seed: 5, workload: { commandsPerClient: 20, conflictRate: 0 } });
    expect(run.result.slowPaths).toBe(0);
    const estimates = bote({ protocol: protocol.name, config: makeConfig(protocol.name, { n, f }), planet: builtInPlanet(planet), processRegions: regions, clientRegions: regions });
    expect(estimates).toHaveLength(n);
    for (const estimate of estimates) {
      const histogram = run.result.latencyNsByRegion.get(estimate.region)!;
      expect(histogram.count).toBe(3 * 20);
      expect(histogram.mean()).toBe(estimate.latencyNs);
      expect(histogram.max()).toBe(estimate.latencyNs);
    }
  });
});
