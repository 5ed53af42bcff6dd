/**
 * Memory stays flat for EPaxos and Atlas: garbage collection (PROTOCOLS.md §7.7) drops per-dot state
 * once every process committed a dot and prunes the dependency index once every process executed it,
 * and the graph executor keeps executed dots as per-source frontiers. This script simulates a long run
 * and a ten-times-shorter one per protocol and prints the peak heap and RSS sampled during each, plus
 * the live heap after a forced collection at checkpoints. If per-command state leaked, the long run's
 * live heap would be about ten times the short run's.
 *
 * Run: npm run bench:memory   (node --expose-gc, so that the live heap can be measured)
 */
import { makeConfig } from '../core/config.js';
import { atlas } from '../protocols/atlas/index.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const REGIONS = ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2'];
const CLIENTS_PER_REGION = 100;
const LONG_COMMANDS = 1_000_000;
const SHORT_COMMANDS = 100_000;
/** Sample memory every this many executed partial results (all processes together). */
const SAMPLE_EVERY = 25_000;
const CHECKPOINTS = 10;
const MIB = 1024 * 1024;

const forceGc = (globalThis as { gc?: () => void }).gc;

interface Measured {
  readonly heapPeakMib: number;
  readonly rssPeakMib: number;
  readonly liveHeapMib: number[];
  readonly messages: number;
  readonly wallMs: number;
  readonly fastPaths: number;
  readonly slowPaths: number;
}

function measure(protocol: typeof epaxos | typeof atlas, commands: number): Measured {
  const clients = REGIONS.length * CLIENTS_PER_REGION;
  const commandsPerClient = Math.ceil(commands / clients);
  const executionsTotal = clients * commandsPerClient * REGIONS.length;
  const checkpointEvery = Math.floor(executionsTotal / CHECKPOINTS);
  let executions = 0;
  let heapPeak = 0;
  let rssPeak = 0;
  const liveHeap: number[] = [];
  const sample = () => {
    const usage = process.memoryUsage();
    heapPeak = Math.max(heapPeak, usage.heapUsed);
    rssPeak = Math.max(rssPeak, usage.rss);
  };
  forceGc?.();
  const sim = new Simulation({
    protocol,
    config: makeConfig(protocol.name, { n: REGIONS.length, f: 1 }),
    planet: builtInPlanet('gcp'),
    processRegions: REGIONS,
    clientRegions: REGIONS,
    clientsPerRegion: CLIENTS_PER_REGION,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient, conflictRate: 2 },
    seed: 1,
    observer: {
      onExecuted: () => {
        executions++;
        if (executions % SAMPLE_EVERY === 0) sample();
        if (forceGc !== undefined && executions % checkpointEvery === 0) {
          forceGc();
          liveHeap.push(process.memoryUsage().heapUsed / MIB);
        }
      },
    },
  });
  const started = performance.now();
  const result = sim.run();
  const wallMs = performance.now() - started;
  sample();
  return {
    heapPeakMib: heapPeak / MIB,
    rssPeakMib: rssPeak / MIB,
    liveHeapMib: liveHeap,
    messages: result.messagesTotal,
    wallMs,
    fastPaths: result.fastPaths,
    slowPaths: result.slowPaths,
  };
}

function main(): void {
  if (forceGc === undefined) console.log('note: run with node --expose-gc to see the live heap at checkpoints');
  console.log(`${REGIONS.length} GCP regions (${REGIONS.join(', ')}), ${CLIENTS_PER_REGION} clients per region, 2% conflict, f=1`);
  for (const protocol of [epaxos, atlas]) {
    for (const commands of [SHORT_COMMANDS, LONG_COMMANDS]) {
      const m = measure(protocol, commands);
      const live = m.liveHeapMib.map((v) => v.toFixed(1)).join(' ');
      console.log(
        `${protocol.name.padEnd(6)} ${String(commands).padStart(9)} commands: heap peak ${m.heapPeakMib.toFixed(1)} MiB, ` +
          `RSS peak ${m.rssPeakMib.toFixed(1)} MiB, ${Math.round(m.messages / (m.wallMs / 1000))} messages/s ` +
          `(${m.messages} in ${(m.wallMs / 1000).toFixed(1)} s), fast/slow ${m.fastPaths}/${m.slowPaths}`,
      );
      if (live.length > 0) console.log(`       live heap at each tenth of the run (MiB): ${live}`);
    }
  }
}

main();
