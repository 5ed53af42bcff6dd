/**
 * `npm run cpu:paper`: the Tempo paper's throughput experiment (Enes et al., EuroSys'21, §6.2) in the
 * simulator with the calibrated CPU model — nothing in it is fitted to the paper's figures.
 *
 * Setup as in the paper: r = 5 AWS sites (eu-west-1, us-west-1, ap-southeast-1, ca-central-1,
 * sa-east-1), f = 1, 4 KB payload, conflict 2% and 10% (one shared key), 8 cores per process
 * (c5.2xlarge), closed-loop clients per site from 32 up to 20,480. Orrery's choices, written here
 * because the paper does not fix them for the simulator:
 * - the CPU profile is results/cpu-profile.json (`--profile` to change), calibrated on the machine
 *   named in it, not on a c5.2xlarge;
 * - Tempo runs 7 executor shards on 7 cores (cores − 1); graph and slot executors one core each;
 * - the NIC: `--nic-bytes-per-sec` (default 1.25e9, the c5.2xlarge's "up to 10 Gbps"; 0 = unlimited);
 * - the FPaxos leader is process 1 (eu-west-1);
 * - commands per client shrink as clients grow (`commandsFor`), so that every point runs a few
 *   hundred thousand commands at most; throughput is measured over the middle half of the
 *   completions (from the 25th to the 75th percentile of completion time), which leaves out the ramp
 *   up and the drain of a closed loop; latency percentiles are over the commands completed in that window;
 * - the recovery timeout is 60 s: a failure-free experiment, and the paper's implementations have no
 *   timeouts that fire under load (Orrery's FPaxos leader would otherwise resend accepts queued > 1 s).
 *
 * Flags: --profile FILE, --nic-bytes-per-sec B, --clients a,b,c, --protocols p,q, --conflicts 2,10,
 * --json FILE (write every point). Prints the peak-throughput table, the ratios next to the paper's,
 * and the p99.9 latency at 256 and 512 clients per site (2% conflict) for Tempo, Atlas and EPaxos.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { Histogram } from '../core/histogram.js';
import { protocolByName } from '../protocols/index.js';
import { parseCpuProfile, type CpuProfile } from '../sim/cpu.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const SITES = ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1'];
const CORES = 8;
const PAYLOAD_BYTES = 4096;
const PAPER_PEAK: Record<string, Record<number, number>> = { fpaxos: { 2: 53_000, 10: 53_000 }, atlas: { 2: 129_000, 10: 83_000 }, tempo: { 2: 229_000, 10: 230_000 } };
const PAPER_P999_MS: Record<string, Record<number, number>> = { tempo: { 256: 354, 512: 367 }, atlas: { 256: 1300, 512: 2400 }, epaxos: { 256: 1700, 512: 3100 } };

interface Point {
  protocol: ProtocolName;
  conflict: number;
  clientsPerSite: number;
  commandsPerClient: number;
  commands: number;
  opsPerSec: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsP999: number;
  utilisation: { protocolCore: number[]; executorMax: number[]; nic: Array<number | null> };
  wallMs: number;
}

/** Commands per client: 60 at low counts, fewer as clients grow (at least 3). */
export function commandsFor(clientsPerSite: number): number {
  return Math.max(3, Math.min(60, Math.floor(40_000 / clientsPerSite)));
}

function argValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? undefined : args[at + 1];
}

function runPoint(profile: CpuProfile, nic: number, protocol: ProtocolName, conflict: number, clientsPerSite: number): Point {
  const commandsPerClient = commandsFor(clientsPerSite);
  const start = performance.now();
  const definition = protocolByName(protocol);
  const result = new Simulation({
    protocol: definition,
    config: makeConfig(protocol, { n: SITES.length, f: 1, leader: 1, executorShards: definition.shardOf === undefined ? 1 : CORES - 1, recoveryTimeoutMs: 60_000 }),
    planet: builtInPlanet('aws'),
    processRegions: SITES,
    clientRegions: SITES,
    clientsPerRegion: clientsPerSite,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient, conflictRate: conflict, payloadBytes: PAYLOAD_BYTES },
    seed: 1,
    recordHistory: true,
    maxSimTimeMs: 36_000_000,
    cpu: { profile, cores: CORES, ...(nic > 0 ? { nicBytesPerSec: nic } : {}) },
  }).run();
  const history = result.history!;
  const completions = history.map((h) => h.completeMs).sort((a, b) => a - b);
  const from = completions[Math.floor(completions.length * 0.25)]!;
  const to = completions[Math.floor(completions.length * 0.75)]!;
  const window = new Histogram();
  let inWindow = 0;
  for (const h of history) {
    if (h.completeMs >= from && h.completeMs <= to) {
      inWindow++;
      window.add(h.completeMs - h.invokeMs);
    }
  }
  const summary = window.summary((ms) => ms);
  const usage = result.cpu!.usage;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    protocol,
    conflict,
    clientsPerSite,
    commandsPerClient,
    commands: result.commandsCompleted,
    opsPerSec: Math.round(inWindow / ((to - from) / 1000)),
    latencyMsP50: round(summary.p50),
    latencyMsP99: round(summary.p99),
    latencyMsP999: round(summary.p999),
    utilisation: {
      protocolCore: usage.map((u) => u.protocolCore),
      executorMax: usage.map((u) => (u.executorCores.length === 0 ? 0 : Math.max(...u.executorCores))),
      nic: usage.map((u) => u.nic),
    },
    wallMs: Math.round(performance.now() - start),
  };
}

function fmtK(ops: number): string {
  return `${Math.round(ops / 1000)}K`;
}

function main(): void {
  const args = process.argv.slice(2);
  const profileFile = argValue(args, 'profile') ?? 'results/cpu-profile.json';
  const profile = parseCpuProfile(readFileSync(profileFile, 'utf8'), profileFile);
  const nic = Number(argValue(args, 'nic-bytes-per-sec') ?? 1.25e9);
  if (!(nic === 0 || nic >= 1000)) throw new UsageError(`--nic-bytes-per-sec must be 0 (unlimited) or at least 1000 (got ${nic})`);
  const clients = (argValue(args, 'clients') ?? '32,256,512,2048,8192,20480').split(',').map(Number);
  const protocols = (argValue(args, 'protocols') ?? 'fpaxos,atlas,tempo,epaxos').split(',') as ProtocolName[];
  const conflicts = (argValue(args, 'conflicts') ?? '2,10').split(',').map(Number);
  const jsonFile = argValue(args, 'json');
  console.log(`cpu:paper — profile ${profileFile} (${String(profile.machine['cpu'])}, ${profile.date}), ${CORES} cores, NIC ${nic === 0 ? 'unlimited' : `${nic} B/s`}`);
  console.log(`command: npm run cpu:paper -- ${args.join(' ')}`.trimEnd());
  const points: Point[] = [];
  for (const protocol of protocols) {
    for (const conflict of conflicts) {
      // EPaxos is in the paper's latency figure only: 2% conflict, 256 and 512 clients per site.
      const counts = protocol === 'epaxos' ? clients.filter((c) => c === 256 || c === 512) : clients;
      if (protocol === 'epaxos' && conflict !== 2) continue;
      for (const count of counts) {
        const point = runPoint(profile, nic, protocol, conflict, count);
        points.push(point);
        const util = point.utilisation.protocolCore.map((u) => `${Math.round(u * 100)}`).join('/');
        const exec = point.utilisation.executorMax.map((u) => `${Math.round(u * 100)}`).join('/');
        const nicUse = point.utilisation.nic.map((u) => (u === null ? '-' : `${Math.round(u * 100)}`)).join('/');
        console.log(
          `  ${protocol.padEnd(7)} ${String(conflict).padStart(2)}% ${String(count).padStart(6)} clients/site × ${String(point.commandsPerClient).padStart(3)}: ` +
            `${String(point.opsPerSec).padStart(7)} ops/s  p50 ${point.latencyMsP50} ms  p99.9 ${point.latencyMsP999} ms  ` +
            `protocol core % ${util}  executor % ${exec}  nic % ${nicUse}  (${(point.wallMs / 1000).toFixed(1)} s)`,
        );
      }
    }
  }
  if (jsonFile !== undefined) writeFileSync(jsonFile, `${JSON.stringify({ profile: profileFile, nicBytesPerSec: nic, cores: CORES, points }, null, 2)}\n`);

  console.log('\npeak throughput (ops/s): Orrery vs the paper');
  console.log(`  ${'protocol'.padEnd(9)}${'2% orrery'.padStart(11)}${'2% paper'.padStart(10)}${'10% orrery'.padStart(12)}${'10% paper'.padStart(11)}`);
  const peak = (p: string, c: number) => Math.max(0, ...points.filter((x) => x.protocol === p && x.conflict === c).map((x) => x.opsPerSec));
  for (const p of ['fpaxos', 'atlas', 'tempo']) {
    if (!protocols.includes(p as ProtocolName)) continue;
    console.log(`  ${p.padEnd(9)}${fmtK(peak(p, 2)).padStart(11)}${fmtK(PAPER_PEAK[p]![2]!).padStart(10)}${fmtK(peak(p, 10)).padStart(12)}${fmtK(PAPER_PEAK[p]![10]!).padStart(11)}`);
  }
  if (protocols.includes('fpaxos')) {
    console.log('\nratios to FPaxos: Orrery (paper)');
    for (const c of conflicts) {
      const base = peak('fpaxos', c);
      const ratio = (p: string) => (base === 0 ? 'n/a' : (peak(p, c) / base).toFixed(1));
      const paper = (p: string) => (PAPER_PEAK[p]![c]! / PAPER_PEAK['fpaxos']![c]!).toFixed(1);
      console.log(`  ${c}%: Tempo/FPaxos ${ratio('tempo')} (${paper('tempo')}), Atlas/FPaxos ${ratio('atlas')} (${paper('atlas')})`);
    }
  }
  console.log('\np99.9 latency at 2% conflict (ms): Orrery (paper)');
  for (const p of ['tempo', 'atlas', 'epaxos']) {
    const cells = [256, 512].map((c) => {
      const point = points.find((x) => x.protocol === p && x.conflict === 2 && x.clientsPerSite === c);
      return `${c} clients/site ${point === undefined ? 'not run' : point.latencyMsP999} (${PAPER_P999_MS[p]![c]})`;
    });
    console.log(`  ${p.padEnd(7)} ${cells.join(', ')}`);
  }
}

try {
  main();
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`cpu:paper: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
