/**
 * `npm run cpu:validate -- --runtime FILE`: the CPU model against the runtime (issue 8, item 3).
 *
 * For n = 3 on loopback without injected delay, prints for each protocol the saturated throughput
 * the simulator predicts with a calibrated profile next to the one the runtime measured, and the
 * relative error (the target is within 25%).
 *
 * FILE is the runtime's own output, either of:
 * - `npm run bench:runtime -- --json` (its `saturated` points with n = 3 are used; `workerShards`
 *   and `cpus` are read from it), or
 * - `orrery run --json` (one report: protocol, throughput, clients).
 *
 * The simulated twin: 3 processes and clients on a loopback "planet" (RTT `--rtt-ms`, default 0.05),
 * the runtime's client count, one core per replica (the runtime runs each replica on one thread, with
 * executors inline) — or, for Tempo with worker shards, 1 + k cores with k executor cores. With a
 * profile that has transport costs (turns, wake-ups, frames, messages: sim/cpu.ts), the twin charges
 * them too. The runtime shares the machine's CPUs between the replicas and the client process; when
 * the file gives the machine's CPU count, the prediction is also capped by that many CPUs over the
 * CPU time one command costs all processes together (the twin's replica CPU per command plus the
 * client side's from the profile), and the error is computed on that "shared" figure. Throughput is
 * measured over the middle half of the completions, as in cpu:paper.
 *
 * The default profile is results/cpu-profile-live.json: the calibrated parts plus what the runtime's
 * processes spend beyond them, fitted on live runtime runs at fewer clients than the ones compared
 * here (cli/calibrate-live.ts). With results/cpu-profile.json (the parts alone) the model predicts
 * about 3× the runtime.
 *
 * Flags: --runtime FILE (required), --profile FILE (default results/cpu-profile-live.json), --rtt-ms X,
 * --json (print the comparison as JSON).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { protocolByName } from '../protocols/index.js';
import { parseCpuProfile, type CpuProfile, type CpuUsage } from '../sim/cpu.js';
import { parsePlanetTsv, type Planet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const N = 3;
const REGIONS = ['loop-1', 'loop-2', 'loop-3'];

/** One measured saturated point of the runtime. */
export interface Measured {
  readonly protocol: ProtocolName;
  readonly clients: number;
  readonly opsPerSec: number;
}

/** The runtime's points at n = 3, its worker shards and the machine's CPUs, from either output format. */
export function readRuntime(text: string, source: string): { points: Measured[]; workerShards: number; cpus: number | undefined } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UsageError(`${source} is not JSON; give the output of 'npm run bench:runtime -- --json' or 'orrery run --json'`);
  }
  const r = raw as Record<string, unknown>;
  if (Array.isArray(r['saturated'])) {
    const points = (r['saturated'] as Array<Record<string, unknown>>)
      .filter((p) => p['n'] === N)
      .map((p) => ({ protocol: protocolByName(String(p['protocol'])).name, clients: Number(p['clients']), opsPerSec: Number(p['opsPerSec']) }));
    if (points.length === 0) throw new UsageError(`${source} has no saturated point with n = ${N}`);
    return { points, workerShards: Number(r['workerShards'] ?? 0), cpus: typeof r['cpus'] === 'number' ? r['cpus'] : undefined };
  }
  if (typeof r['throughputOpsPerSec'] === 'number' && typeof r['protocol'] === 'string') {
    const config = r['config'] as { n?: number; executorShards?: number } | undefined;
    if (config?.n !== N) throw new UsageError(`${source} is a run with n = ${String(config?.n)}; the validation is for n = ${N}`);
    const workload = r['workload'] as { clientsPerRegion?: number } | undefined;
    const regions = (r['latencyMs'] as { byRegion?: unknown[] } | undefined)?.byRegion?.length ?? N;
    const runtime = r['runtime'] as { workerShards?: number; cpus?: number } | undefined;
    return {
      points: [{ protocol: protocolByName(r['protocol']).name, clients: (workload?.clientsPerRegion ?? 1) * regions, opsPerSec: r['throughputOpsPerSec'] }],
      workerShards: runtime?.workerShards ?? 0,
      cpus: runtime?.cpus,
    };
  }
  throw new UsageError(`${source} is neither 'bench:runtime --json' output (a 'saturated' list) nor an 'orrery run --json' report`);
}

function loopbackPlanet(rttMs: number): Planet {
  const header = `from\\to\t${REGIONS.join('\t')}`;
  const rows = REGIONS.map((from) => `${from}\t${REGIONS.map((to) => (to === from ? rttMs : rttMs)).join('\t')}`);
  return parsePlanetTsv(`# loopback\n${header}\n${rows.join('\n')}\n`, 'loopback');
}

/** What the simulator predicts for the runtime's setup. */
export interface Prediction {
  /** Saturated throughput with a core of its own per replica (the simulated twin). */
  readonly opsPerSec: number;
  readonly protocolCore: number[];
  /** CPU time per command of the replicas together and of the client side (transport profile only, else null). */
  readonly replicaNsPerOp: number;
  readonly clientNsPerOp: number | null;
  /** Messages per peer frame and replies per reply frame the simulated turns produced (transport profile only). */
  readonly messagesPerFrame: number | null;
  readonly repliesPerFrame: number | null;
}

/** The simulator's saturated throughput for the runtime's setup. */
export function predict(profile: CpuProfile, point: Measured, workerShards: number, rttMs: number): Prediction {
  const definition = protocolByName(point.protocol);
  const shards = definition.shardOf !== undefined && workerShards > 0 ? workerShards : 1;
  const separate = definition.shardOf !== undefined && workerShards > 0;
  const clientsPerRegion = Math.max(1, Math.ceil(point.clients / N));
  const result = new Simulation({
    protocol: definition,
    config: makeConfig(point.protocol, { n: N, executorShards: shards, recoveryTimeoutMs: 60_000 }),
    planet: loopbackPlanet(rttMs),
    processRegions: REGIONS,
    clientRegions: REGIONS,
    clientsPerRegion,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: Math.max(50, Math.floor(60_000 / (clientsPerRegion * N))) },
    seed: 1,
    recordHistory: true,
    cpu: { profile, cores: separate ? 1 + shards : 1, executorCores: separate ? shards : 0 },
  }).run();
  const completions = result.history!.map((h) => h.completeMs).sort((a, b) => a - b);
  const from = completions[Math.floor(completions.length * 0.25)]!;
  const to = completions[Math.floor(completions.length * 0.75)]!;
  const inWindow = completions.filter((t) => t >= from && t <= to).length;
  const usage = result.cpu!.usage;
  const ops = result.commandsCompleted;
  const replicaNsPerOp = usage.reduce((sum, u) => sum + u.busyNs, 0) / ops;
  const transport = profile.protocols[point.protocol]?.transport;
  const sum = (f: (u: CpuUsage) => number) => usage.reduce((total, u) => total + f(u), 0);
  const replyFrames = sum((u) => u.replyFramesSent);
  // The client process's residual (live calibration only) goes with the client side's parts.
  const residual = profile.protocols[point.protocol]?.replica;
  const clientNsPerOp =
    transport === undefined
      ? null
      : transport.clientCommandNs +
        transport.submitSendMessageNs +
        transport.replyRecvMessageNs +
        (residual?.clientCommandNs ?? 0) +
        (replyFrames / ops) * (transport.turnNs + transport.replyRecvFrameNs + transport.submitSendFrameNs + (residual?.clientFrameNs ?? 0));
  return {
    opsPerSec: Math.round(inWindow / ((to - from) / 1000)),
    protocolCore: usage.map((u) => u.protocolCore),
    replicaNsPerOp: Math.round(replicaNsPerOp),
    clientNsPerOp: clientNsPerOp === null ? null : Math.round(clientNsPerOp),
    messagesPerFrame: transport === undefined ? null : Math.round((result.messagesTotal / Math.max(1, sum((u) => u.framesSent))) * 100) / 100,
    repliesPerFrame: transport === undefined ? null : Math.round((ops / Math.max(1, replyFrames)) * 100) / 100,
  };
}

/**
 * The prediction for a machine of `cpus` CPUs shared by the replicas and the client process: the
 * simulated twin's throughput, or less when the CPU time a command costs all processes together
 * (replicas and, with a transport profile, the client side) does not fit in `cpus` CPUs.
 */
export function sharedPrediction(prediction: Prediction, cpus: number | undefined): number {
  if (cpus === undefined) return prediction.opsPerSec;
  const perOp = prediction.replicaNsPerOp + (prediction.clientNsPerOp ?? 0);
  return Math.round(Math.min(prediction.opsPerSec, (cpus * 1e9) / perOp));
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at < 0 ? undefined : args[at + 1];
  };
  const runtimeFile = option('runtime');
  if (runtimeFile === undefined) throw new UsageError("give --runtime FILE: the output of 'npm run bench:runtime -- --json' or 'orrery run --json'");
  const profileFile = option('profile') ?? 'results/cpu-profile-live.json';
  const rttMs = Number(option('rtt-ms') ?? 0.05);
  if (!(rttMs >= 0)) throw new UsageError(`--rtt-ms must be a non-negative number of milliseconds (got ${option('rtt-ms')})`);
  const profile = parseCpuProfile(readFileSync(profileFile, 'utf8'), profileFile);
  const runtime = readRuntime(readFileSync(runtimeFile, 'utf8'), runtimeFile);
  const rows = runtime.points.map((point) => {
    const predicted = predict(profile, point, runtime.workerShards, rttMs);
    const shared = sharedPrediction(predicted, runtime.cpus);
    return {
      ...point,
      predictedOpsPerSec: predicted.opsPerSec,
      predictedSharedOpsPerSec: shared,
      errorPct: Math.round(((shared - point.opsPerSec) / point.opsPerSec) * 1000) / 10,
      protocolCore: predicted.protocolCore,
      replicaUsPerOp: predicted.replicaNsPerOp / 1000,
      clientUsPerOp: predicted.clientNsPerOp === null ? null : predicted.clientNsPerOp / 1000,
      messagesPerFrame: predicted.messagesPerFrame,
      repliesPerFrame: predicted.repliesPerFrame,
    };
  });
  if (args.includes('--json')) {
    console.log(JSON.stringify({ profile: profileFile, runtime: runtimeFile, cpus: runtime.cpus ?? null, rows }, null, 2));
    return;
  }
  const transport = Object.values(profile.protocols).some((c) => c.transport !== undefined);
  console.log(`cpu:validate — n = ${N} on loopback; profile ${profileFile} (${String(profile.machine['cpu'])}, ${profile.date}${transport ? ', with transport costs' : ', codec only'}); runtime ${runtimeFile}`);
  const cpus = runtime.cpus;
  if (cpus !== undefined) console.log(`the runtime had ${cpus} CPUs for ${N} replicas and the client process: "shared" caps the prediction at ${cpus} CPUs / (CPU per command of all processes)`);
  console.log(
    `${'protocol'.padEnd(9)}${'clients'.padStart(8)}${'own cores'.padStart(11)}${cpus !== undefined ? 'shared'.padStart(9) : ''}${'measured'.padStart(10)}${'error'.padStart(8)}  within 25%` +
      `${'replica µs/op'.padStart(15)}${'client µs/op'.padStart(14)}${'msgs/frame'.padStart(12)}`,
  );
  for (const row of rows) {
    console.log(
      `${row.protocol.padEnd(9)}${String(row.clients).padStart(8)}${String(row.predictedOpsPerSec).padStart(11)}${cpus !== undefined ? String(row.predictedSharedOpsPerSec).padStart(9) : ''}` +
        `${String(row.opsPerSec).padStart(10)}${`${row.errorPct}%`.padStart(8)}  ${(Math.abs(row.errorPct) <= 25 ? 'yes' : 'no').padEnd(10)}` +
        `${row.replicaUsPerOp.toFixed(2).padStart(15)}${(row.clientUsPerOp === null ? '—' : row.clientUsPerOp.toFixed(2)).padStart(14)}${String(row.messagesPerFrame ?? '—').padStart(12)}`,
    );
  }
}

// Run only as a script: the tests import readRuntime and predict.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`cpu:validate: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}
