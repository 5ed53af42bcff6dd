/**
 * `npm run bench:sim`: simulator speed, in simulated messages and commands per wall-clock second.
 *
 * For every protocol, at 0% and 10% conflict: 5 GCP regions, 20 closed-loop clients per region,
 * 1,000 commands each (100,000 commands), one process per region. Each point runs `--runs` times
 * (default 5) after one warm-up run; the median is printed. Flags: --runs N, --commands N (per client),
 * --protocol NAME (repeatable), --cpu PROFILE (default results/cpu-profile.json; `none` to skip).
 *
 * The CPU model's overhead: every point also runs with the model on (the profile, 1 core per process,
 * the same workload — light enough that no process saturates, so both runs simulate about the same
 * messages) and prints its speed and the slowdown against the run with the model off.
 *
 * Each series (protocol × conflict × model off or on: a warm-up and the runs) runs in a child process
 * of its own. In one process, what ran before skews what runs after: the simulator's call sites see
 * every protocol's classes and the model's, and the heap keeps the earlier runs' garbage; the model-off
 * figures of a protocol measured after the others and after model-on runs came out 20-30% lower than
 * the same series alone. `--series P,C,CPU` runs one series and prints it as JSON (internal).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCpuProfile, type CpuProfile } from '../sim/cpu.js';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const REGIONS = ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'];
const CLIENTS_PER_REGION = 20;

interface Point {
  protocol: ProtocolName;
  conflict: number;
  commands: number;
  messages: number;
  messagesPerSec: number;
  commandsPerSec: number;
  wallMs: number;
}

function parseArgs(argv: string[]): { runs: number; commandsPerClient: number; protocols: ProtocolName[]; cpu: string } {
  let cpu = 'results/cpu-profile.json';
  let runs = 5;
  let commandsPerClient = 1000;
  const protocols: ProtocolName[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--runs' && value !== undefined && /^\d+$/.test(value) && Number(value) >= 1) runs = Number(argv[++i]);
    else if (flag === '--commands' && value !== undefined && /^\d+$/.test(value) && Number(value) >= 1) commandsPerClient = Number(argv[++i]);
    else if (flag === '--protocol' && value !== undefined) protocols.push(protocolByName(argv[++i]!).name);
    else if (flag === '--cpu' && value !== undefined) cpu = argv[++i]!;
    else throw new UsageError(`bench:sim accepts --runs N, --commands N, --protocol NAME and --cpu PROFILE|none (got '${flag ?? ''}')`);
  }
  return { runs, commandsPerClient, protocols: protocols.length > 0 ? protocols : availableProtocols(), cpu };
}

function once(protocol: ProtocolName, conflict: number, commandsPerClient: number, profile?: CpuProfile): Point {
  const simulation = new Simulation({
    protocol: protocolByName(protocol),
    config: makeConfig(protocol, { n: REGIONS.length, f: 1 }),
    planet: builtInPlanet('gcp'),
    processRegions: REGIONS,
    clientRegions: REGIONS,
    clientsPerRegion: CLIENTS_PER_REGION,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient, conflictRate: conflict },
    seed: 1,
    ...(profile === undefined ? {} : { cpu: { profile, cores: 1 } }),
  });
  const start = performance.now();
  const result = simulation.run();
  const wallMs = performance.now() - start;
  return {
    protocol,
    conflict,
    commands: result.commandsCompleted,
    messages: result.messagesTotal,
    messagesPerSec: result.messagesTotal / (wallMs / 1000),
    commandsPerSec: result.commandsCompleted / (wallMs / 1000),
    wallMs,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One series in this process: a warm-up, then `runs` runs; the medians. */
function series(protocol: ProtocolName, conflict: number, commandsPerClient: number, runs: number, profile: CpuProfile | undefined): { messages: number; msgs: number; cmds: number; wall: number } {
  once(protocol, conflict, Math.max(1, Math.floor(commandsPerClient / 10)), profile); // warm-up
  const points = Array.from({ length: runs }, () => once(protocol, conflict, commandsPerClient, profile));
  return {
    messages: points[0]!.messages,
    msgs: median(points.map((p) => p.messagesPerSec)),
    cmds: median(points.map((p) => p.commandsPerSec)),
    wall: median(points.map((p) => p.wallMs)),
  };
}

/** The same series in a child process of its own (see the file comment). */
function seriesApart(protocol: ProtocolName, conflict: number, commandsPerClient: number, runs: number, cpu: string): ReturnType<typeof series> {
  const child = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--series', `${protocol},${conflict},${cpu}`, '--runs', String(runs), '--commands', String(commandsPerClient)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`bench:sim series ${protocol} ${conflict}% cpu ${cpu} failed (exit ${String(child.status)}): ${child.stderr.trim()}`);
  return JSON.parse(child.stdout) as ReturnType<typeof series>;
}

function loadProfile(cpu: string): CpuProfile {
  if (!existsSync(cpu)) throw new UsageError(`no CPU profile at '${cpu}': run from the repository root, or give --cpu PROFILE or --cpu none`);
  return parseCpuProfile(readFileSync(cpu, 'utf8'), cpu);
}

function main(): void {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--series');
  if (at >= 0) {
    const [protocol, conflict, cpu] = (argv[at + 1] ?? '').split(',');
    argv.splice(at, 2);
    const { runs, commandsPerClient } = parseArgs(argv);
    const result = series(protocolByName(protocol!).name, Number(conflict), commandsPerClient, runs, cpu === 'none' ? undefined : loadProfile(cpu!));
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const { runs, commandsPerClient, protocols, cpu } = parseArgs(argv);
  const profile = cpu === 'none' ? undefined : loadProfile(cpu);
  const total = REGIONS.length * CLIENTS_PER_REGION * commandsPerClient;
  console.log(`bench:sim — ${REGIONS.length} GCP regions, ${CLIENTS_PER_REGION} clients/region, ${total} commands per run, median of ${runs} runs, each series in its own process`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  console.log('');
  if (profile !== undefined) console.log(`CPU model columns: profile ${cpu}, 1 core per process`);
  const cpuHeader = profile === undefined ? '' : `${'cpu msgs/s'.padStart(12)}${'cpu wall ms'.padStart(12)}${'overhead'.padStart(10)}`;
  console.log(`${'protocol'.padEnd(10)}${'conflict'.padStart(9)}${'messages'.padStart(11)}${'msgs/s'.padStart(12)}${'cmds/s'.padStart(11)}${'wall ms'.padStart(10)}${cpuHeader}`);
  for (const protocol of protocols) {
    for (const conflict of [0, 10]) {
      const off = seriesApart(protocol, conflict, commandsPerClient, runs, 'none');
      let cpuCells = '';
      if (profile !== undefined) {
        const on = seriesApart(protocol, conflict, commandsPerClient, runs, cpu);
        cpuCells = `${Math.round(on.msgs).toLocaleString('en-US').padStart(12)}${on.wall.toFixed(0).padStart(12)}${`${(((on.wall - off.wall) / off.wall) * 100).toFixed(0)}%`.padStart(10)}`;
      }
      console.log(
        `${protocol.padEnd(10)}${`${conflict}%`.padStart(9)}${String(off.messages).padStart(11)}` +
          `${Math.round(off.msgs).toLocaleString('en-US').padStart(12)}${Math.round(off.cmds).toLocaleString('en-US').padStart(11)}${off.wall.toFixed(0).padStart(10)}${cpuCells}`,
      );
    }
  }
}

try {
  main();
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`bench:sim: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
