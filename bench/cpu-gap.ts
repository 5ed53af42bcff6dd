/**
 * `npm run cpu:gap -- --protocol P [--clients C] [--duration S] [--profile FILE]`: where the CPU
 * model's prediction and the runtime part ways (issue 8, item 3).
 *
 * Runs the runtime on loopback (n = 3, no injected delay, executors inline) for one point and
 * compares the CPU time its processes really used per command after `go` (process.cpuUsage) with the
 * calibrated profile's costs applied to the counts the runtime itself observed in that run: protocol
 * messages by type, peer frames, reply frames, client submits, executed results, and how often each
 * process slept waiting for input (voluntary context switches, each one a wake-up). Then the same
 * counts per command in the simulated twin of cpu:validate. If the costs × the runtime's counts
 * match the runtime's CPU, the costs are right and any gap is in how the simulator schedules
 * (batching, wake-ups); if not, the difference is work the calibration does not see.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { protocolByName } from '../protocols/index.js';
import { localRegions, loopbackCluster } from '../runtime/cluster.js';
import { runCluster } from '../runtime/launcher.js';
import { parseCpuProfile, type ProtocolCosts, type TransportCosts } from '../sim/cpu.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';
import { predict } from './cpu-validate.js';
import { liveCounts, modelled as modelledCosts } from '../cli/calibrate-live.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? undefined : args[at + 1];
};

async function main(): Promise<void> {
  const protocol = protocolByName(option('protocol') ?? 'fpaxos').name as ProtocolName;
  const clients = Number(option('clients') ?? 513);
  const durationMs = Number(option('duration') ?? 4) * 1000;
  if (!(Number.isInteger(clients) && clients >= 3)) throw new UsageError(`--clients must be an integer of at least 3 (got ${option('clients')})`);
  if (!(durationMs > 0)) throw new UsageError(`--duration must be a positive number of seconds (got ${option('duration')})`);
  const profileFile = option('profile') ?? 'results/cpu-profile.json';
  const profile = parseCpuProfile(readFileSync(profileFile, 'utf8'), profileFile);
  const costs = profile.protocols[protocol];
  if (costs?.transport === undefined) throw new UsageError(`${profileFile} has no transport costs for ${protocol}; run 'orrery calibrate --protocol ${protocol}'`);
  return gap(protocol, clients, durationMs, costs, costs.transport, profileFile);
}

async function gap(protocol: ProtocolName, clients: number, durationMs: number, costs: ProtocolCosts, t: TransportCosts, profileFile: string): Promise<void> {
  const n = 3;
  const regions = localRegions(n);
  const loadBefore = loadavg()[0]!;
  const run = await runCluster({
    protocol: protocolByName(protocol),
    config: makeConfig(protocol, { n }),
    cluster: loopbackCluster(regions),
    clientRegions: regions,
    clientsPerRegion: Math.ceil(clients / n),
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 100_000_000 },
    seed: 1,
    durationMs,
    workerShards: 0,
    graceMs: 2000,
    statsAtGo: true,
    onLog: () => undefined,
  });
  const counts = liveCounts(run, Math.ceil(clients / n) * n);
  const { ops, messages, peerFrames, replyFrames, sleeps, clientSleeps, replicaCpuNs, clientCpuNs } = counts;
  const { replicaTerms: terms, replicaNs: modelled, clientNs: clientModelled } = modelledCosts(costs, t, counts);
  const us = (ns: number) => (ns / ops / 1000).toFixed(2);
  console.log(`cpu:gap — ${protocol}, n = ${n} on loopback, ${Math.ceil(clients / n) * n} clients, ${durationMs / 1000} s; profile ${profileFile}; load average ${loadBefore.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after`);
  console.log(`runtime: ${Math.round(run.opsPerSec)} ops/s; per command ${(messages / ops).toFixed(2)} peer messages in ${(peerFrames / ops).toFixed(3)} frames, ${(replyFrames / ops).toFixed(3)} reply frames, ${(sleeps / ops).toFixed(3)} replica wake-ups, ${(clientSleeps / ops).toFixed(3)} client wake-ups`);
  console.log(`replica CPU per command (3 replicas): measured ${us(replicaCpuNs)} µs; calibrated costs × the runtime's counts ${us(modelled)} µs (${((modelled / replicaCpuNs) * 100).toFixed(0)}%):`);
  for (const [name, ns] of terms) console.log(`  ${name.padEnd(30)}${us(ns).padStart(9)} µs`);
  console.log(`client CPU per command: measured ${us(clientCpuNs)} µs; calibrated costs × counts ${us(clientModelled)} µs`);
  const twin = predict(profileFromCosts(protocol, costs), { protocol, clients: Math.ceil(clients / n) * n, opsPerSec: 0 }, 0, 0.05);
  console.log(
    `simulated twin (a core per replica): ${twin.opsPerSec} ops/s, ${(twin.replicaNsPerOp / 1000).toFixed(2)} µs replica CPU per command, ` +
      `${twin.messagesPerFrame} messages per peer frame, ${twin.repliesPerFrame} replies per reply frame`,
  );
}

function profileFromCosts(protocol: ProtocolName, costs: ProtocolCosts) {
  const profileFile = option('profile') ?? 'results/cpu-profile.json';
  const profile = parseCpuProfile(readFileSync(profileFile, 'utf8'), profileFile);
  return { ...profile, protocols: { [protocol]: costs } };
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`cpu:gap: ${error.message}`);
    process.exit(2);
  }
  throw error;
});
