/**
 * Memory after a permanent crash: one process of five crashes for good at 10% of a long run; the
 * others suspect it 200 ms later and remove it from the configuration 1 s after that
 * (docs/reconfiguration.md). From then on garbage collection and dependency pruning run over the
 * four members, so the heap stays flat for the rest of the run. Without the removal (`--keep`), the
 * same run holds every command from the crash on.
 *
 * Prints, per protocol: the live heap after a forced collection at 10%, 20%, 50% and 100% of the
 * run's executions, the peak heap sampled in each stretch, and the per-command state the survivors
 * hold at those points (Process.heldState).
 *
 * Run: npm run bench:memory-crash [-- --commands N] [-- --keep] [-- --protocol P]
 */
import { makeConfig, PROTOCOL_NAMES, type ProtocolName } from '../core/config.js';
import { protocolByName } from '../protocols/index.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation, type SimulationOptions } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const REGIONS = ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2'];
const CLIENTS_PER_REGION = 100;
const CRASHED = 5;
const MIB = 1024 * 1024;
const CHECKPOINTS = [0.1, 0.2, 0.5, 1];

const forceGc = (globalThis as { gc?: () => void }).gc;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function options(protocol: ProtocolName, commands: number, crashAtMs: number | undefined, remove: boolean): SimulationOptions {
  const clients = REGIONS.length * CLIENTS_PER_REGION;
  return {
    protocol: protocolByName(protocol),
    config: makeConfig(protocol, { n: REGIONS.length, f: 1, leader: 1 }),
    planet: builtInPlanet('gcp'),
    processRegions: REGIONS,
    clientRegions: REGIONS,
    clientsPerRegion: CLIENTS_PER_REGION,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: Math.ceil(commands / clients), conflictRate: 2 },
    seed: 1,
    ...(crashAtMs === undefined
      ? {}
      : {
          faults: { crashes: [{ process: CRASHED, atMs: crashAtMs }], clientTimeoutMs: 1_000, ...(remove ? { removeAfterMs: 1_000 } : {}) },
          failureDetectionMs: 200,
        }),
  };
}

function measure(protocol: ProtocolName, commands: number, remove: boolean): void {
  // A fault-free pilot at a tenth of the size gives the run's pace in simulated time.
  const pilot = new Simulation(options(protocol, Math.ceil(commands / 10), undefined, false)).run();
  const crashAtMs = Math.round(pilot.durationNs / 1e6);
  const base = options(protocol, commands, crashAtMs, remove);
  const keys = REGIONS.length * CLIENTS_PER_REGION * Math.ceil(commands / (REGIONS.length * CLIENTS_PER_REGION));
  const expected = keys * (REGIONS.length - 1); // executions at the survivors alone, a lower bound
  const marks = CHECKPOINTS.map((c) => Math.floor(c * expected));
  let executions = 0;
  let next = 0;
  let peak = 0;
  const rows: string[] = [];
  forceGc?.();
  // eslint-disable-next-line prefer-const
  let sim: Simulation;
  const checkpoint = (label: string) => {
    forceGc?.();
    const live = process.memoryUsage().heapUsed / MIB;
    const held = sim.heldState().filter((_, i) => i !== CRASHED - 1);
    rows.push(`  ${label.padStart(4)}: live heap ${live.toFixed(1)} MiB, peak since last ${(peak / MIB).toFixed(1)} MiB, survivors hold ${held.join('/')} entries`);
    peak = 0;
  };
  sim = new Simulation({
    ...base,
    observer: {
      onExecuted: () => {
        executions++;
        if ((executions & 0x3fff) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
        if (next < marks.length - 1 && executions >= marks[next]!) checkpoint(`${Math.round(CHECKPOINTS[next++]! * 100)}%`);
      },
    },
  });
  const started = performance.now();
  const result = sim.run();
  const wallS = (performance.now() - started) / 1000;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  checkpoint('100%');
  const changes = result.faults.configurations ?? [];
  console.log(
    `${protocol}: ${result.commandsCompleted} commands in ${(result.durationNs / 1e9).toFixed(1)} s simulated (${wallS.toFixed(1)} s wall-clock); ` +
      `crash of process ${CRASHED} at ${crashAtMs} ms; ${changes.length === 0 ? 'configuration unchanged' : changes.map((c) => `epoch ${c.epoch} = {${c.members.join(',')}} at ${c.atMs.toFixed(0)} ms`).join('; ')}`,
  );
  for (const row of rows) console.log(row);
}

function main(): void {
  const commands = Number(flag('commands') ?? 1_000_000);
  const remove = !process.argv.includes('--keep');
  const only = flag('protocol');
  if (only !== undefined && !(PROTOCOL_NAMES as readonly string[]).includes(only)) {
    console.error(`--protocol must be one of ${PROTOCOL_NAMES.join(', ')} (got ${only})`);
    process.exit(2);
  }
  if (!Number.isInteger(commands) || commands < 10_000) {
    console.error(`--commands must be an integer of at least 10000 (got ${flag('commands')})`);
    process.exit(2);
  }
  if (forceGc === undefined) console.log('note: run with node --expose-gc (npm run bench:memory-crash does) to see the live heap');
  console.log(
    `${REGIONS.length} GCP regions, ${CLIENTS_PER_REGION} clients per region, 2% conflict, f=1; process ${CRASHED} crashes for good at 10% of the run; ` +
      (remove ? 'suspected after 200 ms, removed after 1 s of suspicion' : 'never removed (--keep)'),
  );
  for (const protocol of only === undefined ? PROTOCOL_NAMES : [only as ProtocolName]) measure(protocol, commands, remove);
}

main();
