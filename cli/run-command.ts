/**
 * `orrery run`: the same protocol code as `orrery sim`, on real processes and sockets. One child
 * process per replica and per client group, on loopback unless a cluster file says otherwise;
 * optional WAN emulation from a planet. Prints the simulator's report (with wall-clock time) plus
 * ops/s and CPU time per process. Ctrl-C or the end of the run stops every child.
 */
import { writeFileSync } from 'node:fs';
import { historyFromSimulation } from '../check/history.js';
import { checkLinearizability, describeReport } from '../check/linearizability.js';
import { ExecutionOrderMonitor, writeLookupFrom } from '../check/order.js';
import { CONFIG_DEFAULTS, makeConfig, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { localRegions, loopbackCluster, readClusterFile, type Cluster } from '../runtime/cluster.js';
import { REMOVE_AFTER_MS_DEFAULT, replicaSpec, runCluster, type RuntimeResult } from '../runtime/launcher.js';
import { ReplicaHost } from '../runtime/replica-host.js';
import type { Planet } from '../sim/planet.js';
import { formatReport, historyLine, makeReport } from '../sim/report.js';
import { COMMANDS_PER_CLIENT_MAX, WORKLOAD_DEFAULTS, type WorkloadOptions } from '../sim/workload.js';
import { COMMAND_SHAPE_FLAGS, DEFAULT_REGIONS, intFlag, leaderFrom, numberFlag, planetFrom, regionsFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

/** `orrery run`'s options, described for yargs. */
export const RUN_FLAGS = {
  protocol: { type: 'string', describe: `the protocol: ${availableProtocols().join(', ')} [default: fpaxos]` },
  n: { type: 'string', describe: 'number of replica processes [default: 3, or as many as --regions / --cluster give]' },
  f: { type: 'string', describe: 'tolerated failures [default: 1]' },
  leader: { type: 'string', describe: 'FPaxos leader: a process id or one of the regions [default: 1]' },
  clients: { type: 'string', describe: 'clients in total, spread evenly over the client regions [default: 64]' },
  duration: { type: 'string', describe: "how long clients issue commands, e.g. '10s', '500ms', '2m' [default: 10s unless --commands]" },
  commands: { type: 'string', describe: 'commands per client (stops earlier than --duration when both are given)' },
  rate: { type: 'string', describe: 'open loop: commands per second per client (default: closed loop)' },
  cluster: { type: 'string', describe: 'a cluster file: JSON mapping process id to { host, port, region[, bind] }' },
  planet: { type: 'string', describe: 'WAN emulation: delay every link by the one-way latency of this planet (gcp or aws)' },
  'planet-file': { type: 'string', describe: 'WAN emulation from a TSV RTT matrix (as orrery sim)' },
  regions: { type: 'string', describe: 'comma-separated regions, one process each (with --planet; default: 5 regions of the planet)' },
  'client-regions': { type: 'string', describe: 'regions hosting clients (default: the process regions)' },
  executors: { type: 'string', describe: 'executor shards on worker threads for key-partitioned executors (Tempo) [default: inline]' },
  'client-processes': { type: 'string', describe: 'OS processes the clients are spread over [default: 1]' },
  'client-timeout-ms': { type: 'string', describe: 'a client re-submits a command unanswered this long to the next live process [default: 2000]' },
  ...COMMAND_SHAPE_FLAGS,
  seed: { type: 'string', describe: 'seed of the workload [default: 1]' },
  'gc-interval-ms': { type: 'string', describe: `garbage-collection gossip period [default: ${CONFIG_DEFAULTS.gcIntervalMs}]` },
  'tempo-detached-interval-ms': { type: 'string', describe: `Tempo: MDetached broadcast period [default: ${CONFIG_DEFAULTS.tempoDetachedIntervalMs}]` },
  'recovery-timeout-ms': { type: 'string', describe: `recovery timeout: FPaxos leader change, per-dot recovery of the leaderless protocols [default: ${CONFIG_DEFAULTS.recoveryTimeoutMs}]` },
  remote: { type: 'string', describe: "comma-separated ids of --cluster processes started elsewhere with '--serve <id>' (not started here)" },
  serve: { type: 'string', describe: 'run only process ID of --cluster here, until Ctrl-C (for a cluster across machines)' },
  'remove-after-ms': {
    type: 'string',
    describe: `a replica proposes removing a peer its failure detector has suspected this long; 0 or 'off': only 'orrery admin remove' removes [default: ${REMOVE_AFTER_MS_DEFAULT}]`,
  },
  kill: { type: 'string', describe: "kill -9 replicas during the run: P@TIME, comma-separated, TIME after the clients start ('3@10000', '1@10s'; bare numbers are ms)" },
  addresses: { type: 'boolean', describe: "print the replicas' addresses on stderr once they listen (for 'orrery admin --replica' on a loopback run)" },
  timeline: { type: 'boolean', describe: "print ops/s per second and every replica's RSS, held state and configuration once a second" },
  check: { type: 'boolean', describe: 'record the history and executions and check order agreement and linearizability' },
  json: { type: 'boolean', describe: 'print the report as JSON' },
  history: { type: 'string', describe: 'write the operation history to FILE as JSON lines' },
} as const;

/** --remove-after-ms: milliseconds, or null for 0 / 'off'. */
export function removeAfterFrom(argv: Argv): number | null {
  const text = stringFlag(argv, 'remove-after-ms', String(REMOVE_AFTER_MS_DEFAULT)).trim();
  if (text === 'off' || text === '0') return null;
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value <= 0 || value > 3_600_000) {
    throw new UsageError(`--remove-after-ms must be milliseconds from 1 to 3600000, or 0 / 'off' to remove only on request (got '${text}')`);
  }
  return value;
}

/** --kill 'P@TIME,…' as crashes of the launcher; TIME as '10000', '10000ms', '10s' or '1m'. */
function killsFrom(argv: Argv, n: number, remote: readonly number[]): Array<{ process: number; afterMs: number }> {
  const value = stringFlag(argv, 'kill', undefined);
  if (value === undefined) return [];
  const kills = value.split(',').map((item) => {
    const match = /^\s*(\d+)@(\d+(?:\.\d+)?)(ms|s|m)?\s*$/.exec(item);
    const process = match === null ? NaN : Number(match[1]);
    const afterMs = match === null ? NaN : Number(match[2]) * (match[3] === 's' ? 1000 : match[3] === 'm' ? 60_000 : 1);
    if (!(Number.isInteger(process) && process >= 1 && process <= n && afterMs >= 0 && afterMs <= 24 * 3_600_000)) {
      throw new UsageError(`--kill takes P@TIME items, comma-separated, P a process 1..${n} and TIME like '10000' (ms), '10s' or '1m' (got '${item}')`);
    }
    if (remote.includes(process)) throw new UsageError(`--kill ${item}: process ${process} runs elsewhere (--remote) and cannot be killed from here`);
    return { process, afterMs };
  });
  const seen = new Set<number>();
  for (const kill of kills) {
    if (seen.has(kill.process)) throw new UsageError(`--kill names process ${kill.process} twice`);
    seen.add(kill.process);
  }
  return kills;
}

/** '10s', '500ms', '2m', or a bare number of seconds, as milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  const value = match === null ? NaN : Number(match[1]) * (match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000);
  if (!(value > 0 && value <= 24 * 3_600_000)) {
    throw new UsageError(`--duration must be a positive time up to 24h like '10s', '500ms' or '2m' (got '${text}')`);
  }
  return value;
}

interface RunPlan {
  readonly cluster: Cluster;
  readonly planet: Planet | undefined;
  readonly notes: string[];
}

function planFromFlags(argv: Argv): RunPlan {
  const notes: string[] = [];
  const emulate = argv['planet'] !== undefined || argv['planet-file'] !== undefined;
  const planet = emulate ? planetFrom(argv) : undefined;
  const nGiven = argv['n'] === undefined ? undefined : intFlag(argv, 'n', 3, 3, 64);
  const clusterFile = stringFlag(argv, 'cluster', undefined);
  let cluster: Cluster;
  if (clusterFile !== undefined) {
    if (argv['regions'] !== undefined) throw new UsageError('--regions and --cluster both place processes; the cluster file gives each process its region');
    cluster = readClusterFile(clusterFile);
    if (planet !== undefined) for (const entry of cluster) planet.regionIndex(entry.region);
  } else if (planet !== undefined) {
    const fallback = DEFAULT_REGIONS[planet.name]?.slice(0, nGiven ?? 5);
    cluster = loopbackCluster(regionsFlag(argv, 'regions', planet, fallback));
  } else {
    if (argv['regions'] !== undefined) throw new UsageError('--regions needs --planet (or --planet-file): regions only mean something with WAN emulation');
    cluster = loopbackCluster(localRegions(nGiven ?? 3));
  }
  if (nGiven !== undefined && nGiven !== cluster.length) {
    throw new UsageError(`--n ${nGiven} disagrees with the ${cluster.length} processes of ${clusterFile === undefined ? '--regions' : `cluster file ${clusterFile}`}`);
  }
  if (planet === undefined) notes.push('no WAN emulation: links are plain loopback (add --planet gcp --regions ... to emulate one)');
  return { cluster, planet, notes };
}

/** Runs `orrery run` and prints the report. */
export async function runRunCommand(argv: Argv, print: (text: string) => void): Promise<void> {
  const protocol = protocolByName(stringFlag(argv, 'protocol', 'fpaxos'));
  const { cluster, planet, notes } = planFromFlags(argv);
  const n = cluster.length;
  const regions = cluster.map((e) => e.region);
  const clientRegions = argv['client-regions'] === undefined ? [...new Set(regions)] : planet === undefined ? regionsOf(argv, regions) : regionsFlag(argv, 'client-regions', planet, undefined);
  if (protocol.name !== 'fpaxos' && argv['leader'] !== undefined) notes.push(`${protocol.name} is leaderless and ignores --leader`);
  const config = makeConfig(protocol.name as ProtocolName, {
    n,
    f: intFlag(argv, 'f', CONFIG_DEFAULTS.f, 0, 32),
    leader: leaderFrom(argv, regions),
    gcIntervalMs: numberFlag(argv, 'gc-interval-ms', CONFIG_DEFAULTS.gcIntervalMs, 0.001, 3_600_000),
    tempoDetachedIntervalMs: numberFlag(argv, 'tempo-detached-interval-ms', CONFIG_DEFAULTS.tempoDetachedIntervalMs, 0.001, 3_600_000),
    recoveryTimeoutMs: numberFlag(argv, 'recovery-timeout-ms', CONFIG_DEFAULTS.recoveryTimeoutMs, 0.001, 3_600_000),
  });
  const workerShards = intFlag(argv, 'executors', 0, 1, 64);
  const removeAfterMs = removeAfterFrom(argv);
  if (argv['serve'] !== undefined) return serve(argv, { protocol, config, cluster, workerShards, removeAfterMs, ...(planet === undefined ? {} : { planet }) }, print);
  const remote = idsFlag(argv, 'remote', n);
  if (remote.length > 0 && argv['cluster'] === undefined) throw new UsageError('--remote needs --cluster: remote processes are found at the cluster file\'s addresses');
  if (workerShards > 0 && protocol.shardOf === undefined) notes.push(`${protocol.name}'s executor cannot be split by key: --executors is ignored and it runs inline`);
  const clients = intFlag(argv, 'clients', 64, 1, 100_000);
  const clientsPerRegion = Math.ceil(clients / clientRegions.length);
  if (clientsPerRegion * clientRegions.length !== clients) notes.push(`${clients} clients rounded up to ${clientsPerRegion} in each of ${clientRegions.length} regions`);
  const commands = argv['commands'] === undefined ? undefined : intFlag(argv, 'commands', 1, 1, 100_000_000);
  const durationText = commands === undefined ? stringFlag(argv, 'duration', '10s') : stringFlag(argv, 'duration', undefined);
  const durationMs = durationText === undefined ? null : parseDuration(durationText);
  if (durationMs !== null) notes.push(`clients issue commands for ${durationMs / 1000} s${commands === undefined ? '' : ` or ${commands} commands each, whichever comes first`}`);
  const zipfTheta = numberFlag(argv, 'zipf', undefined, 0.000001, 100);
  const workload: WorkloadOptions = {
    commandsPerClient: commands ?? COMMANDS_PER_CLIENT_MAX,
    conflictRate: numberFlag(argv, 'conflict', WORKLOAD_DEFAULTS.conflictRate, 0, 100),
    sharedKeys: intFlag(argv, 'shared-keys', WORKLOAD_DEFAULTS.sharedKeys, 1, 100_000_000),
    ...(zipfTheta === undefined ? {} : { zipfTheta }),
    zipfKeys: intFlag(argv, 'zipf-keys', WORKLOAD_DEFAULTS.zipfKeys, 1, 100_000_000),
    readRatio: numberFlag(argv, 'read-ratio', WORKLOAD_DEFAULTS.readRatio, 0, 100),
    keysPerCommand: intFlag(argv, 'keys-per-command', WORKLOAD_DEFAULTS.keysPerCommand, 1, 64),
    payloadBytes: intFlag(argv, 'payload-bytes', WORKLOAD_DEFAULTS.payloadBytes, 0, 64 * 1024 * 1024),
  };
  const rate = numberFlag(argv, 'rate', undefined, 0.001, 1_000_000);
  const seedText = stringFlag(argv, 'seed', '1');
  const seed = /^-?\d+$/.test(seedText) ? Number(seedText) : seedText;
  const historyFile = stringFlag(argv, 'history', undefined);
  const check = argv['check'] === true;
  const crashes = killsFrom(argv, n, remote);
  const timeline = argv['timeline'] === true;
  const run = await runCluster({
    protocol,
    config,
    cluster,
    ...(planet === undefined ? {} : { planet }),
    clientRegions,
    clientsPerRegion,
    workload,
    seed,
    durationMs,
    openLoopRate: rate ?? null,
    workerShards,
    clientProcesses: intFlag(argv, 'client-processes', 1, 1, 64),
    clientTimeoutMs: intFlag(argv, 'client-timeout-ms', 2000, 1, 3_600_000),
    recordHistory: check || historyFile !== undefined,
    recordExecutions: check,
    remote,
    removeAfterMs,
    crashes,
    ...(timeline ? { sampleEveryMs: 1000 } : {}),
    ...(argv['addresses'] === true
      ? { onAddresses: (addresses) => process.stderr.write(`replicas listen at ${addresses.map((a) => `${a.host}:${a.port}`).join(',')} (processes 1..${addresses.length}; orrery admin --replica takes this list)\n`) }
      : {}),
  });
  if (remote.length > 0) notes.push(`processes ${remote.join(', ')} ran elsewhere: their CPU, messages and executions are not included`);
  if (historyFile !== undefined) {
    const lines = run.result.history!.map(historyLine);
    try {
      writeFileSync(historyFile, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
    } catch (error) {
      throw new UsageError(`cannot write history file '${historyFile}' (${(error as NodeJS.ErrnoException).code ?? 'unwritable'})`);
    }
  }
  const checks = check ? checkRun(run) : undefined;
  const report = makeReport(run.result, notes, false, 'wall-clock');
  const runtime = {
    opsPerSec: Math.round(run.opsPerSec * 10) / 10,
    wallMs: Math.round(run.wallMs),
    workerShards,
    retries: run.retries,
    pending: run.pending.length,
    crashed: run.crashed,
    refusedFrames: [...run.replicas.values()].reduce((sum, s) => sum + s.refusedFrames, 0),
    cpu: run.cpu,
    replicas: [...run.replicas.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({ id: s.id, rssBytes: s.rssBytes, heldState: s.heldState, epoch: s.epoch, members: s.members, removed: s.removed, executed: s.executed })),
    ...(timeline ? { timeline: { completedPerSecond: run.completedPerSecond, samples: run.samples } } : {}),
    ...(checks === undefined ? {} : { checks }),
  };
  if (argv['json'] === true) print(JSON.stringify({ ...report, runtime }, null, 2));
  else print(`${formatReport(report)}\n${formatRuntime(run, workerShards, checks)}${timeline ? `\n${formatTimeline(run)}` : ''}`);
  if (checks !== undefined && checks.length > 0) process.exitCode = 1;
}

/** A comma-separated list of process ids in 1..n. */
function idsFlag(argv: Argv, flag: string, n: number): number[] {
  const value = stringFlag(argv, flag, undefined);
  if (value === undefined) return [];
  const ids = value.split(',').map((t) => Number(t.trim()));
  if (ids.length === 0 || ids.some((id) => !Number.isInteger(id) || id < 1 || id > n)) {
    throw new UsageError(`--${flag} must list process ids from 1 to ${n}, comma-separated (got '${value}')`);
  }
  return [...new Set(ids)].sort((a, b) => a - b);
}

/**
 * `orrery run --cluster FILE --serve ID`: one replica of a cluster spread over machines, in this
 * process. It listens at its cluster address, dials the others (waiting up to 10 minutes for them),
 * starts once every link is up, and on Ctrl-C or SIGTERM prints its figures as one JSON line and exits.
 */
async function serve(argv: Argv, run: Parameters<typeof replicaSpec>[0], print: (text: string) => void): Promise<void> {
  if (argv['cluster'] === undefined) throw new UsageError('--serve needs --cluster: the process listens at its cluster file address');
  const id = intFlag(argv, 'serve', 1, 1, run.cluster.length);
  const entry = run.cluster[id - 1]!;
  if (run.cluster.some((e) => e.port === 0)) throw new UsageError('--serve needs fixed ports for every process in the cluster file (port 0 is only for processes one launcher starts)');
  const host = new ReplicaHost(replicaSpec(run, entry), (line) => process.stderr.write(`[replica ${id}] ${line}\n`));
  try {
    await host.listen();
  } catch (error) {
    throw new UsageError(`cannot listen on ${entry.bind}:${entry.port} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  process.stderr.write(`[replica ${id}] listening on ${entry.bind}:${entry.port}; waiting for the other processes\n`);
  await host.connectPeers(run.cluster.map((e) => ({ id: e.id, host: e.host, port: e.port })), 600_000);
  host.start();
  process.stderr.write(`[replica ${id}] every link is up; serving until Ctrl-C\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const stats = host.stats();
  await host.stop();
  const { executions: _executions, ...figures } = stats;
  print(JSON.stringify(figures));
}

function regionsOf(argv: Argv, known: readonly string[]): string[] {
  const value = stringFlag(argv, 'client-regions', '');
  const regions = value.split(',').map((r) => r.trim()).filter((r) => r !== '');
  for (const region of regions) if (!known.includes(region)) throw new UsageError(`unknown client region '${region}'; known regions: ${known.join(', ')}`);
  if (regions.length === 0) throw new UsageError(`--client-regions needs at least one region; known regions: ${known.join(', ')}`);
  return regions;
}

/** Order agreement and linearizability of the run; the violations found (empty when safe). */
function checkRun(run: RuntimeResult): string[] {
  const history = run.result.history!;
  const monitor = new ExecutionOrderMonitor();
  for (const stats of run.replicas.values()) for (const [rifl, key] of stats.executions ?? []) monitor.onExecuted(stats.id, rifl, key);
  const order = monitor.violations(writeLookupFrom(history.map((e) => e.command)));
  const linearizability = describeReport(checkLinearizability(historyFromSimulation(history)));
  return [...order, ...linearizability];
}

const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

/** One line per second: ops completed in it, then each replica's RSS, held state and configuration at its end. */
function formatTimeline(run: RuntimeResult): string {
  const ids = run.result.processRegions.map((_, i) => i + 1);
  const lines = [`timeline (second since go: ops completed; per replica: RSS MB / held state / epoch, '-' when it did not answer, 'x' once removed):`];
  const seconds = Math.max(run.completedPerSecond.length, run.samples.length);
  for (let second = 0; second < seconds; second++) {
    const sample = run.samples.find((s) => Math.round(s.atMs / 1000) === second + 1);
    const cells = ids.map((id) => {
      const r = sample?.replicas.find((x) => x.id === id);
      if (r === undefined) return `${id}: -`;
      return `${id}: ${megabytes(r.rssBytes)}/${r.heldState ?? '?'}/e${r.epoch}${r.removed ? 'x' : ''}`;
    });
    lines.push(`  ${String(second + 1).padStart(4)} s  ${String(run.completedPerSecond[second] ?? 0).padStart(7)} ops   ${cells.join('  ')}`);
  }
  return lines.join('\n');
}

function formatRuntime(run: RuntimeResult, workerShards: number, checks: string[] | undefined): string {
  const lines: string[] = [];
  const executors = workerShards > 0 ? `, executors on ${workerShards} worker thread${workerShards === 1 ? '' : 's'} per replica` : '';
  lines.push(`runtime: ${run.opsPerSec.toFixed(1)} ops/s over ${(run.wallMs / 1000).toFixed(3)} s wall-clock${executors}`);
  if (run.retries > 0 || run.pending.length > 0) lines.push(`clients: ${run.retries} re-submissions, ${run.pending.length} commands unanswered`);
  const width = Math.max(...run.cpu.map((c) => c.name.length));
  lines.push(`cpu time per process (ms):`);
  for (const c of run.cpu) {
    lines.push(`  ${c.name.padEnd(width)}  pid ${String(c.pid).padStart(7)}  user ${c.cpuUserMs.toFixed(0).padStart(7)}  system ${c.cpuSystemMs.toFixed(0).padStart(7)}`);
  }
  lines.push('replicas at the end:');
  for (const s of [...run.replicas.values()].sort((a, b) => a.id - b.id)) {
    const held = s.heldState === undefined ? '' : `  held state ${s.heldState}`;
    const where = s.removed ? `removed (knows configuration ${s.epoch}: ${s.members.join(', ')})` : `configuration ${s.epoch}: members ${s.members.join(', ')}`;
    lines.push(`  replica ${s.id}  rss ${megabytes(s.rssBytes)} MB${held}  ${where}`);
  }
  if (run.crashed.length > 0) lines.push(`killed: ${run.crashed.map((p) => `replica ${p}`).join(', ')}`);
  if (checks !== undefined) lines.push(checks.length === 0 ? 'checks: execution orders agree, history linearizable' : `checks FAILED:\n  ${checks.join('\n  ')}`);
  return lines.join('\n');
}
