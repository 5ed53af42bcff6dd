/**
 * The launcher: starts one child process per replica and per client group, wires them together,
 * runs the workload, gathers what every process measured, and stops every child.
 *
 * Sequence: fork the replicas (each listens, on an ephemeral port when the cluster says 0, and
 * reports the port) → send everyone the addresses → wait until every replica dialled every other →
 * start their timers → fork the client groups (each connects) → `go` → wait for every group's report
 * → wait until the live replicas have executed what was answered → gather replica stats → stop.
 *
 * No orphans: children have an IPC channel and exit when it closes (and on SIGTERM); the launcher
 * kills every child it started when the run ends, fails, or the launcher gets SIGINT/SIGTERM or
 * exits, and waits for each child's exit before resolving.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Config } from '../core/config.js';
import { Histogram } from '../core/histogram.js';
import type { ProcessId } from '../core/ids.js';
import { UsageError } from '../core/invariant.js';
import type { ProtocolDefinition } from '../core/process.js';
import type { Planet } from '../sim/planet.js';
import type { HistoryEntry, SimulationResult } from '../sim/simulation.js';
import { validateWorkload, type WorkloadOptions } from '../sim/workload.js';
import { FRAME_BYTES_MAX_DEFAULT } from './codec.js';
import type { ClientGroupSpec, ClientReport } from './client-host.js';
import type { Cluster, ClusterEntry } from './cluster.js';
import { FAILURE_DETECTOR_DEFAULTS, type FailureDetectorOptions } from './failure-detector.js';
import type { FromClient, FromReplica, ToClient, ToReplica } from './ipc.js';
import { runtimeEntry } from './paths.js';
import type { ReplicaSample, ReplicaSpec, ReplicaStats } from './replica-host.js';

/**
 * How long a replica's failure detector must suspect a peer, without a break, before the replica
 * proposes removing it from the configuration. Five detector timeouts: a replica that is only slow
 * or briefly cut off is suspected, then heard again (its timeout doubles), long before this.
 */
export const REMOVE_AFTER_MS_DEFAULT = 5000;

/** Every replica's cheap figures at one moment of a run (`sampleEveryMs`). */
export interface RunSample {
  /** Milliseconds since the clients were told to go. */
  readonly atMs: number;
  /** The replicas that answered (a killed one does not). */
  readonly replicas: readonly ReplicaSample[];
}

export interface RuntimeOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  readonly config: Config;
  readonly cluster: Cluster;
  /** WAN emulation: delay every link by the planet's one-way latency between the regions. */
  readonly planet?: Planet;
  readonly clientRegions: readonly string[];
  readonly clientsPerRegion: number;
  readonly workload: WorkloadOptions;
  readonly seed: string | number;
  /** Issue for this long (null: until every client issued commandsPerClient). */
  readonly durationMs: number | null;
  /** Open loop, commands per second per client (null: closed loop). */
  readonly openLoopRate?: number | null;
  /** Executor shards on worker threads (0: inline). */
  readonly workerShards?: number;
  /** Client processes the clients are spread over. */
  readonly clientProcesses?: number;
  readonly recordHistory?: boolean;
  readonly recordExecutions?: boolean;
  readonly failureDetector?: FailureDetectorOptions;
  readonly clientTimeoutMs?: number;
  readonly graceMs?: number;
  readonly frameBytesMax?: number;
  /**
   * Replicas propose removing a peer suspected this long (default {@link REMOVE_AFTER_MS_DEFAULT};
   * null: never on their own, only on an admin's request).
   */
  readonly removeAfterMs?: number | null;
  /** Sample every replica's RSS, held state and configuration this often after `go` (RuntimeResult.samples). */
  readonly sampleEveryMs?: number;
  /** The clients stop issuing when this resolves, if before `durationMs` (tests stop a run on an event). */
  readonly stopClients?: Promise<void>;
  /** `kill -9` these replicas this long after the clients start. */
  readonly crashes?: ReadonlyArray<{ readonly process: ProcessId; readonly afterMs: number }>;
  /** Every log line of every child (default: copied to this process's stderr). */
  readonly onLog?: (line: string) => void;
  /** Called with each child's pid as it starts (tests check none outlives the run). */
  readonly onChild?: (pid: number, name: string) => void;
  readonly startupTimeoutMs?: number;
  /**
   * Replicas of the cluster file that run elsewhere (`orrery run --serve <id>` on their machine):
   * not started here, dialled at their fixed address; their figures are not in the result.
   */
  readonly remote?: readonly ProcessId[];
  /** Told every replica's address once they listen (ephemeral ports are only known then). */
  readonly onAddresses?: (addresses: ReadonlyArray<{ id: ProcessId; host: string; port: number }>) => void;
  /** Awaited once every replica is up, before the clients start (tests poke the cluster here). */
  readonly beforeClients?: (addresses: ReadonlyArray<{ id: ProcessId; host: string; port: number }>) => Promise<void>;
  /** Ask the replicas for their stats just before `go` too (RuntimeResult.replicasAtGo; calibration uses it). */
  readonly statsAtGo?: boolean;
}

export interface ProcessCpu {
  readonly name: string;
  readonly pid: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
}

/** What a run measured: a simulator-shaped result (for the shared report) plus runtime figures. */
export interface RuntimeResult {
  readonly result: SimulationResult;
  /** Wall-clock time from the first submission to the last reply. */
  readonly wallMs: number;
  readonly opsPerSec: number;
  readonly cpu: readonly ProcessCpu[];
  /** Stats of the replicas alive at the end, by id. */
  readonly replicas: ReadonlyMap<ProcessId, ReplicaStats>;
  /**
   * Stats of the replicas just before the clients were told to go, by id (only with
   * `statsAtGo`): subtracted from `replicas`, what the run itself cost them, start-up left out.
   */
  readonly replicasAtGo: ReadonlyMap<ProcessId, ReplicaStats> | undefined;
  readonly clients: readonly ClientReport[];
  readonly crashed: readonly ProcessId[];
  /** When each crash was injected, on the clients' history clock (epoch ms: `performance.timeOrigin + now()`). */
  readonly crashedAtMs: ReadonlyMap<ProcessId, number>;
  readonly retries: number;
  /** Commands completed in each second since `go`, over every client. */
  readonly completedPerSecond: readonly number[];
  /** With `sampleEveryMs`: the replicas' figures over the run. */
  readonly samples: readonly RunSample[];
  /** Commands never answered. */
  readonly pending: ClientReport['pending'];
  readonly childPids: readonly number[];
}

/** A child process the launcher started and will stop. */
export interface Child {
  readonly name: string;
  readonly child: ChildProcess;
  exited: Promise<void>;
  alive: boolean;
}

const live = new Set<Child>();
let signalsInstalled = false;

/** Kills every child still running (synchronously: usable from an 'exit' handler). */
function killAll(): void {
  for (const c of live) {
    try {
      c.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills every live child when this process exits or gets SIGINT/SIGTERM (installed once). */
export function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Forks `dist/runtime/<entry>.js` with `arg` as JSON, its stderr forwarded line by line to `onLog`. */
export function spawnChild(entry: string, arg: unknown, name: string, options: Pick<RuntimeOptions, 'onLog' | 'onChild'>): Child {
  const child = fork(runtimeEntry(entry), [JSON.stringify(arg)], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
  const onLog = options.onLog ?? ((line: string) => process.stderr.write(`${line}\n`));
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLog(line);
  });
  const record: Child = { name, child, alive: true, exited: Promise.resolve() };
  record.exited = new Promise((resolve) => {
    // 'close' comes after 'exit' once the child's stderr is drained, so no log line is lost.
    child.once('close', () => {
      record.alive = false;
      live.delete(record);
      if (partial !== '') onLog(partial);
      resolve();
    });
  });
  live.add(record);
  if (child.pid !== undefined) options.onChild?.(child.pid, name);
  return record;
}

/** Resolves with the first IPC message of kind `t` from `child`, or rejects on exit or timeout. */
export function awaitMessage<T extends { t: string }>(c: Child, t: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { t: string; message?: string }) => {
      if (message.t === t) {
        cleanup();
        resolve(message as T);
      } else if (message.t === 'error') {
        cleanup();
        reject(new Error(`${c.name}: ${message.message ?? 'failed'}`));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`${c.name} exited (${signal ?? `code ${code}`}) before '${t}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${c.name} did not answer '${t}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      c.child.off('message', onMessage);
      c.child.off('exit', onExit);
    };
    c.child.on('message', onMessage);
    c.child.once('exit', onExit);
  });
}

/** Sends `message` (if any), then SIGTERM, then SIGKILL after 3 s; resolves once the child is gone. */
export async function stopChild(c: Child, message: { readonly t: string } | undefined): Promise<void> {
  if (!c.alive) return;
  try {
    if (message !== undefined && c.child.connected) c.child.send(message);
  } catch {
    // the channel closed under us; the kill below ends it
  }
  const timer = setTimeout(() => c.child.kill('SIGKILL'), 3000);
  c.child.kill('SIGTERM');
  await c.exited;
  clearTimeout(timer);
}

const NS_PER_MS = 1_000_000;

/** What replica `entry` of a run needs to start (also used by `orrery run --serve`). */
export function replicaSpec(
  options: Pick<RuntimeOptions, 'protocol' | 'config' | 'cluster' | 'planet' | 'workerShards' | 'failureDetector' | 'recordExecutions' | 'frameBytesMax' | 'removeAfterMs'>,
  entry: ClusterEntry,
): ReplicaSpec {
  const { cluster, planet } = options;
  const regionIndex = (region: string) => planet?.regionIndex(region) ?? -1;
  const oneWayMs = (a: string, b: string) => (planet === undefined ? 0 : planet.oneWayNs(regionIndex(a), regionIndex(b)) / NS_PER_MS);
  const distance = (a: string, b: string) => (planet === undefined ? (a === b ? 0 : 1) : oneWayMs(a, b));
  return {
    id: entry.id,
    protocol: options.protocol.name,
    config: options.config,
    cluster,
    delayMsTo: cluster.map((to) => oneWayMs(entry.region, to.region)),
    distanceTo: cluster.map((to) => distance(entry.region, to.region)),
    workerShards: options.workerShards ?? 0,
    failureDetector: options.failureDetector ?? FAILURE_DETECTOR_DEFAULTS,
    recordExecutions: options.recordExecutions ?? false,
    frameBytesMax: options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
    ...(options.removeAfterMs === null ? {} : { removeAfterMs: options.removeAfterMs ?? REMOVE_AFTER_MS_DEFAULT }),
  };
}

/** Runs one workload on a fresh cluster of child processes and returns what it measured. */
export async function runCluster(options: RuntimeOptions): Promise<RuntimeResult> {
  validateWorkload(options.workload);
  const { cluster, config, planet } = options;
  const n = config.n;
  if (cluster.length !== n) throw new UsageError(`the cluster has ${cluster.length} processes but n=${n}; give one cluster entry per process`);
  const regions = cluster.map((e) => e.region);
  const regionIndex = (region: string) => planet?.regionIndex(region) ?? -1;
  if (planet !== undefined) for (const region of [...regions, ...options.clientRegions]) regionIndex(region);
  const oneWayMs = (a: string, b: string) => (planet === undefined ? 0 : planet.oneWayNs(regionIndex(a), regionIndex(b)) / NS_PER_MS);
  const distance = (a: string, b: string) => (planet === undefined ? (a === b ? 0 : 1) : oneWayMs(a, b));

  installSignalHandlers();
  const started: Child[] = [];
  const childPids: number[] = [];
  const timeoutMs = options.startupTimeoutMs ?? 20_000;
  const frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
  const crashed: ProcessId[] = [];
  const crashedAtMs = new Map<ProcessId, number>();
  const crashTimers: NodeJS.Timeout[] = [];
  const samples: RunSample[] = [];
  const track = (c: Child) => {
    started.push(c);
    if (c.child.pid !== undefined) childPids.push(c.child.pid);
    return c;
  };
  try {
    const remote = new Set(options.remote ?? []);
    for (const id of remote) {
      const entry = cluster[id - 1];
      if (entry === undefined) throw new UsageError(`--remote ${id} is not a process of the cluster (1..${n})`);
      if (entry.port === 0) throw new UsageError(`process ${id} runs elsewhere (--remote), so the cluster file must give it a fixed port`);
    }
    const replicas = cluster
      .filter((entry) => !remote.has(entry.id))
      .map((entry) => track(spawnChild('replica-main', replicaSpec(options, entry), `replica ${entry.id}`, options)));
    const byId = new Map(replicas.map((r) => [Number(r.name.slice('replica '.length)), r]));
    let ports: Array<Extract<FromReplica, { t: 'listening' }>>;
    try {
      ports = await Promise.all(replicas.map((r) => awaitMessage<Extract<FromReplica, { t: 'listening' }>>(r, 'listening', timeoutMs)));
    } catch (error) {
      // A port taken or an address not on this machine: the cluster description's fault, told in one line.
      throw new UsageError(`cannot start the cluster: ${(error as Error).message}`);
    }
    const portOf = new Map(replicas.map((r, i) => [Number(r.name.slice('replica '.length)), ports[i]!.port]));
    const addresses = cluster.map((entry) => ({ id: entry.id, host: entry.host, port: portOf.get(entry.id) ?? entry.port }));
    options.onAddresses?.(addresses);
    // Replicas on other machines may take a while to come up: wait for them longer.
    const connectMs = remote.size > 0 ? Math.max(timeoutMs, 120_000) : timeoutMs;
    const connected = replicas.map((r) => awaitMessage(r, 'connected', connectMs + 1000));
    for (const r of replicas) r.child.send({ t: 'peers', addresses, timeoutMs: connectMs } satisfies ToReplica);
    await Promise.all(connected);
    for (const r of replicas) r.child.send({ t: 'start' } satisfies ToReplica);
    await options.beforeClients?.(addresses);

    // Clients, numbered region by region as in the simulator.
    const clientSpecs: Array<ClientGroupSpec['clients'][number]> = [];
    for (const region of options.clientRegions) {
      const targets = [...cluster].sort((a, b) => distance(region, a.region) - distance(region, b.region) || a.id - b.id).map((e) => e.id);
      for (let i = 0; i < options.clientsPerRegion; i++) clientSpecs.push({ id: clientSpecs.length + 1, region, targets });
    }
    const groupCount = Math.max(1, Math.min(options.clientProcesses ?? 1, clientSpecs.length));
    const delayMsTo: Record<string, number[]> = {};
    for (const region of options.clientRegions) delayMsTo[region] = cluster.map((e) => oneWayMs(region, e.region));
    const groups: Child[] = [];
    for (let g = 0; g < groupCount; g++) {
      const spec: ClientGroupSpec = {
        group: g + 1,
        clients: clientSpecs.filter((_, i) => i % groupCount === g),
        addresses,
        delayMsTo,
        workload: options.workload,
        seed: options.seed,
        durationMs: options.durationMs,
        openLoopRate: options.openLoopRate ?? null,
        timeoutMs: options.clientTimeoutMs ?? 2000,
        graceMs: options.graceMs ?? 3000,
        recordHistory: options.recordHistory ?? false,
        n,
        frameBytesMax,
      };
      groups.push(track(spawnChild('client-main', spec, `client group ${g + 1}`, options)));
    }
    await Promise.all(groups.map((g) => awaitMessage(g, 'ready', timeoutMs)));
    const reportsPromise = Promise.all(
      groups.map((g) => awaitMessage<Extract<FromClient, { t: 'done' }>>(g, 'done', (options.durationMs ?? 600_000) + 600_000)),
    );
    const atGo = options.statsAtGo === true ? await statsOf(replicas, timeoutMs) : undefined;
    for (const g of groups) g.child.send({ t: 'go' } satisfies ToClient);
    const goMs = performance.now();
    void options.stopClients?.then(() => {
      for (const g of groups) if (g.alive && g.child.connected) g.child.send({ t: 'stop' } satisfies ToClient);
    });
    if (options.sampleEveryMs !== undefined) {
      let sampling = false;
      crashTimers.push(
        setInterval(() => {
          if (sampling) return;
          sampling = true;
          const atMs = performance.now() - goMs;
          void samplesOf(replicas, timeoutMs).then((replicaSamples) => {
            samples.push({ atMs, replicas: replicaSamples });
            sampling = false;
          });
        }, options.sampleEveryMs),
      );
    }
    for (const crash of options.crashes ?? []) {
      crashTimers.push(
        setTimeout(() => {
          const victim = byId.get(crash.process);
          if (victim === undefined || !victim.alive) return;
          crashed.push(crash.process);
          crashedAtMs.set(crash.process, performance.timeOrigin + performance.now());
          victim.child.kill('SIGKILL');
        }, crash.afterMs),
      );
    }
    const clients = (await reportsPromise).map((m) => m.report);
    for (const timer of crashTimers) clearTimeout(timer);
    crashTimers.length = 0;

    // Let the live replicas finish executing what was answered, then gather their stats.
    let expected = 0;
    for (const c of clients) for (const e of c.history ?? []) expected += e.command.keys.length;
    const stats = await settle(replicas, expected, options.graceMs ?? 3000, timeoutMs);
    for (const g of groups) await stopChild(g, { t: 'stop' });
    for (const r of replicas) await stopChild(r, { t: 'stop' });
    return buildResult(options, clients, stats, atGo, crashed, crashedAtMs, childPids, samples);
  } finally {
    for (const timer of crashTimers) clearTimeout(timer);
    await Promise.all(started.map((c) => stopChild(c, undefined)));
  }
}

/**
 * Polls the live replicas until each executed at least `expected` partial results and the counts stop
 * moving. A replica the configuration removed stopped executing: it is not waited for.
 */
async function settle(replicas: readonly Child[], expected: number, waitMs: number, timeoutMs: number): Promise<Map<ProcessId, ReplicaStats>> {
  const deadline = Date.now() + waitMs;
  let previous = '';
  for (;;) {
    const stats = await statsOf(replicas, timeoutMs);
    const serving = [...stats.values()].filter((s) => !s.removed);
    const counts = serving.map((s) => s.executed).join(',');
    const done = serving.every((s) => s.executed >= expected) && counts === previous;
    if (done || Date.now() > deadline) return stats;
    previous = counts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The stats of every live replica that answers, by id. */
async function statsOf(replicas: readonly Child[], timeoutMs: number): Promise<Map<ProcessId, ReplicaStats>> {
  const alive = replicas.filter((r) => r.alive && r.child.connected);
  const stats = new Map<ProcessId, ReplicaStats>();
  const answers = await Promise.allSettled(
    alive.map((r) => {
      const answer = awaitMessage<Extract<FromReplica, { t: 'stats' }>>(r, 'stats', timeoutMs);
      r.child.send({ t: 'stats' } satisfies ToReplica);
      return answer;
    }),
  );
  for (const answer of answers) if (answer.status === 'fulfilled') stats.set(answer.value.stats.id, answer.value.stats);
  return stats;
}

/** The samples of every live replica that answers, ascending by id. */
async function samplesOf(replicas: readonly Child[], timeoutMs: number): Promise<ReplicaSample[]> {
  const alive = replicas.filter((r) => r.alive && r.child.connected);
  const answers = await Promise.allSettled(
    alive.map((r) => {
      const answer = awaitMessage<Extract<FromReplica, { t: 'sample' }>>(r, 'sample', timeoutMs);
      r.child.send({ t: 'sample' } satisfies ToReplica);
      return answer;
    }),
  );
  const out: ReplicaSample[] = [];
  for (const answer of answers) if (answer.status === 'fulfilled') out.push(answer.value.sample);
  return out.sort((a, b) => a.id - b.id);
}

function buildResult(
  options: RuntimeOptions,
  clients: readonly ClientReport[],
  replicas: Map<ProcessId, ReplicaStats>,
  replicasAtGo: Map<ProcessId, ReplicaStats> | undefined,
  crashed: ProcessId[],
  crashedAtMs: ReadonlyMap<ProcessId, number>,
  childPids: number[],
  samples: readonly RunSample[],
): RuntimeResult {
  const latencyNs = new Histogram();
  const latencyNsByRegion = new Map<string, Histogram>();
  for (const region of options.clientRegions) latencyNsByRegion.set(region, new Histogram());
  let completed = 0;
  let submitted = 0;
  let retries = 0;
  const completedPerSecond: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  const history: HistoryEntry[] | undefined = options.recordHistory ? [] : undefined;
  const pending: Array<ClientReport['pending'][number]> = [];
  for (const c of clients) {
    completed += c.completed;
    submitted += c.submitted;
    retries += c.retries;
    c.completedPerSecond.forEach((count, second) => (completedPerSecond[second] = (completedPerSecond[second] ?? 0) + count));
    if (c.completed > 0) {
      first = Math.min(first, c.firstInvokeMs);
      last = Math.max(last, c.lastReplyMs);
    }
    for (const [region, values] of Object.entries(c.latencyUsByRegion)) {
      const histogram = latencyNsByRegion.get(region)!;
      for (const us of values) histogram.add(us * 1000);
    }
    if (history !== undefined) for (const entry of c.history ?? []) history.push(entry);
    pending.push(...c.pending);
  }
  for (const histogram of latencyNsByRegion.values()) latencyNs.merge(histogram);
  history?.sort((a, b) => a.invokeMs - b.invokeMs || a.rifl - b.rifl);
  const wallMs = completed === 0 ? 0 : last - first;
  const messagesByType = new Map<string, number>();
  let messagesTotal = 0;
  let fastPaths = 0;
  let slowPaths = 0;
  let expected = 0;
  for (const entry of history ?? []) expected += entry.command.keys.length;
  const caughtUpProcesses: number[] = [];
  for (const s of [...replicas.values()].sort((a, b) => a.id - b.id)) {
    for (const [type, count] of Object.entries(s.messagesByType)) messagesByType.set(type, (messagesByType.get(type) ?? 0) + count);
    messagesTotal += s.messagesSent;
    fastPaths += s.fastPath;
    slowPaths += s.slowPath;
    if (s.executed >= expected) caughtUpProcesses.push(s.id);
  }
  const result: SimulationResult = {
    protocol: options.protocol.name,
    config: options.config,
    planet: options.planet === undefined ? 'loopback' : `${options.planet.name} (emulated)`,
    seed: options.seed,
    processRegions: options.cluster.map((e) => e.region),
    clientRegions: options.clientRegions,
    clientsPerRegion: options.clientsPerRegion,
    workload: options.workload,
    commandsCompleted: completed,
    commandsSubmitted: submitted,
    durationNs: Math.round(wallMs * NS_PER_MS),
    latencyNs,
    latencyNsByRegion,
    messagesByType: new Map([...messagesByType].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
    messagesTotal,
    fastPaths,
    slowPaths,
    events: messagesTotal + completed,
    history,
    processesCaughtUp: caughtUpProcesses.length,
    caughtUpProcesses,
    // Injected faults are the simulator's; a real run's crashes are whatever happened to processes.
    faults: { crashed: [], dropped: 0, partitioned: 0, toCrashed: 0, duplicated: 0, reordered: 0, clientRetries: 0 },
    recoveredByProcess: [...replicas.values()].sort((a, b) => a.id - b.id).map(() => 0),
    cpu: undefined,
  };
  const cpu: ProcessCpu[] = [
    ...[...replicas.values()].sort((a, b) => a.id - b.id).map((s) => ({ name: `replica ${s.id}`, pid: s.pid, cpuUserMs: s.cpuUserMs, cpuSystemMs: s.cpuSystemMs })),
    ...clients.map((c) => ({ name: `client group ${c.group}`, pid: c.pid, cpuUserMs: c.cpuUserMs, cpuSystemMs: c.cpuSystemMs })),
  ];
  return {
    result,
    wallMs,
    opsPerSec: wallMs > 0 ? (completed / wallMs) * 1000 : 0,
    cpu,
    replicas,
    replicasAtGo,
    clients,
    crashed,
    crashedAtMs,
    retries,
    completedPerSecond: Array.from(completedPerSecond, (count) => count ?? 0),
    samples,
    pending,
    childPids,
  };
}
