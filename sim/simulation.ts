/**
 * The deterministic discrete-event simulator.
 *
 * Processes sit in regions of a planet; clients sit in regions too and each talks to its closest
 * process. Every message between processes takes the one-way delay of its link (RTT/2 of the measured
 * matrix, plus optional seeded jitter), links are FIFO, and events are ordered by (time, insertion
 * sequence), so a run depends on nothing but its options and seed: same seed, same bytes.
 *
 * Time inside the simulator is integer nanoseconds; protocols are handed milliseconds.
 *
 * Faults (crashes, drops, duplicates, reordering, partitions, slow links, client timeouts) come from a
 * plain-data schedule (faults.ts). Without one, the send path takes a single extra branch and draws
 * nothing, so fault-free runs are exactly as before.
 *
 * Agents (agents.ts), when given, are reactive users beside the workload clients: their commands
 * enter processes exactly like a client's, and their replies, wakes and messages are events of their
 * own. Without agents they cost a comparison on the reply path, a field read when a timer fires and
 * a length test at a crash.
 *
 * A timeline (timeline.ts, `timelineMs`) records commands completed and their latency per bucket of
 * simulated time; `durationMs` stops clients at a fixed time instead of after a number of commands.
 * Both are for recovery figures (throughput over time around a crash); off, each costs one branch.
 */
import { makeCommand, type Command } from '../core/command.js';
import type { Config } from '../core/config.js';
import { Histogram } from '../core/histogram.js';
import { makeRifl, riflClient, type ProcessId, type Rifl } from '../core/ids.js';
import { invariant, UsageError } from '../core/invariant.js';
import { sortByDistance } from '../core/quorum.js';
import { Replica, type ReplicaOutput } from '../core/replica.js';
import type { Configuration } from '../core/membership.js';
import type { ExecutionResult, Message, ProtocolDefinition } from '../core/process.js';
import { Rng } from '../core/rng.js';
import { AGENT_QUEUE_MAX, AGENTS_MAX, type Agent, type AgentAction, type AgentIndex, type AgentsOptions, type AgentStats, type SubmitAction } from './agents.js';
import { CpuModel, payloadBytesOf, type CpuOptions, type CpuUsage } from './cpu.js';
import { EventQueue, type Scheduled } from './event-queue.js';
import { healTimeMs, LinkFaults, MessageFaults, usesMembership, type FaultSchedule } from './faults.js';
import type { Planet } from './planet.js';
import { Timeline, type TimelineSummary } from './timeline.js';
import { ClientWorkload, validateWorkload, ZipfTable, type WorkloadOptions } from './workload.js';

const NS_PER_MS = 1_000_000;

export interface SimulationOptions {
  // The protocol's message and info types are opaque to the simulator.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  readonly config: Config;
  readonly planet: Planet;
  /** Region of each process, process i+1 in processRegions[i]; length n. */
  readonly processRegions: readonly string[];
  /** Regions that host clients. */
  readonly clientRegions: readonly string[];
  readonly clientsPerRegion: number;
  readonly workload: WorkloadOptions;
  readonly seed: string | number;
  /** Extra delay per message, uniform in [0, jitterPct% of the link delay]; FIFO per link is kept. */
  readonly jitterPct?: number;
  /** Keep the full operation history (invocations, completions, results). */
  readonly recordHistory?: boolean;
  /** Round-trip every message through JSON, to catch messages that are not plain data. */
  readonly strict?: boolean;
  /** Give up when simulated time passes this many milliseconds. */
  readonly maxSimTimeMs?: number;
  /**
   * Give up when nothing executes and no client gets a reply for this many milliseconds of simulated
   * time after the last fault healed (the liveness phase of a faulty run); off when absent.
   */
  readonly stallLimitMs?: number;
  /** Observers outside the replicas (checkers). */
  readonly observer?: SimulationObserver;
  /** Network faults between processes (plain data, validated; see faults.ts). */
  readonly faults?: FaultSchedule;
  /** The CPU model (sim/cpu.ts): processes take time to work; off when absent. */
  readonly cpu?: CpuOptions;
  /** Reactive users of the application (agents.ts); none when absent. */
  readonly agents?: AgentsOptions;
  /**
   * A failure detector driven by the crash schedule: this many milliseconds after a process crashes,
   * every live process suspects it (`Process.suspect`), as the runtime's heartbeat detector does once
   * a crashed peer's timeout runs out. Off when absent: protocols then rely on their own timeouts.
   */
  readonly failureDetectionMs?: number;
  /**
   * Clients issue commands during `[0, durationMs)` of simulated time only (or until they have issued
   * `commandsPerClient`, whichever comes first); commands outstanding at that time still complete.
   * A run of fixed length instead of a fixed number of commands. No limit when absent.
   */
  readonly durationMs?: number;
  /**
   * Record a timeline (timeline.ts): commands completed and their latency per bucket of this many
   * milliseconds of simulated time. Off when absent (nothing recorded, one branch per reply).
   */
  readonly timelineMs?: number;
}

export interface SimulationObserver {
  /** A partial result produced by `process`'s executor, in its execution order. */
  onExecuted?(process: ProcessId, result: ExecutionResult, timeMs: number): void;
  /** An info `process` handed to its executor (what it committed), in order. */
  onInfo?(process: ProcessId, info: unknown, timeMs: number): void;
}

/** What the fault schedule did during a run. */
export interface FaultStats {
  /** Processes crashed at the end of the run, ascending. */
  readonly crashed: readonly ProcessId[];
  /** Messages lost to drops, partitions, and crashed receivers. */
  readonly dropped: number;
  readonly partitioned: number;
  readonly toCrashed: number;
  readonly duplicated: number;
  readonly reordered: number;
  /** Client requests sent again after a timeout. */
  readonly clientRetries: number;
  /**
   * With the membership service (removals in the schedule): every configuration after the first, with
   * when its first process learned it; absent otherwise.
   */
  readonly configurations?: readonly { readonly epoch: number; readonly members: readonly ProcessId[]; readonly atMs: number }[];
}

/** One completed client operation. */
export interface HistoryEntry {
  readonly client: number;
  readonly rifl: Rifl;
  readonly region: string;
  /** The process whose reply completed the command. */
  readonly process: ProcessId;
  readonly command: Command;
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly results: readonly ExecutionResult[];
}

/** Everything a run measured; formatting lives in report.ts. */
export interface SimulationResult {
  readonly protocol: string;
  readonly config: Config;
  readonly planet: string;
  readonly seed: string | number;
  readonly processRegions: readonly string[];
  readonly clientRegions: readonly string[];
  readonly clientsPerRegion: number;
  readonly workload: WorkloadOptions;
  readonly commandsCompleted: number;
  readonly commandsSubmitted: number;
  /** Simulated time of the last reply. */
  readonly durationNs: number;
  readonly latencyNs: Histogram;
  readonly latencyNsByRegion: ReadonlyMap<string, Histogram>;
  readonly messagesByType: ReadonlyMap<string, number>;
  readonly messagesTotal: number;
  readonly fastPaths: number;
  readonly slowPaths: number;
  /** Events processed (messages, client arrivals and replies, timers). */
  readonly events: number;
  readonly history: readonly HistoryEntry[] | undefined;
  /** Processes whose executors answered every key of every submitted command. */
  readonly processesCaughtUp: number;
  /** Live processes that caught up, ascending (all of them in a fault-free run). */
  readonly caughtUpProcesses: readonly ProcessId[];
  readonly faults: FaultStats;
  /** Per process (index = id − 1), recoveries it completed (leader changes, recovered dots). */
  readonly recoveredByProcess: readonly number[];
  /** Per-process utilisation, with the CPU model on. */
  readonly cpu: { readonly cores: number; readonly executorCores: number; readonly usage: readonly CpuUsage[] } | undefined;
  /** What the agents did, when there were any (absent otherwise, and from runtime results). */
  readonly agents?: AgentStats;
  /** When clients stopped issuing commands (`SimulationOptions.durationMs`), if they were stopped by time. */
  readonly durationMs?: number;
  /** Throughput and latency per bucket of simulated time, with `SimulationOptions.timelineMs`. */
  readonly timeline?: TimelineSummary;
}

// Event kinds.
const DELIVER = 0;
const CLIENT_ARRIVE = 1;
const CLIENT_REPLY = 2;
const TIMER = 3;
const CRASH = 4;
const CLIENT_TIMEOUT = 5;
const AGENT_WAKE = 6;
const AGENT_REPLY = 7;
const AGENT_MESSAGE = 8;
const AGENT_TIMEOUT = 9;
/** target: the process that now suspects; from: the crashed process it suspects (an id). */
const SUSPECT = 10;
/** target: the process that asks; from: the process to remove (an id). */
const REMOVE = 11;
/**
 * DELIVER events carry the sender's configuration with its id: `from = id + epoch · SENDER_SPAN`
 * (Replica.handle's `senderEpoch`); without the membership service the epoch is always 0.
 */
const SENDER_SPAN = 128;

interface SimEvent extends Scheduled {
  kind: number;
  /** process index (DELIVER, CLIENT_ARRIVE, TIMER, CRASH), client index (CLIENT_REPLY, CLIENT_TIMEOUT) or agent index (AGENT_*) */
  target: number;
  /**
   * sender process id (DELIVER), client index or −1 − agent index (CLIENT_ARRIVE), timer index (TIMER),
   * attempt (CLIENT_TIMEOUT, AGENT_TIMEOUT), tag (AGENT_WAKE), process index (AGENT_REPLY), sender agent (AGENT_MESSAGE)
   */
  from: number;
  payload: unknown;
}

interface SimClient {
  readonly id: number;
  readonly region: string;
  readonly regionIndex: number;
  /** The process the client sends new commands to: the closest, until a retry found another that answers. */
  processIndex: number;
  /** Process indices by distance from the client (retries walk it); computed on first retry. */
  processOrder: number[] | undefined;
  /** Sends so far, over all commands: a timeout is for the latest send only. */
  attempt: number;
  /** The process the outstanding command was last sent to. */
  triedIndex: number;
  readonly workload: ClientWorkload;
  readonly latency: Histogram;
  invokeNs: number;
  command: Command | undefined;
  lastArrivalNs: number;
  lastReplyNs: number;
}

interface SimAgent {
  readonly agent: Agent;
  readonly index: AgentIndex;
  /** The client id its rifls carry: after every workload client's. */
  readonly clientId: number;
  readonly regionIndex: number;
  /** The process it sends new commands to: its own, or the closest; after a retry, the one that answered. */
  processIndex: number;
  /** The process it stops with (crash), or −1. */
  readonly boundIndex: number;
  processOrder: number[] | undefined;
  attempt: number;
  triedIndex: number;
  /** Commands sent so far (its rifls' sequence numbers). */
  seq: number;
  /** The submission being answered, its command and when it was first sent. */
  outstanding: SubmitAction | undefined;
  command: Command | undefined;
  invokeNs: number;
  readonly queue: SubmitAction[];
  pendingWakes: number;
  dead: boolean;
  lastArrivalNs: number;
  lastReplyNs: number;
}

export class Simulation {
  private readonly queue = new EventQueue<SimEvent>();
  private readonly replicas: Replica<Message, unknown>[] = [];
  private readonly clients: SimClient[] = [];
  private readonly n: number;
  /** linkNs[from * n + to] between process indices. */
  private readonly linkNs: Float64Array;
  private readonly linkLastArrivalNs: Float64Array;
  private readonly processRegionIndex: number[];
  private readonly timerSpecs: Array<ReadonlyArray<{ timer: string; everyNs: number }>> = [];
  private readonly jitterRng: Rng;
  private readonly jitterFraction: number;
  private readonly linkFaults: LinkFaults;
  private readonly messageFaults: MessageFaults;
  private readonly faultRng: Rng;
  private readonly clientTimeoutNs: number;
  private readonly crashed: Uint8Array;
  private dropped = 0;
  private partitioned = 0;
  private toCrashed = 0;
  private duplicated = 0;
  private reordered = 0;
  private clientRetries = 0;
  /** Configurations after the first, when the membership service runs. */
  private configurations: { epoch: number; members: readonly ProcessId[]; atMs: number }[] | undefined;
  /** Stall detection (stallLimitMs): the run is stuck past deadlineNs. */
  private readonly stallNs: number;
  private readonly healNs: number;
  private maxNs = 0;
  private deadlineNs = 0;
  private readonly messagesByType = new Map<string, number>();
  private messagesTotal = 0;
  private events = 0;
  private nowNs = 0;
  private lastReplyNs = 0;
  private clientsDone = 0;
  private completed = 0;
  private submitted = 0;
  private expectedKeyResults = 0;
  private readonly keyResults: number[];
  private readonly history: HistoryEntry[] | undefined;
  private ran = false;
  /** The CPU model; undefined (one branch per input) when off. */
  private readonly cpu: CpuModel | undefined;
  private readonly agents: SimAgent[] = [];
  /** Outstanding agent commands plus pending agent wakes: timers keep running while positive. */
  private agentActivity = 0;
  private readonly agentTimeoutNs: number;
  /** FIFO agent-to-agent links: last arrival per (from · agents + to). */
  private readonly agentLinkLastNs = new Map<number, number>();
  private agentSubmitted = 0;
  private agentCompleted = 0;
  private agentRetries = 0;
  private agentMessages = 0;
  private agentWakes = 0;
  /** Clients issue nothing from this simulated time on; 0 = no limit. */
  private readonly stopNs: number;
  /** With `timelineMs`: the timeline, and each planet region's index among the client regions. */
  private readonly timeline: Timeline | undefined;
  private readonly timelineRegion: Int32Array | undefined;

  constructor(private readonly options: SimulationOptions) {
    const { config, planet, processRegions } = options;
    validateWorkload(options.workload);
    if (processRegions.length !== config.n) {
      throw new UsageError(`${processRegions.length} process regions given for n=${config.n}; give one region per process`);
    }
    if (!Number.isInteger(options.clientsPerRegion) || options.clientsPerRegion < 0 || options.clientsPerRegion > 100_000) {
      throw new UsageError(`clients per region must be an integer from 0 to 100000 (got ${options.clientsPerRegion})`);
    }
    const jitterPct = options.jitterPct ?? 0;
    if (!(jitterPct >= 0 && jitterPct <= 1000)) throw new UsageError(`jitter must be a percentage from 0 to 1000 (got ${jitterPct})`);
    this.jitterFraction = jitterPct / 100;
    const detectionMs = options.failureDetectionMs;
    if (detectionMs !== undefined && !(detectionMs >= 0 && detectionMs <= 3_600_000)) throw new UsageError(`failure detection must take 0 to 3600000 ms (got ${detectionMs})`);
    const durationMs = options.durationMs;
    if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0 && durationMs <= 3_600_000)) {
      throw new UsageError(`the run's duration must be more than 0 and at most 3600000 ms of simulated time (got ${durationMs})`);
    }
    this.stopNs = durationMs === undefined ? 0 : Math.round(durationMs * NS_PER_MS);
    if (options.timelineMs === undefined) {
      this.timeline = undefined;
      this.timelineRegion = undefined;
    } else {
      this.timeline = new Timeline(options.timelineMs, options.clientRegions);
      this.timelineRegion = new Int32Array(planet.regions.length).fill(-1);
      options.clientRegions.forEach((region, i) => (this.timelineRegion![planet.regionIndex(region)] = i));
    }
    const rng = new Rng(options.seed);
    this.jitterRng = rng.fork('jitter');
    this.n = config.n;
    this.processRegionIndex = processRegions.map((r) => planet.regionIndex(r));
    this.linkNs = new Float64Array(this.n * this.n);
    this.linkLastArrivalNs = new Float64Array(this.n * this.n);
    for (let from = 0; from < this.n; from++) {
      for (let to = 0; to < this.n; to++) {
        this.linkNs[from * this.n + to] = planet.oneWayNs(this.processRegionIndex[from]!, this.processRegionIndex[to]!);
      }
    }
    const faults = options.faults ?? {};
    this.linkFaults = new LinkFaults(faults, this.n);
    this.messageFaults = new MessageFaults(faults, this.n);
    // A stream of its own: fault draws never shift the jitter or the clients' commands.
    this.faultRng = rng.fork('faults');
    this.clientTimeoutNs = faults.clientTimeoutMs === undefined ? 0 : Math.round(faults.clientTimeoutMs * NS_PER_MS);
    this.crashed = new Uint8Array(this.n);
    this.stallNs = options.stallLimitMs === undefined ? 0 : Math.round(options.stallLimitMs * NS_PER_MS);
    this.healNs = Math.round(healTimeMs(faults) * NS_PER_MS);
    faults.crashes?.forEach((crash, i) => {
      if (crash.restartAtMs !== undefined && options.protocol.faultTolerance?.crashRestart !== true) {
        throw new UsageError(
          `faults.crashes[${i}].restartAtMs: ${options.protocol.name} does not support crash-restart (its processes keep no durable state to restart from); ` +
            'omit restartAtMs for a crash-stop',
        );
      }
    });
    this.keyResults = new Array<number>(this.n).fill(0);
    this.history = options.recordHistory ? [] : undefined;

    const shards = options.protocol.shardOf === undefined ? 1 : config.executorShards;
    const cpu = options.cpu === undefined ? undefined : new CpuModel(options.protocol.name, this.n, options.cpu, shards, options.protocol.shardOf !== undefined);
    this.cpu = cpu;
    const ids = Array.from({ length: this.n }, (_, i) => i + 1);
    const membership = usesMembership(faults) ? { n: config.n, f: config.f, retryMs: config.recoveryTimeoutMs, ...(faults.removeAfterMs === undefined ? {} : { removeAfterMs: faults.removeAfterMs }) } : undefined;
    if (membership !== undefined) {
      this.configurations = [];
      if (options.protocol.createProcess(1, config).reconfigure === undefined) throw new UsageError(`${options.protocol.name} cannot change its configuration: faults.removals and faults.removeAfterMs are not available`);
    }
    const onReconfigure = (configuration: Configuration) => {
      const list = this.configurations!;
      if (list.length < configuration.epoch) list.push({ epoch: configuration.epoch, members: configuration.members, atMs: this.nowNs / NS_PER_MS });
    };
    for (const id of ids) {
      const created = options.protocol.createProcess(id, config);
      const process = cpu === undefined ? created : cpu.meterProcess(created);
      const executors = Array.from({ length: shards }, (_, shard) => {
        const executor = options.protocol.createExecutor(id, config, shard);
        return cpu === undefined ? executor : cpu.meterExecutor(executor, shard);
      });
      const onExecuted = (result: ExecutionResult) => {
        this.keyResults[id - 1]!++;
        if (this.stallNs > 0) this.progress();
        options.observer?.onExecuted?.(id, result, this.nowNs / NS_PER_MS);
      };
      const onInfoObserver = options.observer?.onInfo;
      const onInfo = onInfoObserver === undefined ? undefined : (info: unknown) => onInfoObserver.call(options.observer, id, info, this.nowNs / NS_PER_MS);
      const replica = new Replica<Message, unknown>(process, {
        executors,
        ...(options.protocol.shardOf === undefined ? {} : { shardOf: options.protocol.shardOf }),
        onExecuted,
        answerRetries: this.clientTimeoutNs > 0 || options.agents?.requestTimeoutMs !== undefined,
        ...(onInfo === undefined ? {} : { onInfo }),
        ...(membership === undefined ? {} : { membership, onReconfigure }),
      });
      const sorted = sortByDistance(id, ids, (to) => this.linkNs[(id - 1) * this.n + (to - 1)]!);
      process.discover(sorted);
      this.replicas.push(replica);
      this.timerSpecs.push(
        replica.timers.map((t) => {
          invariant(t.everyMs > 0, () => `timer ${t.timer} must have a positive period`);
          return { timer: t.timer, everyNs: Math.round(t.everyMs * NS_PER_MS) };
        }),
      );
    }

    const zipf = options.workload.zipfTheta === undefined ? undefined : new ZipfTable(options.workload.zipfTheta, options.workload.zipfKeys);
    for (const region of options.clientRegions) {
      const regionIndex = planet.regionIndex(region);
      let closest = 0;
      for (let p = 1; p < this.n; p++) {
        const best = planet.oneWayNs(regionIndex, this.processRegionIndex[closest]!);
        const here = planet.oneWayNs(regionIndex, this.processRegionIndex[p]!);
        if (here < best) closest = p;
      }
      for (let i = 0; i < options.clientsPerRegion; i++) {
        const id = this.clients.length + 1;
        this.clients.push({
          id,
          region,
          regionIndex,
          processIndex: closest,
          processOrder: undefined,
          attempt: 0,
          triedIndex: closest,
          workload: new ClientWorkload(id, options.workload, rng.fork(`client/${id}`), zipf),
          latency: new Histogram(),
          invokeNs: 0,
          command: undefined,
          lastArrivalNs: 0,
          lastReplyNs: 0,
        });
      }
    }

    const agentTimeoutMs = faults.clientTimeoutMs ?? options.agents?.requestTimeoutMs;
    if (agentTimeoutMs !== undefined && !(agentTimeoutMs > 0 && Number.isFinite(agentTimeoutMs))) {
      throw new UsageError(`the agents' request timeout must be positive milliseconds (got ${agentTimeoutMs})`);
    }
    this.agentTimeoutNs = agentTimeoutMs === undefined ? 0 : Math.round(agentTimeoutMs * NS_PER_MS);
    const agentList = options.agents?.list ?? [];
    if (agentList.length > AGENTS_MAX) throw new UsageError(`${agentList.length} agents; the limit is AGENTS_MAX=${AGENTS_MAX}`);
    agentList.forEach((agent, index) => {
      const regionIndex = planet.regionIndex(agent.region);
      let home = 0;
      if (agent.process !== undefined) {
        if (!Number.isInteger(agent.process) || agent.process < 1 || agent.process > this.n) {
          throw new UsageError(`agent ${index} is bound to process ${agent.process}; give a process id from 1 to ${this.n}`);
        }
        home = agent.process - 1;
      } else {
        for (let p = 1; p < this.n; p++) {
          if (planet.oneWayNs(regionIndex, this.processRegionIndex[p]!) < planet.oneWayNs(regionIndex, this.processRegionIndex[home]!)) home = p;
        }
      }
      this.agents.push({
        agent,
        index,
        clientId: this.clients.length + 1 + index,
        regionIndex,
        processIndex: home,
        boundIndex: agent.process === undefined ? -1 : home,
        processOrder: undefined,
        attempt: 0,
        triedIndex: home,
        seq: 0,
        outstanding: undefined,
        command: undefined,
        invokeNs: 0,
        queue: [],
        pendingWakes: 0,
        dead: false,
        lastArrivalNs: 0,
        lastReplyNs: 0,
      });
    });
  }

  /** Runs to completion (every client finished, every process caught up) and returns the measurements. */
  run(): SimulationResult {
    invariant(!this.ran, 'a Simulation runs once');
    this.ran = true;
    const maxNs = (this.options.maxSimTimeMs ?? 3_600_000) * NS_PER_MS;
    this.maxNs = maxNs;
    this.deadlineNs = maxNs;
    this.progress();
    for (let p = 0; p < this.n; p++) {
      const specs = this.timerSpecs[p]!;
      for (let t = 0; t < specs.length; t++) this.schedule(specs[t]!.everyNs, TIMER, p, t, undefined);
    }
    for (const crash of this.options.faults?.crashes ?? []) this.schedule(Math.round(crash.atMs * NS_PER_MS), CRASH, crash.process - 1, 0, undefined);
    for (const removal of this.options.faults?.removals ?? []) {
      this.schedule(Math.round(removal.atMs * NS_PER_MS), REMOVE, removal.by === undefined ? -1 : removal.by - 1, removal.process, undefined);
    }
    for (const client of this.clients) this.issue(client);
    for (const agent of this.agents) this.act(agent, agent.agent.start(0));

    const queue = this.queue;
    for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
      if (event.time > this.deadlineNs) {
        const what =
          this.deadlineNs < maxNs
            ? `simulation made no progress from ${this.deadlineNs / NS_PER_MS - this.stallNs / NS_PER_MS} ms to ${this.deadlineNs / NS_PER_MS} ms of simulated time (faults healed at ${this.healNs / NS_PER_MS} ms)`
            : `simulation passed ${maxNs / NS_PER_MS} ms of simulated time`;
        throw new SimulationStuckError(
          `${what} with ${this.submitted - this.completed + this.agentSubmitted - this.agentCompleted} commands unanswered and ` +
            `${this.live() - this.caughtUp()} live processes behind; the protocol lost liveness (seed ${String(this.options.seed)})`,
        );
      }
      this.nowNs = event.time;
      this.events++;
      switch (event.kind) {
        case DELIVER: {
          if (this.crashed[event.target] === 1) {
            this.toCrashed++;
            break;
          }
          let msg = event.payload as Message;
          if (this.options.strict) msg = JSON.parse(JSON.stringify(msg)) as Message;
          const replica = this.replicas[event.target]!;
          if (this.cpu !== undefined) {
            const startNs = this.cpu.begin(event.target, event.time, msg.type, payloadBytesOf(msg), (event.from % SENDER_SPAN) - 1);
            replica.handle(event.from % SENDER_SPAN, msg, startNs / NS_PER_MS, Math.floor(event.from / SENDER_SPAN));
            this.flushCpu(event.target, startNs, replica.drain());
            break;
          }
          replica.handle(event.from % SENDER_SPAN, msg, event.time / NS_PER_MS, Math.floor(event.from / SENDER_SPAN));
          this.flush(event.target, replica.drain());
          break;
        }
        case CLIENT_ARRIVE: {
          if (this.crashed[event.target] === 1) break; // unanswered: the client's timeout retries
          const replica = this.replicas[event.target]!;
          const command = event.payload as Command;
          if (this.cpu !== undefined) {
            const startNs = this.cpu.begin(event.target, event.time, 'submit', command.payloadBytes, this.n);
            replica.submit(command, startNs / NS_PER_MS);
            this.flushCpu(event.target, startNs, replica.drain());
            break;
          }
          replica.submit(command, event.time / NS_PER_MS);
          this.flush(event.target, replica.drain());
          break;
        }
        case CLIENT_REPLY:
          this.onReply(this.clients[event.target]!, event.from, event.payload as readonly ExecutionResult[]);
          break;
        case CRASH: {
          this.crashed[event.target] = 1;
          if (this.agents.length > 0) this.stopAgentsOf(event.target);
          const detectionMs = this.options.failureDetectionMs;
          if (detectionMs !== undefined) {
            for (let p = 0; p < this.n; p++) if (this.crashed[p] === 0) this.schedule(event.time + Math.round(detectionMs * NS_PER_MS), SUSPECT, p, event.target + 1, undefined);
          }
          break;
        }
        case SUSPECT:
          if (this.crashed[event.target] === 1 || !this.active()) break;
          this.localInput(event.target, event.time, undefined, event.from);
          break;
        case REMOVE: {
          let by = event.target;
          if (by < 0) for (let p = 0; p < this.n && by < 0; p++) if (p !== event.from - 1 && this.crashed[p] === 0) by = p;
          if (by < 0 || this.crashed[by] === 1) break; // no live process to ask
          const replica = this.replicas[by]!;
          replica.requestRemoval(event.from, event.time / NS_PER_MS);
          this.flush(by, replica.drain());
          break;
        }
        case CLIENT_TIMEOUT:
          this.onClientTimeout(this.clients[event.target]!, event.from);
          break;
        case TIMER: {
          // A crashed process's timers stop for good.
          if (this.crashed[event.target] === 1 || !this.active()) break;
          const spec = this.timerSpecs[event.target]![event.from]!;
          this.localInput(event.target, event.time, spec.timer, 0);
          this.schedule(event.time + spec.everyNs, TIMER, event.target, event.from, undefined);
          break;
        }
        case AGENT_WAKE: {
          const agent = this.agents[event.target]!;
          if (agent.dead) break;
          agent.pendingWakes--;
          this.agentActivity--;
          this.agentWakes++;
          this.act(agent, agent.agent.onWake(event.from, this.nowNs / NS_PER_MS));
          break;
        }
        case AGENT_REPLY:
          this.onAgentReply(this.agents[event.target]!, event.from, event.payload as readonly ExecutionResult[]);
          break;
        case AGENT_MESSAGE: {
          const agent = this.agents[event.target]!;
          // A message between agents is progress: runs whose agents submit nothing have no other.
          if (this.stallNs > 0) this.progress();
          if (!agent.dead) this.act(agent, agent.agent.onMessage(event.from, event.payload, this.nowNs / NS_PER_MS));
          break;
        }
        case AGENT_TIMEOUT:
          this.onAgentTimeout(this.agents[event.target]!, event.from);
          break;
      }
    }
    if (this.agentActivity > 0) {
      throw new SimulationStuckError(`simulation ran out of events with agent commands unanswered; the protocol lost liveness (seed ${String(this.options.seed)})`);
    }
    if (this.clientsDone < this.clients.length) {
      throw new SimulationStuckError(
        `simulation ran out of events with ${this.clients.length - this.clientsDone} clients unfinished ` +
          `(${this.submitted - this.completed} commands unanswered); the protocol lost liveness (seed ${String(this.options.seed)})`,
      );
    }
    return this.result();
  }

  /**
   * What the clients saw so far: completed commands (when recording history) and the commands still
   * outstanding. After a {@link SimulationStuckError} this is the history the checkers read.
   */
  historySoFar(): { readonly completed: readonly HistoryEntry[]; readonly pending: ReadonlyArray<{ client: number; rifl: Rifl; command: Command; invokeMs: number; region: string }> } {
    const pending = [];
    for (const client of this.clients) {
      if (client.command !== undefined) pending.push({ client: client.id, rifl: client.command.rifl, command: client.command, invokeMs: client.invokeNs / NS_PER_MS, region: client.region });
    }
    return { completed: this.history ?? [], pending };
  }

  /**
   * Everything measured up to now. After a {@link SimulationStuckError} this is the run up to where it
   * stopped making progress (its timeline shows the stall); `durationNs` is the last reply's time.
   */
  resultSoFar(): SimulationResult {
    invariant(this.ran, 'resultSoFar: the simulation has not run');
    return this.result(Math.min(this.deadlineNs, this.maxNs));
  }

  /** Per process, the per-command state its protocol holds now (`Process.heldState`; 0 when not reported). */
  heldState(): number[] {
    return this.replicas.map((replica) => replica.process.heldState?.() ?? 0);
  }

  /** What the fault schedule did so far. */
  faultStats(): FaultStats {
    const crashed: ProcessId[] = [];
    for (let p = 0; p < this.n; p++) if (this.crashed[p] === 1) crashed.push(p + 1);
    return {
      crashed,
      dropped: this.dropped,
      partitioned: this.partitioned,
      toCrashed: this.toCrashed,
      duplicated: this.duplicated,
      reordered: this.reordered,
      clientRetries: this.clientRetries,
      ...(this.configurations === undefined ? {} : { configurations: this.configurations.slice() }),
    };
  }

  /** Timers keep firing while clients still run or some live process has not executed everything yet. */
  private active(): boolean {
    return this.clientsDone < this.clients.length || this.agentActivity > 0 || this.caughtUp() < this.live();
  }

  /** Something executed or completed: the stall deadline moves (never before the faults heal). */
  private progress(): void {
    if (this.stallNs > 0) this.deadlineNs = Math.min(this.maxNs, Math.max(this.nowNs, this.healNs) + this.stallNs);
  }

  /** Live processes that executed every key of every issued command. */
  private caughtUp(): number {
    let count = 0;
    for (let p = 0; p < this.n; p++) if (this.crashed[p] === 0 && this.keyResults[p]! >= this.expectedKeyResults && !this.removed(p)) count++;
    return count;
  }

  /** True once process index `p` learned that the configuration removed it: it serves no one. */
  private removed(p: number): boolean {
    return this.configurations !== undefined && this.replicas[p]!.membership!.removedSelf;
  }

  private live(): number {
    let count = 0;
    for (let p = 0; p < this.n; p++) if (this.crashed[p] === 0 && !this.removed(p)) count++;
    return count;
  }

  private schedule(time: number, kind: number, target: number, from: number, payload: unknown): void {
    this.queue.push({ time, seq: 0, kind, target, from, payload });
  }

  private jitter(baseNs: number): number {
    return this.jitterFraction === 0 ? 0 : Math.floor(this.jitterRng.next() * baseNs * this.jitterFraction);
  }

  /**
   * An input of `target` that comes from no one: its timer `timer` fires, or (timer undefined) its
   * failure detector suspects process `suspected`. With the CPU model it queues like any input.
   */
  private localInput(target: number, timeNs: number, timer: string | undefined, suspected: ProcessId): void {
    const replica = this.replicas[target]!;
    const startNs = this.cpu === undefined ? timeNs : this.cpu.begin(target, timeNs, undefined, 0);
    if (timer !== undefined) replica.onTimer(timer, startNs / NS_PER_MS);
    else replica.suspect(suspected, startNs / NS_PER_MS);
    if (this.cpu !== undefined) this.flushCpu(target, startNs, replica.drain());
    else this.flush(target, replica.drain());
  }

  private flush(index: number, outputs: readonly ReplicaOutput<Message>[]): void {
    for (const output of outputs) {
      if (output.kind === 'send') this.send(index, output.to, output.msg, this.nowNs);
      else this.reply(index, output.rifl, output.results, this.nowNs);
    }
  }

  /**
   * With the CPU model: charges the outputs' encoding, books the cores for the input that started at
   * `startNs`, and releases sends when the protocol core is done (through the NIC, if modelled) and
   * replies when the executor work is done.
   */
  private flushCpu(index: number, startNs: number, outputs: readonly ReplicaOutput<Message>[]): void {
    const cpu = this.cpu!;
    for (const output of outputs) {
      if (output.kind === 'send') cpu.chargeSend(output.msg, output.to);
      else cpu.chargeReply();
    }
    const { sendNs, replyNs } = cpu.complete(index, startNs);
    const nic = cpu.nicNsPerByte > 0;
    for (const output of outputs) {
      if (output.kind === 'send') {
        if (!nic) {
          this.send(index, output.to, output.msg, sendNs);
          continue;
        }
        const bytes = cpu.bytesOf(output.msg);
        for (const to of output.to) this.send(index, [to], output.msg, cpu.nicDepart(index, sendNs, bytes));
      } else {
        this.reply(index, output.rifl, output.results, nic ? cpu.nicDepart(index, replyNs, cpu.replyBytes()) : replyNs);
      }
    }
  }

  /** Sends `msg` from process `fromIndex`, leaving at `atNs` (now, or later under the CPU model). */
  private send(fromIndex: number, to: readonly ProcessId[], msg: Message, atNs: number): void {
    const count = this.messagesByType.get(msg.type);
    this.messagesByType.set(msg.type, (count ?? 0) + to.length);
    this.messagesTotal += to.length;
    const fromId = this.configurations === undefined ? fromIndex + 1 : fromIndex + 1 + this.replicas[fromIndex]!.epoch * SENDER_SPAN;
    const row = fromIndex * this.n;
    const faulty = this.messageFaults.any;
    for (let i = 0; i < to.length; i++) {
      const toIndex = to[i]! - 1;
      const link = row + toIndex;
      const base = this.linkNs[link]!;
      let arrival = atNs + base + this.jitter(base);
      if (this.linkFaults.any) arrival += this.linkFaults.extraNs(fromIndex, toIndex, atNs);
      if (faulty && this.sendFaulty(fromIndex, toIndex, fromId, msg, arrival)) continue;
      // FIFO per link: never overtake an earlier message on the same link.
      const last = this.linkLastArrivalNs[link]!;
      if (arrival < last) arrival = last;
      this.linkLastArrivalNs[link] = arrival;
      this.schedule(arrival, DELIVER, toIndex, fromId, msg);
    }
  }

  /**
   * Applies partitions, drops, duplication and reordering to one message due at `arrival`; returns
   * true when it took care of the message (lost, or scheduled out of FIFO order), false when the
   * message goes the ordinary FIFO way (a duplicate may have been scheduled besides).
   */
  private sendFaulty(fromIndex: number, toIndex: number, fromId: ProcessId, msg: Message, arrival: number): boolean {
    const faults = this.messageFaults;
    if (faults.partitioned(fromIndex, toIndex, this.nowNs)) {
      this.partitioned++;
      return true;
    }
    const fate = faults.fateOf(fromIndex, toIndex, this.nowNs);
    const rng = this.faultRng;
    if (fate.drop > 0 && rng.chance(fate.drop)) {
      this.dropped++;
      return true;
    }
    if (fate.duplicate > 0 && rng.chance(fate.duplicate)) {
      this.duplicated++;
      this.messagesTotal++;
      this.schedule(arrival + Math.floor(rng.next() * fate.reorderNs), DELIVER, toIndex, fromId, msg);
    }
    if (fate.reorder > 0 && rng.chance(fate.reorder)) {
      this.reordered++;
      this.schedule(arrival + Math.floor(rng.next() * fate.reorderNs), DELIVER, toIndex, fromId, msg);
      return true;
    }
    return false;
  }

  private reply(processIndex: number, rifl: Rifl, results: readonly ExecutionResult[], atNs: number): void {
    const client = this.clients[riflClient(rifl) - 1];
    if (client === undefined) {
      this.agentReply(processIndex, rifl, results, atNs);
      return;
    }
    const base = this.options.planet.oneWayNs(this.processRegionIndex[processIndex]!, client.regionIndex);
    let arrival = atNs + base + this.jitter(base);
    if (arrival < client.lastReplyNs) arrival = client.lastReplyNs;
    client.lastReplyNs = arrival;
    this.schedule(arrival, CLIENT_REPLY, client.id - 1, processIndex, results);
  }

  private issue(client: SimClient): void {
    const command = this.stopNs > 0 && this.nowNs >= this.stopNs ? undefined : client.workload.next();
    client.command = command;
    if (command === undefined) {
      this.clientsDone++;
      return;
    }
    this.expectedKeyResults += command.keys.length;
    this.submitted++;
    client.invokeNs = this.nowNs;
    this.sendCommand(client, client.processIndex);
  }

  /** Sends the client's outstanding command to `processIndex`, and arms its timeout if any. */
  private sendCommand(client: SimClient, processIndex: number): void {
    const command = client.command!;
    client.attempt++;
    client.triedIndex = processIndex;
    const base = this.options.planet.oneWayNs(client.regionIndex, this.processRegionIndex[processIndex]!);
    let arrival = this.nowNs + base + this.jitter(base);
    if (arrival < client.lastArrivalNs) arrival = client.lastArrivalNs;
    client.lastArrivalNs = arrival;
    this.schedule(arrival, CLIENT_ARRIVE, processIndex, client.id - 1, command);
    if (this.clientTimeoutNs > 0) this.schedule(this.nowNs + this.clientTimeoutNs, CLIENT_TIMEOUT, client.id - 1, client.attempt, undefined);
  }

  /** No reply to send number `attempt` in time: the same command (same rifl) goes to the next process. */
  private onClientTimeout(client: SimClient, attempt: number): void {
    if (client.command === undefined || attempt !== client.attempt) return; // answered, or retried already
    const order = (client.processOrder ??= this.processesByDistance(client.regionIndex));
    const next = order[(order.indexOf(client.triedIndex) + 1) % order.length]!;
    this.clientRetries++;
    this.sendCommand(client, next);
  }

  private processesByDistance(regionIndex: number): number[] {
    const planet = this.options.planet;
    const distance = (p: number) => planet.oneWayNs(regionIndex, this.processRegionIndex[p]!);
    return Array.from({ length: this.n }, (_, p) => p).sort((a, b) => distance(a) - distance(b) || a - b);
  }

  private onReply(client: SimClient, processIndex: number, results: readonly ExecutionResult[]): void {
    const command = client.command;
    // With retries, a reply may come from a process tried earlier, or come twice: the first one counts.
    if (command === undefined || results[0]?.rifl !== command.rifl) return;
    // A client stays with the process that answered (after a retry, its first choice may be down).
    client.processIndex = processIndex;
    invariant(results.length === command.keys.length, () => `client ${client.id}: a reply with ${results.length} key results for ${command.keys.length} keys`);
    const latency = this.nowNs - client.invokeNs;
    client.latency.add(latency);
    this.timeline?.add(this.nowNs, latency, this.timelineRegion![client.regionIndex]!);
    this.completed++;
    if (this.stallNs > 0) this.progress();
    this.lastReplyNs = this.nowNs;
    this.history?.push({
      client: client.id,
      rifl: command.rifl,
      region: client.region,
      process: processIndex + 1,
      command,
      invokeMs: client.invokeNs / NS_PER_MS,
      completeMs: this.nowNs / NS_PER_MS,
      results,
    });
    this.issue(client);
  }

  /** Carries out an agent's actions, in order. */
  private act(agent: SimAgent, actions: readonly AgentAction[]): void {
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      switch (action.kind) {
        case 'submit':
          if (agent.outstanding === undefined) this.issueAgent(agent, action);
          else {
            invariant(agent.queue.length < AGENT_QUEUE_MAX, () => `agent ${agent.index} queued more than AGENT_QUEUE_MAX=${AGENT_QUEUE_MAX} commands`);
            agent.queue.push(action);
          }
          break;
        case 'wake': {
          const atNs = Math.round(action.atMs * NS_PER_MS);
          invariant(atNs >= this.nowNs, () => `agent ${agent.index} asked to wake at ${action.atMs} ms, before now (${this.nowNs / NS_PER_MS} ms)`);
          agent.pendingWakes++;
          this.agentActivity++;
          this.schedule(atNs, AGENT_WAKE, agent.index, action.tag, undefined);
          break;
        }
        case 'send': {
          const to = this.agents[action.to];
          invariant(to !== undefined, () => `agent ${agent.index} sent to unknown agent ${action.to}`);
          const base = this.options.planet.oneWayNs(agent.regionIndex, to.regionIndex);
          let arrival = this.nowNs + base + this.jitter(base);
          const link = agent.index * this.agents.length + to.index;
          const last = this.agentLinkLastNs.get(link) ?? 0;
          if (arrival < last) arrival = last;
          this.agentLinkLastNs.set(link, arrival);
          this.agentMessages++;
          this.schedule(arrival, AGENT_MESSAGE, to.index, agent.index, action.message);
          break;
        }
      }
    }
  }

  private issueAgent(agent: SimAgent, submit: SubmitAction): void {
    agent.seq++;
    const command = makeCommand(makeRifl(agent.clientId, agent.seq), submit.keyOps);
    agent.outstanding = submit;
    agent.command = command;
    agent.invokeNs = this.nowNs;
    this.agentActivity++;
    this.agentSubmitted++;
    this.sendAgentCommand(agent, agent.processIndex);
  }

  private sendAgentCommand(agent: SimAgent, processIndex: number): void {
    agent.attempt++;
    agent.triedIndex = processIndex;
    const base = this.options.planet.oneWayNs(agent.regionIndex, this.processRegionIndex[processIndex]!);
    let arrival = this.nowNs + base + this.jitter(base);
    if (arrival < agent.lastArrivalNs) arrival = agent.lastArrivalNs;
    agent.lastArrivalNs = arrival;
    this.schedule(arrival, CLIENT_ARRIVE, processIndex, -1 - agent.index, agent.command);
    if (this.agentTimeoutNs > 0) this.schedule(this.nowNs + this.agentTimeoutNs, AGENT_TIMEOUT, agent.index, agent.attempt, undefined);
  }

  private onAgentTimeout(agent: SimAgent, attempt: number): void {
    if (agent.dead || agent.command === undefined || attempt !== agent.attempt) return;
    const order = (agent.processOrder ??= this.processesByDistance(agent.regionIndex));
    const next = order[(order.indexOf(agent.triedIndex) + 1) % order.length]!;
    this.agentRetries++;
    this.sendAgentCommand(agent, next);
  }

  private agentReply(processIndex: number, rifl: Rifl, results: readonly ExecutionResult[], atNs: number): void {
    const agent = this.agents[riflClient(rifl) - 1 - this.clients.length];
    invariant(agent !== undefined, () => `reply for unknown client of rifl ${rifl}`);
    const base = this.options.planet.oneWayNs(this.processRegionIndex[processIndex]!, agent.regionIndex);
    let arrival = atNs + base + this.jitter(base);
    if (arrival < agent.lastReplyNs) arrival = agent.lastReplyNs;
    agent.lastReplyNs = arrival;
    this.schedule(arrival, AGENT_REPLY, agent.index, processIndex, results);
  }

  private onAgentReply(agent: SimAgent, processIndex: number, results: readonly ExecutionResult[]): void {
    const command = agent.command;
    // After a retry a reply may come twice, or from a process tried earlier: the first one counts.
    if (agent.dead || command === undefined || results[0]?.rifl !== command.rifl) return;
    invariant(results.length === command.keys.length, () => `agent ${agent.index}: a reply with ${results.length} key results for ${command.keys.length} keys`);
    const submitted = agent.outstanding!;
    const sentMs = agent.invokeNs / NS_PER_MS;
    agent.processIndex = processIndex;
    agent.outstanding = undefined;
    agent.command = undefined;
    this.agentActivity--;
    this.agentCompleted++;
    if (this.stallNs > 0) this.progress();
    this.lastReplyNs = this.nowNs;
    // Queued submissions go first: replies come back in submission order.
    const next = agent.queue.shift();
    if (next !== undefined) this.issueAgent(agent, next);
    this.act(agent, agent.agent.onReply(submitted, results, this.nowNs / NS_PER_MS, sentMs));
  }

  /** Agents bound to a crashed process stop: nothing reaches them any more. */
  private stopAgentsOf(processIndex: number): void {
    for (const agent of this.agents) {
      if (agent.boundIndex !== processIndex || agent.dead) continue;
      agent.dead = true;
      this.agentActivity -= agent.pendingWakes + (agent.outstanding === undefined ? 0 : 1);
      agent.pendingWakes = 0;
      agent.outstanding = undefined;
      agent.command = undefined;
      agent.queue.length = 0;
    }
  }

  /** What the agents did so far. */
  agentStats(): AgentStats {
    return { submitted: this.agentSubmitted, completed: this.agentCompleted, retries: this.agentRetries, messages: this.agentMessages, wakes: this.agentWakes };
  }

  /** The measurements; `stalledUntilNs`: the run gave up then, and its timeline reaches that far. */
  private result(stalledUntilNs?: number): SimulationResult {
    const latencyNs = new Histogram();
    const latencyNsByRegion = new Map<string, Histogram>();
    for (const region of this.options.clientRegions) latencyNsByRegion.set(region, new Histogram());
    for (const client of this.clients) {
      latencyNs.merge(client.latency);
      latencyNsByRegion.get(client.region)!.merge(client.latency);
    }
    let fastPaths = 0;
    let slowPaths = 0;
    const recoveredByProcess: number[] = [];
    for (const replica of this.replicas) {
      const metrics = replica.process.metrics();
      fastPaths += metrics.fastPath;
      slowPaths += metrics.slowPath;
      recoveredByProcess.push(metrics.recovered ?? 0);
    }
    const caughtUpProcesses: ProcessId[] = [];
    for (let p = 0; p < this.n; p++) {
      if (this.crashed[p] === 0 && this.keyResults[p]! >= this.expectedKeyResults) caughtUpProcesses.push(p + 1);
    }
    const o = this.options;
    return {
      protocol: o.protocol.name,
      config: o.config,
      planet: o.planet.name,
      seed: o.seed,
      processRegions: o.processRegions,
      clientRegions: o.clientRegions,
      clientsPerRegion: o.clientsPerRegion,
      workload: o.workload,
      commandsCompleted: this.completed,
      commandsSubmitted: this.submitted,
      durationNs: this.lastReplyNs,
      latencyNs,
      latencyNsByRegion,
      messagesByType: new Map([...this.messagesByType].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
      messagesTotal: this.messagesTotal,
      fastPaths,
      slowPaths,
      events: this.events,
      history: this.history,
      processesCaughtUp: this.caughtUp(),
      caughtUpProcesses,
      faults: this.faultStats(),
      recoveredByProcess,
      cpu:
        this.cpu === undefined
          ? undefined
          : { cores: o.cpu!.cores, executorCores: this.cpu.executorCores, usage: this.cpu.usage(this.lastReplyNs) },
      ...(this.agents.length === 0 ? {} : { agents: this.agentStats() }),
      ...(o.durationMs === undefined ? {} : { durationMs: o.durationMs }),
      ...(this.timeline === undefined ? {} : { timeline: this.timeline.summary(stalledUntilNs) }),
    };
  }
}

/** The run did not finish: some command never completed. */
export class SimulationStuckError extends Error {
  override name = 'SimulationStuckError';
}
