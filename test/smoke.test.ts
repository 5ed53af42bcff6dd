import { expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';
import { fpaxos } from '../protocols/fpaxos/index.js';

test('smoke', () => {
  const regions = ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2'];
  const sim = new Simulation({
    protocol: fpaxos, config: makeConfig('fpaxos', { n: 5, f: 1 }), planet: builtInPlanet('gcp'),
    processRegions: regions, clientRegions: regions, clientsPerRegion: 10,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 2000 }, seed: 1,
  });
  const t0 = performance.now();
  const r = sim.run();
  const ms = performance.now() - t0;
  console.log(r.commandsCompleted, r.messagesTotal, ms, (r.messagesTotal / ms) * 1000, r.latencyNs.summary((v) => v / 1e6), r.events);
  expect(r.commandsCompleted).toBe(100000);
});
