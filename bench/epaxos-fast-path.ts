/**
 * What the simple 2F fast quorum costs EPaxos (docs/epaxos-recovery.md): the fast-path ratio and the
 * mean latency at 2% and 10% conflict, with the fast quorum Orrery runs (2F, whose recovery needs no
 * TryPreAccept) next to the paper's optimized F + ⌊(F+1)/2⌋ (unsafe with Orrery's recovery rules,
 * fine in these fault-free runs). Same code, same seeds; only the fast quorum size differs.
 *
 * Run: npm run build && node dist/bench/epaxos-fast-path.js
 */
import { makeConfig } from '../core/config.js';
import { epaxosFastQuorumSize, epaxosOptimizedFastQuorumSize } from '../core/quorum.js';
import { EPaxosProcess } from '../protocols/epaxos/epaxos.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const DEPLOYMENTS = [
  { planet: 'gcp', regions: ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'] },
  { planet: 'gcp', regions: ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1', 'asia-northeast1', 'australia-southeast1'] },
] as const;
const CONFLICTS = [2, 10];
const SEEDS = [1, 2, 3];
const CLIENTS_PER_REGION = 10;
const COMMANDS_PER_CLIENT = 200;

function run(planet: 'gcp' | 'aws', regions: readonly string[], conflict: number, seed: number, fastQuorumSize: (n: number) => number) {
  const simulation = new Simulation({
    protocol: { ...epaxos, createProcess: (id, config) => new EPaxosProcess(id, config, { fastQuorumSize: fastQuorumSize(config.n) }) },
    config: makeConfig('epaxos', { n: regions.length, f: 1 }),
    planet: builtInPlanet(planet),
    processRegions: regions,
    clientRegions: regions,
    clientsPerRegion: CLIENTS_PER_REGION,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: COMMANDS_PER_CLIENT, conflictRate: conflict },
    seed,
  });
  const result = simulation.run();
  return {
    fast: result.fastPaths,
    slow: result.slowPaths,
    recovered: result.recoveredByProcess.reduce((a, b) => a + b, 0),
    latencySumMs: result.latencyNs.mean() * result.latencyNs.count / 1e6,
    count: result.latencyNs.count,
  };
}

console.log('n  conflict  quorum           fast-path ratio  mean latency ms  recoveries');
for (const { planet, regions } of DEPLOYMENTS) {
  for (const conflict of CONFLICTS) {
    for (const [name, size] of [
      ['optimized', epaxosOptimizedFastQuorumSize],
      ['2F', epaxosFastQuorumSize],
    ] as const) {
      let fast = 0;
      let slow = 0;
      let recovered = 0;
      let latencySumMs = 0;
      let count = 0;
      for (const seed of SEEDS) {
        const r = run(planet, regions, conflict, seed, size);
        fast += r.fast;
        slow += r.slow;
        recovered += r.recovered;
        latencySumMs += r.latencySumMs;
        count += r.count;
      }
      const label = `${name} (${size(regions.length)})`.padEnd(17);
      console.log(`${String(regions.length).padEnd(3)}${`${conflict}%`.padEnd(10)}${label}${(fast / (fast + slow)).toFixed(4).padEnd(17)}${(latencySumMs / count).toFixed(1).padEnd(17)}${recovered}`);
    }
  }
}
