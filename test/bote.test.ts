import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import { bote } from '../sim/bote.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { simulationOptions } from './support/simulate.js';

interface Case {
  planet: 'gcp' | 'aws';
  regions: string[];
  clientRegions?: string[];
  f: number;
  leader: number;
}

const CASES: Case[] = [
  { planet: 'gcp', regions: ['us-east1', 'europe-west2', 'asia-east1'], f: 1, leader: 1 },
  { planet: 'gcp', regions: ['us-east1', 'europe-west2', 'asia-east1'], f: 1, leader: 3 },
  { planet: 'gcp', regions: ['asia-southeast1', 'europe-west4', 'southamerica-east1', 'australia-southeast1', 'europe-west2'], f: 2, leader: 2 },
  {
    planet: 'gcp',
    regions: ['us-east1', 'us-east4', 'europe-west1', 'asia-northeast1', 'us-west1'],
    clientRegions: ['us-central1', 'asia-south1', 'europe-north1', 'us-east1'],
    f: 1,
    leader: 4,
  },
  { planet: 'aws', regions: ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1'], f: 1, leader: 1 },
  { planet: 'aws', regions: ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1', 'ap-east-1', 'us-east-1'], f: 2, leader: 7 },
  { planet: 'aws', regions: ['eu-west-1', 'eu-west-1', 'us-east-1'], f: 1, leader: 2 },
];

describe('bote agrees with the simulator at zero conflict', () => {
  for (const c of CASES) {
    test(`fpaxos ${c.planet} n=${c.regions.length} f=${c.f} leader=${c.leader}`, () => {
      const options = simulationOptions({
        protocol: 'fpaxos',
        planet: c.planet,
        regions: c.regions,
        ...(c.clientRegions ? { clientRegions: c.clientRegions } : {}),
        config: { f: c.f, leader: c.leader },
        clientsPerRegion: 4,
        workload: { conflictRate: 0, commandsPerClient: 15 },
      });
      const result = new Simulation(options).run();
      const estimates = bote({
        protocol: 'fpaxos',
        config: makeConfig('fpaxos', { n: c.regions.length, f: c.f, leader: c.leader }),
        planet: builtInPlanet(c.planet),
        processRegions: c.regions,
        clientRegions: options.clientRegions,
      });
      expect(estimates).toHaveLength(options.clientRegions.length);
      for (const estimate of estimates) {
        const histogram = result.latencyNsByRegion.get(estimate.region)!;
        expect(histogram.count).toBeGreaterThan(0);
        expect(histogram.mean()).toBe(estimate.latencyNs);
        expect(histogram.max()).toBe(estimate.latencyNs); // no contention: every command takes the same time
      }
    });
  }
});

describe('bote agrees with the simulator for EPaxos with either fast quorum', () => {
  const sets: Array<{ planet: 'gcp' | 'aws'; regions: string[] }> = [
    { planet: 'gcp', regions: ['asia-southeast1', 'europe-west4', 'southamerica-east1', 'australia-southeast1', 'europe-west2'] },
    { planet: 'aws', regions: ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1', 'ap-east-1', 'us-east-1'] },
  ];
  for (const set of sets) {
    for (const epaxosFastQuorum of ['simple', 'optimized'] as const) {
      test(`epaxos ${epaxosFastQuorum} ${set.planet} n=${set.regions.length}`, () => {
        const options = simulationOptions({
          protocol: 'epaxos',
          planet: set.planet,
          regions: set.regions,
          config: { epaxosFastQuorum },
          clientsPerRegion: 3,
          workload: { conflictRate: 0, commandsPerClient: 10 },
        });
        const result = new Simulation(options).run();
        const estimates = bote({ protocol: 'epaxos', config: options.config, planet: builtInPlanet(set.planet), processRegions: set.regions, clientRegions: set.regions });
        for (const estimate of estimates) expect(result.latencyNsByRegion.get(estimate.region)!.mean()).toBe(estimate.latencyNs);
      });
    }
  }

  test('the optimized quorum is smaller, so it is never slower', () => {
    const config = (epaxosFastQuorum: 'simple' | 'optimized') => makeConfig('epaxos', { n: 5, epaxosFastQuorum });
    const regions = sets[0]!.regions;
    const simple = bote({ protocol: 'epaxos', config: config('simple'), planet: builtInPlanet('gcp'), processRegions: regions, clientRegions: regions });
    const optimized = bote({ protocol: 'epaxos', config: config('optimized'), planet: builtInPlanet('gcp'), processRegions: regions, clientRegions: regions });
    optimized.forEach((estimate, i) => expect(estimate.latencyNs).toBeLessThanOrEqual(simple[i]!.latencyNs));
    expect(optimized.some((estimate, i) => estimate.latencyNs < simple[i]!.latencyNs)).toBe(true);
  });
});
