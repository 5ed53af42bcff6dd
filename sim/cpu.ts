/**
 * The simulator's optional CPU model (issue 8): simulated processes that take time to work, so that
 * throughput saturates, leaders become bottlenecks and tails grow with load.
 *
 * Each process has `cores` cores. One of them, the protocol core, runs every input of the process:
 * a message delivery, a client submit or a timer occupies it for
 *
 *     decode(kind) + decodePerByte·payload      (inputs that came over the wire)
 *   + handle(kind)                              (the protocol's own code)
 *   + handle(k) for each message it sent to itself and handled before returning (core/replica.ts)
 *   + Σ over remote copies of each send: encode(kind) + encodePerByte·payload
 *   + encode('reply') per client reply
 *
 * and inputs queue FIFO in front of it. Everything the input produced is released when that service
 * completes. Executor work (per info handled, plus per partial result executed) runs on executor
 * cores: Tempo's key shards spread over up to `executorCores` cores (shard s on core s mod k);
 * graph and slot executors use one core; with `executorCores = 0` the executor runs inline on the
 * protocol core (the runtime's default for every protocol but Tempo with worker shards). Client
 * replies leave when the executor work of the input that produced them is done.
 *
 * With a NIC rate, every remote copy (and every client reply) is serialized onto the process's
 * outgoing link at `nicBytesPerSec`, FIFO, after the protocol core released it; its size is the
 * calibrated wire size of the kind plus the command payload it carries. Incoming bandwidth is not
 * modelled.
 *
 * All costs come from a profile (`orrery calibrate`, results/cpu-profile.json), never from the
 * clock: the model is as deterministic as the rest of the simulator. Processing an input "at
 * arrival" and holding its outputs back until its FIFO completion is equivalent to processing it at
 * its service start: the simulator hands the protocol the start time as `now`, and each process sees
 * its inputs in the same order either way.
 */
import type { ProtocolName } from '../core/config.js';
import type { ProcessId } from '../core/ids.js';
import { invariant, UsageError } from '../core/invariant.js';
import type { ExecutionResult, Executor, Message, Output, Process, ProtocolMetrics, TimerSpec } from '../core/process.js';
import type { Dot } from '../core/ids.js';
import type { Command } from '../core/command.js';

/** What one protocol's inputs and outputs cost, in nanoseconds, on the machine that calibrated it. */
export interface ProtocolCosts {
  /** The protocol's handling per input kind: message types, `submit`, `timer:<name>`. */
  readonly handleNs: Readonly<Record<string, number>>;
  /** Decoding one received message (without payload) per message type, and `submit` (a client request). */
  readonly decodeNs: Readonly<Record<string, number>>;
  /** Encoding one copy of a message (without payload) per message type, and `reply` (a client reply). */
  readonly encodeNs: Readonly<Record<string, number>>;
  /** Encoded size in bytes (without payload) per message type, `submit` and `reply`. */
  readonly wireBytes: Readonly<Record<string, number>>;
  /** The executor's handling of one info per info kind (`type`, or `info` when untyped), nothing executed. */
  readonly executeNs: Readonly<Record<string, number>>;
  /** Executing one command part (one partial result) on top of handling the info that released it. */
  readonly executedNs: number;
  /**
   * One unit of an executor's search work (`Executor.workDone`: dependency entries the graph
   * executors examine), on top of the above; absent (0) in profiles that predate it and for
   * executors that count none.
   */
  readonly executeUnitNs?: number;
  /** How many calls each figure averaged (for people; the model ignores it). */
  readonly samples?: Readonly<Record<string, number>>;
  /**
   * The runtime's transport (runtime/transport.ts), measured through its own writer and reader
   * (cli/calibrate-transport.ts): see {@link TransportCosts}. Absent in profiles that predate it;
   * the model then charges the codec alone.
   */
  readonly transport?: TransportCosts;
  /** The transport measurement's raw points (for people; the model ignores it). */
  readonly transportDetail?: unknown;
  /**
   * What a real replica process spends beyond everything above, per input from the wire and per
   * frame received (cli/calibrate-replica.ts: a replay through the runtime's replica process).
   * Charged only together with `transport`.
   */
  readonly replica?: ReplicaCosts;
  /** The replica replay's raw points (for people; the model ignores it). */
  readonly replicaDetail?: unknown;
}

/**
 * A real replica's residual costs beyond the calibrated parts, in nanoseconds: from the replica
 * replay (cli/calibrate-replica.ts) or from the live runtime (cli/calibrate-live.ts). The simulator
 * charges `inputNs` per wire input, `frameNs` per frame read and `wakeNs` per wake-up (live calibration
 * only); the client terms (live calibration only) are the client process's, which the simulator does
 * not model and cpu:validate adds to the client side's CPU per command.
 */
export interface ReplicaCosts {
  readonly inputNs: number;
  readonly frameNs: number;
  readonly wakeNs?: number;
  readonly clientCommandNs?: number;
  readonly clientFrameNs?: number;
  readonly clientWakeNs?: number;
}

/**
 * Transport costs in nanoseconds, per frame and per message, for each end of the three kinds of
 * connection: replica → replica (`msgs` frames), client → replica (`submit`), replica → client
 * (`reply`). Per-message figures are the whole wire path of one message inside a batched frame
 * (codec included); `*CodecNs` are the mean isolated codec costs of the same message mix (the
 * profile's encodeNs/decodeNs weighted by how often the run sent each kind), so the model charges a
 * message `encode(kind) + sendMessageNs − sendCodecNs`: the kind's own codec cost plus the
 * transport's share, with the mix's mean equal to the measured wire path.
 */
export interface TransportCosts {
  /** One event-loop turn (the setImmediate round trip and the loop's poll). */
  readonly turnNs: number;
  /**
   * A turn that starts on an idle process: its wake-up from epoll_wait, and the sender's extra for
   * writing to a sleeping process (charged to the woken process).
   */
  readonly wakeNs: number;
  readonly sendFrameNs: number;
  readonly sendMessageNs: number;
  readonly sendCodecNs: number;
  readonly recvFrameNs: number;
  readonly recvMessageNs: number;
  readonly recvCodecNs: number;
  /** Client → replica: the client's writer and the replica's reader. */
  readonly submitSendFrameNs: number;
  readonly submitSendMessageNs: number;
  readonly submitRecvFrameNs: number;
  readonly submitRecvMessageNs: number;
  /** Replica → client: the replica's writer and the client's reader. */
  readonly replySendFrameNs: number;
  readonly replySendMessageNs: number;
  readonly replyRecvFrameNs: number;
  readonly replyRecvMessageNs: number;
  /** A client drawing its next command (sim/workload.ts, as the runtime's clients do). */
  readonly clientCommandNs: number;
}

/** The fields of {@link TransportCosts}, for the parser and the tests. */
export const TRANSPORT_FIELDS = [
  'turnNs',
  'wakeNs',
  'sendFrameNs',
  'sendMessageNs',
  'sendCodecNs',
  'recvFrameNs',
  'recvMessageNs',
  'recvCodecNs',
  'submitSendFrameNs',
  'submitSendMessageNs',
  'submitRecvFrameNs',
  'submitRecvMessageNs',
  'replySendFrameNs',
  'replySendMessageNs',
  'replyRecvFrameNs',
  'replyRecvMessageNs',
  'clientCommandNs',
] as const satisfies ReadonlyArray<keyof TransportCosts>;

/** A calibrated cost profile, as `orrery calibrate` writes it. */
export interface CpuProfile {
  readonly format: 'orrery-cpu-profile';
  readonly version: 1;
  /** Where and how it was measured. */
  readonly machine: Readonly<Record<string, unknown>>;
  readonly commit: string;
  readonly date: string;
  readonly command: string;
  /** Codec cost per payload byte, each way. */
  readonly encodePerByteNs: number;
  readonly decodePerByteNs: number;
  readonly protocols: Readonly<Partial<Record<ProtocolName, ProtocolCosts>>>;
}

/** How the simulator runs the CPU model. */
export interface CpuOptions {
  readonly profile: CpuProfile;
  /** Cores per process, 1..256. */
  readonly cores: number;
  /**
   * Cores for executor work, 0 = inline on the protocol core. Default: none with one core; otherwise
   * min(cores − 1, executor shards) for key-partitioned executors and 1 for the others.
   */
  readonly executorCores?: number;
  /** Outgoing NIC rate per process; unlimited when absent. */
  readonly nicBytesPerSec?: number;
}

/** Per-process utilisation over a run: busy time over simulated time, per resource. */
export interface CpuUsage {
  readonly process: ProcessId;
  readonly protocolCore: number;
  /** One figure per executor core (empty when executors run inline). */
  readonly executorCores: readonly number[];
  /** Outgoing NIC (null without a NIC rate). */
  readonly nic: number | null;
  /** Inputs the protocol core served. */
  readonly inputs: number;
  /** Longest wait of an input in front of the protocol core, in nanoseconds. */
  readonly queueNsMax: number;
  /** Busy time of the protocol core and of the executor cores together, ns. */
  readonly busyNs: number;
  /** With transport costs: event-loop turns, frames written to peers and to clients, frames read. */
  readonly turns: number;
  readonly framesSent: number;
  readonly replyFramesSent: number;
  readonly framesReceived: number;
}

const KIND_PATTERN = /^[A-Za-z][A-Za-z0-9:_-]*$/;

function costTable(value: unknown, where: string, allowEmpty: boolean): Record<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where} must be an object of kind → nanoseconds`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (!allowEmpty && entries.length === 0) throw new UsageError(`${where} is empty; calibrate again`);
  const table: Record<string, number> = {};
  for (const [kind, cost] of entries) {
    if (!KIND_PATTERN.test(kind)) throw new UsageError(`${where}: '${kind}' is not a message or input kind`);
    if (typeof cost !== 'number' || !Number.isFinite(cost) || cost < 0 || cost > 1e9) {
      throw new UsageError(`${where}.${kind} must be a number of nanoseconds from 0 to 1e9 (got ${JSON.stringify(cost)})`);
    }
    table[kind] = cost;
  }
  return table;
}

function nonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1e9) {
    throw new UsageError(`${where} must be a non-negative number of nanoseconds (got ${JSON.stringify(value)})`);
  }
  return value;
}

function transportCosts(value: unknown, where: string): TransportCosts {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where} must be an object of transport costs (${TRANSPORT_FIELDS.join(', ')})`);
  const v = value as Record<string, unknown>;
  for (const name of Object.keys(v)) {
    if (!(TRANSPORT_FIELDS as readonly string[]).includes(name)) throw new UsageError(`${where}.${name} is not a transport cost; accepted: ${TRANSPORT_FIELDS.join(', ')}`);
  }
  const out: Record<string, number> = {};
  for (const name of TRANSPORT_FIELDS) {
    if (v[name] === undefined) throw new UsageError(`${where}.${name} is missing; calibrate again`);
    out[name] = nonNegative(v[name], `${where}.${name}`);
  }
  return out as unknown as TransportCosts;
}

function replicaCosts(value: unknown, where: string): ReplicaCosts {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where} must be an object with inputNs and frameNs`);
  const v = value as Record<string, unknown>;
  const optional = ['wakeNs', 'clientCommandNs', 'clientFrameNs', 'clientWakeNs'] as const;
  const accepted = ['inputNs', 'frameNs', ...optional];
  for (const name of Object.keys(v)) if (!accepted.includes(name)) throw new UsageError(`${where}.${name} is not a replica cost; accepted: ${accepted.join(', ')}`);
  const costs: Record<string, number> = { inputNs: nonNegative(v['inputNs'], `${where}.inputNs`), frameNs: nonNegative(v['frameNs'], `${where}.frameNs`) };
  for (const name of optional) if (v[name] !== undefined) costs[name] = nonNegative(v[name], `${where}.${name}`);
  return costs as unknown as ReplicaCosts;
}

/** Reads and validates a profile; every mistake names the file and the field. */
export function parseCpuProfile(text: string, source: string): CpuProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${source} is not JSON (${(error as Error).message}); give a profile written by 'orrery calibrate'`);
  }
  if (typeof raw !== 'object' || raw === null || (raw as { format?: unknown }).format !== 'orrery-cpu-profile') {
    throw new UsageError(`${source} is not a CPU profile (format must be 'orrery-cpu-profile'); write one with 'orrery calibrate'`);
  }
  const p = raw as Record<string, unknown>;
  if (p['version'] !== 1) throw new UsageError(`${source}: profile version ${JSON.stringify(p['version'])} is not supported (expected 1)`);
  const protocolsRaw = p['protocols'];
  if (typeof protocolsRaw !== 'object' || protocolsRaw === null) throw new UsageError(`${source}: protocols must be an object`);
  const protocols: Partial<Record<ProtocolName, ProtocolCosts>> = {};
  for (const [name, costs] of Object.entries(protocolsRaw as Record<string, unknown>)) {
    const where = `${source}: protocols.${name}`;
    if (typeof costs !== 'object' || costs === null) throw new UsageError(`${where} must be an object`);
    const c = costs as Record<string, unknown>;
    protocols[name as ProtocolName] = {
      handleNs: costTable(c['handleNs'], `${where}.handleNs`, false),
      decodeNs: costTable(c['decodeNs'], `${where}.decodeNs`, true),
      encodeNs: costTable(c['encodeNs'], `${where}.encodeNs`, true),
      wireBytes: costTable(c['wireBytes'], `${where}.wireBytes`, true),
      executeNs: costTable(c['executeNs'], `${where}.executeNs`, true),
      executedNs: nonNegative(c['executedNs'], `${where}.executedNs`),
      ...(c['executeUnitNs'] === undefined ? {} : { executeUnitNs: nonNegative(c['executeUnitNs'], `${where}.executeUnitNs`) }),
      ...(c['samples'] === undefined ? {} : { samples: costTable(c['samples'], `${where}.samples`, true) }),
      ...(c['transport'] === undefined ? {} : { transport: transportCosts(c['transport'], `${where}.transport`) }),
      ...(c['transportDetail'] === undefined ? {} : { transportDetail: c['transportDetail'] }),
      ...(c['replica'] === undefined ? {} : { replica: replicaCosts(c['replica'], `${where}.replica`) }),
      ...(c['replicaDetail'] === undefined ? {} : { replicaDetail: c['replicaDetail'] }),
    };
  }
  return {
    format: 'orrery-cpu-profile',
    version: 1,
    machine: (p['machine'] ?? {}) as Record<string, unknown>,
    commit: String(p['commit'] ?? 'unknown'),
    date: String(p['date'] ?? 'unknown'),
    command: String(p['command'] ?? 'unknown'),
    encodePerByteNs: nonNegative(p['encodePerByteNs'] ?? 0, `${source}: encodePerByteNs`),
    decodePerByteNs: nonNegative(p['decodePerByteNs'] ?? 0, `${source}: decodePerByteNs`),
    protocols,
  };
}

/** The payload bytes a message carries: those of the command(s) inside it. */
export function payloadBytesOf(msg: Message): number {
  const m = msg as unknown as { cmd?: Command | null; accepted?: ReadonlyArray<{ cmd?: Command | null }> };
  let bytes = m.cmd?.payloadBytes ?? 0;
  if (Array.isArray(m.accepted)) for (const slot of m.accepted) bytes += slot.cmd?.payloadBytes ?? 0;
  return bytes;
}

/** The kind an executor info is costed by. */
export function infoKind(info: unknown): string {
  const type = (info as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : 'info';
}

/** A cost table with a fallback, for kinds the calibration never saw (e.g. recovery messages). */
class Costs {
  private readonly fallback: number;

  constructor(
    private readonly table: Readonly<Record<string, number>>,
    fallback?: number,
  ) {
    const values = Object.values(table);
    // Unseen kinds cost what the seen ones cost on average: recovery messages are rare in a run.
    this.fallback = fallback ?? (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  }

  of(kind: string): number {
    return this.table[kind] ?? this.fallback;
  }
}

/** Per-process state of the model. */
interface ProcessCpu {
  protocolFreeNs: number;
  protocolBusyNs: number;
  readonly executorFreeNs: Float64Array;
  readonly executorBusyNs: Float64Array;
  nicFreeNs: number;
  nicBusyNs: number;
  inputs: number;
  queueNsMax: number;
  /** Event-loop turns (transport only): the latest turn's number and when it polled. */
  turn: number;
  turnPollNs: number;
  /** Per connection (peers by index, the clients' connection at n): the last turn that wrote / read a frame on it. */
  readonly sendTurn: Int32Array;
  readonly recvTurn: Int32Array;
  framesSent: number;
  replyFramesSent: number;
  framesReceived: number;
}

/** Outputs of one input and when they may leave. */
export interface Completion {
  /** When the protocol core finished: sends leave (onto the NIC, if any) from here. */
  readonly sendNs: number;
  /** When the executor work finished: client replies leave from here. */
  readonly replyNs: number;
}

/**
 * The CPU model of one run: FIFO cores per process, and the meters that observe what a process and
 * its executors did during one input.
 */
export class CpuModel {
  readonly executorCores: number;
  readonly nicNsPerByte: number;
  private readonly handle: Costs;
  private readonly decode: Costs;
  private readonly encode: Costs;
  private readonly wire: Costs;
  private readonly execute: Costs;
  private readonly executedNs: number;
  private readonly executeUnitNs: number;
  private readonly encodePerByteNs: number;
  private readonly decodePerByteNs: number;
  /** Transport costs, when the profile has them; the extras are the transport's share per message. */
  private readonly transport: TransportCosts | undefined;
  private readonly sendExtraNs: number;
  private readonly recvExtraNs: number;
  /** The replica replay's residual per wire input and per frame received (0 without it). */
  private readonly replicaInputNs: number;
  private readonly replicaFrameNs: number;
  private readonly replicaWakeNs: number;
  private readonly processes: ProcessCpu[] = [];
  /** The process whose input is in progress. */
  private current: ProcessCpu | undefined;
  /** Work of the input in progress, on the protocol core and on each executor core. */
  private workNs = 0;
  private readonly executorWorkNs: Float64Array;

  constructor(
    readonly protocol: ProtocolName,
    readonly n: number,
    readonly options: CpuOptions,
    readonly shards: number,
    keyPartitioned: boolean,
  ) {
    const costs = options.profile.protocols[protocol];
    if (costs === undefined) {
      const have = Object.keys(options.profile.protocols).join(', ') || 'none';
      throw new UsageError(`the CPU profile has no costs for ${protocol} (it has: ${have}); run 'orrery calibrate --protocol ${protocol}'`);
    }
    if (!Number.isInteger(options.cores) || options.cores < 1 || options.cores > 256) {
      throw new UsageError(`cores must be an integer from 1 to 256 (got ${options.cores})`);
    }
    const defaultExecutorCores = options.cores === 1 ? 0 : keyPartitioned ? Math.min(options.cores - 1, shards) : 1;
    const executorCores = options.executorCores ?? defaultExecutorCores;
    if (!Number.isInteger(executorCores) || executorCores < 0 || executorCores > options.cores - 1) {
      throw new UsageError(`executor cores must be an integer from 0 to cores − 1 = ${options.cores - 1} (got ${executorCores})`);
    }
    if (!keyPartitioned && executorCores > 1) {
      throw new UsageError(`${protocol}'s executor cannot be split: it uses at most 1 executor core (got ${executorCores})`);
    }
    this.executorCores = executorCores;
    const nic = options.nicBytesPerSec;
    if (nic !== undefined && !(Number.isFinite(nic) && nic >= 1000)) throw new UsageError(`NIC rate must be at least 1000 bytes/s (got ${nic})`);
    this.nicNsPerByte = nic === undefined ? 0 : 1e9 / nic;
    this.handle = new Costs(costs.handleNs);
    this.decode = new Costs(costs.decodeNs);
    this.encode = new Costs(costs.encodeNs);
    this.wire = new Costs(costs.wireBytes);
    this.execute = new Costs(costs.executeNs);
    this.executedNs = costs.executedNs;
    this.executeUnitNs = costs.executeUnitNs ?? 0;
    this.encodePerByteNs = options.profile.encodePerByteNs;
    this.decodePerByteNs = options.profile.decodePerByteNs;
    this.transport = costs.transport;
    this.sendExtraNs = costs.transport === undefined ? 0 : costs.transport.sendMessageNs - costs.transport.sendCodecNs;
    this.recvExtraNs = costs.transport === undefined ? 0 : costs.transport.recvMessageNs - costs.transport.recvCodecNs;
    this.replicaInputNs = costs.replica?.inputNs ?? 0;
    this.replicaFrameNs = costs.replica?.frameNs ?? 0;
    this.replicaWakeNs = costs.replica?.wakeNs ?? 0;
    this.executorWorkNs = new Float64Array(Math.max(1, executorCores));
    for (let p = 0; p < n; p++) {
      this.processes.push({
        protocolFreeNs: 0,
        protocolBusyNs: 0,
        executorFreeNs: new Float64Array(executorCores),
        executorBusyNs: new Float64Array(executorCores),
        nicFreeNs: 0,
        nicBusyNs: 0,
        inputs: 0,
        queueNsMax: 0,
        turn: 0,
        turnPollNs: -1,
        sendTurn: new Int32Array(n + 1),
        recvTurn: new Int32Array(n + 1),
        framesSent: 0,
        replyFramesSent: 0,
        framesReceived: 0,
      });
    }
  }

  /** Wraps a process so that its handling is costed (only ever called with the model on). */
  meterProcess<Msg extends Message, Info>(process: Process<Msg, Info>): Process<Msg, Info> {
    return new MeteredProcess(process, this);
  }

  /** Wraps executor shard `shard` so that its work is costed on its executor core. */
  meterExecutor<Info>(executor: Executor<Info>, shard: number): Executor<Info> {
    return new MeteredExecutor(executor, this, this.executorCores === 0 ? -1 : shard % this.executorCores);
  }

  /**
   * An input reaches process `index` at `arrivalNs`: returns when its service starts (FIFO behind
   * earlier inputs). `wireKind` is the message type (or `submit`) for inputs that came over the wire,
   * whose decoding is charged; undefined for timers. `source` is the connection it came on: the
   * sending peer's index, `n` for the clients' connection, −1 for timers.
   *
   * With transport costs, inputs are grouped into event-loop turns as in the runtime: a turn polls
   * once and takes every input that has arrived by then; inputs arriving while it runs wait for the
   * next turn, which polls when the current one ends. Each turn costs `turnNs` (plus `wakeNs` when
   * it starts on an idle process, which was asleep waiting for input); each connection
   * read in a turn costs one frame (`recvFrameNs`, or `submitRecvFrameNs` for clients), each
   * connection written in a turn one frame (see chargeSend and chargeReply). With a replica
   * residual (replay or live calibration), every wire input costs `replica.inputNs` more, every
   * frame read `replica.frameNs` more and every wake-up `replica.wakeNs` more.
   */
  begin(index: number, arrivalNs: number, wireKind: string | undefined, payloadBytes: number, source = -1): number {
    const cpu = this.processes[index]!;
    this.current = cpu;
    const startNs = cpu.protocolFreeNs > arrivalNs ? cpu.protocolFreeNs : arrivalNs;
    const waitNs = startNs - arrivalNs;
    if (waitNs > cpu.queueNsMax) cpu.queueNsMax = waitNs;
    cpu.inputs++;
    this.executorWorkNs.fill(0);
    const transport = this.transport;
    if (transport === undefined) {
      this.workNs = wireKind === undefined ? 0 : this.decode.of(wireKind) + this.decodePerByteNs * payloadBytes;
      return startNs;
    }
    this.workNs = 0;
    if (arrivalNs > cpu.turnPollNs) {
      // Arrived after the latest turn polled: a new turn, polling now or when the core frees up —
      // and if the core is idle, the process was asleep waiting for input and wakes up.
      cpu.turn++;
      cpu.turnPollNs = startNs;
      this.workNs += arrivalNs > cpu.protocolFreeNs ? transport.turnNs + transport.wakeNs + this.replicaWakeNs : transport.turnNs;
    }
    if (source >= 0 && cpu.recvTurn[source] !== cpu.turn) {
      cpu.recvTurn[source] = cpu.turn;
      cpu.framesReceived++;
      this.workNs += (source === this.n ? transport.submitRecvFrameNs : transport.recvFrameNs) + this.replicaFrameNs;
    }
    if (wireKind !== undefined) this.workNs += this.replicaInputNs;
    if (wireKind === 'submit') this.workNs += transport.submitRecvMessageNs + this.decodePerByteNs * payloadBytes;
    else if (wireKind !== undefined) this.workNs += Math.max(0, this.decode.of(wireKind) + this.recvExtraNs) + this.decodePerByteNs * payloadBytes;
    return startNs;
  }

  /** Called by the metered process for every input it handles (the first one and self-deliveries). */
  chargeHandle(kind: string): void {
    this.workNs += this.handle.of(kind);
  }

  /** Called by a metered executor for one info handled and the parts it executed. */
  chargeExecute(core: number, kind: string, executed: number, units = 0): void {
    const work = this.execute.of(kind) + this.executedNs * executed + this.executeUnitNs * units;
    if (core < 0) this.workNs += work;
    else this.executorWorkNs[core]! += work;
  }

  /** Encoding (and, with transport costs, writing) the remote copies of `msg` to `to`. */
  chargeSend(msg: Message, to: readonly ProcessId[]): void {
    const perCopy = this.encode.of(msg.type) + this.encodePerByteNs * payloadBytesOf(msg);
    const transport = this.transport;
    if (transport === undefined) {
      this.workNs += to.length * perCopy;
      return;
    }
    const cpu = this.current!;
    const copy = Math.max(0, perCopy + this.sendExtraNs);
    for (let i = 0; i < to.length; i++) {
      const peer = to[i]! - 1;
      if (cpu.sendTurn[peer] !== cpu.turn) {
        cpu.sendTurn[peer] = cpu.turn;
        cpu.framesSent++;
        this.workNs += transport.sendFrameNs;
      }
      this.workNs += copy;
    }
  }

  /** Encoding (and writing) one client reply. */
  chargeReply(): void {
    const transport = this.transport;
    if (transport === undefined) {
      this.workNs += this.encode.of('reply');
      return;
    }
    const cpu = this.current!;
    if (cpu.sendTurn[this.n] !== cpu.turn) {
      cpu.sendTurn[this.n] = cpu.turn;
      cpu.replyFramesSent++;
      this.workNs += transport.replySendFrameNs;
    }
    this.workNs += transport.replySendMessageNs;
  }

  /** The input that began at `startNs` is handled and its outputs charged: book the cores. */
  complete(index: number, startNs: number): Completion {
    const cpu = this.processes[index]!;
    // Integer nanoseconds, like the rest of the simulator's time.
    const workNs = Math.max(1, Math.round(this.workNs));
    const sendNs = startNs + workNs;
    cpu.protocolFreeNs = sendNs;
    cpu.protocolBusyNs += workNs;
    let replyNs = sendNs;
    for (let core = 0; core < this.executorCores; core++) {
      const work = Math.round(this.executorWorkNs[core]!);
      if (work === 0) continue;
      const free = cpu.executorFreeNs[core]!;
      const done = (free > sendNs ? free : sendNs) + work;
      cpu.executorFreeNs[core] = done;
      cpu.executorBusyNs[core]! += work;
      if (done > replyNs) replyNs = done;
    }
    return { sendNs, replyNs };
  }

  /** When a copy of `bytes` handed to the NIC at `readyNs` has left process `index`. */
  nicDepart(index: number, readyNs: number, bytes: number): number {
    const cpu = this.processes[index]!;
    const start = cpu.nicFreeNs > readyNs ? cpu.nicFreeNs : readyNs;
    const busy = Math.round(bytes * this.nicNsPerByte);
    cpu.nicFreeNs = start + busy;
    cpu.nicBusyNs += busy;
    return cpu.nicFreeNs;
  }

  /** Wire size of a message copy: the calibrated size of its kind plus its payload. */
  bytesOf(msg: Message): number {
    return this.wire.of(msg.type) + payloadBytesOf(msg);
  }

  /** Wire size of a client reply. */
  replyBytes(): number {
    return this.wire.of('reply');
  }

  /** Utilisation per process over `durationNs` of simulated time. */
  usage(durationNs: number): CpuUsage[] {
    const ratio = (busy: number) => (durationNs <= 0 ? 0 : Math.round((busy / durationNs) * 10000) / 10000);
    return this.processes.map((cpu, i) => ({
      process: i + 1,
      protocolCore: ratio(cpu.protocolBusyNs),
      executorCores: Array.from(cpu.executorBusyNs, ratio),
      nic: this.nicNsPerByte === 0 ? null : ratio(cpu.nicBusyNs),
      inputs: cpu.inputs,
      queueNsMax: cpu.queueNsMax,
      busyNs: cpu.protocolBusyNs + cpu.executorBusyNs.reduce((a, b) => a + b, 0),
      turns: cpu.turn,
      framesSent: cpu.framesSent,
      replyFramesSent: cpu.replyFramesSent,
      framesReceived: cpu.framesReceived,
    }));
  }
}

/** A process whose every handled input is charged to the model; otherwise the process itself. */
class MeteredProcess<Msg extends Message, Info> implements Process<Msg, Info> {
  readonly id: ProcessId;
  readonly timers: readonly TimerSpec[];
  readonly executed?: (dots: readonly Dot[], now: number) => void;
  // The failure detector's hooks: without them a metered process would never hear a suspicion, and
  // the CPU model would silently turn failure detection off. Not charged: they are rare local inputs
  // (the input itself is queued on the core by the simulator like a timer).
  readonly suspect?: (process: ProcessId, now: number) => void;
  readonly unsuspect?: (process: ProcessId, now: number) => void;

  constructor(
    private readonly inner: Process<Msg, Info>,
    private readonly model: CpuModel,
  ) {
    this.id = inner.id;
    this.timers = inner.timers;
    if (inner.executed !== undefined) this.executed = (dots, now) => inner.executed!(dots, now);
    if (inner.suspect !== undefined) this.suspect = (process, now) => inner.suspect!(process, now);
    if (inner.unsuspect !== undefined) this.unsuspect = (process, now) => inner.unsuspect!(process, now);
  }

  discover(sortedByDistance: readonly ProcessId[]): void {
    this.inner.discover(sortedByDistance);
  }

  submit(cmd: Command, now: number): void {
    this.model.chargeHandle('submit');
    this.inner.submit(cmd, now);
  }

  handle(from: ProcessId, msg: Msg, now: number): void {
    this.model.chargeHandle(msg.type);
    this.inner.handle(from, msg, now);
  }

  onTimer(timer: string, now: number): void {
    this.model.chargeHandle(`timer:${timer}`);
    this.inner.onTimer(timer, now);
  }

  drain(): readonly Output<Msg, Info>[] {
    return this.inner.drain();
  }

  metrics(): ProtocolMetrics {
    return this.inner.metrics();
  }
}

/** An executor shard whose work is charged to its core. */
class MeteredExecutor<Info> implements Executor<Info> {
  private kind = 'info';
  /** The inner executor's `workDone` at the last charge. */
  private workSeen = 0;
  readonly drainShardInfos?: () => readonly Info[];
  readonly drainExecuted?: () => readonly Dot[];

  constructor(
    private readonly inner: Executor<Info>,
    private readonly model: CpuModel,
    private readonly core: number,
  ) {
    invariant(core >= -1, 'executor core index');
    if (inner.drainShardInfos !== undefined) this.drainShardInfos = () => inner.drainShardInfos!();
    if (inner.drainExecuted !== undefined) this.drainExecuted = () => inner.drainExecuted!();
  }

  handle(info: Info, now: number): void {
    this.kind = infoKind(info);
    this.inner.handle(info, now);
  }

  drain(): readonly ExecutionResult[] {
    // The Replica drains right after every handle: one charge per info, with what it executed and
    // the search work it took.
    const results = this.inner.drain();
    let units = 0;
    if (this.inner.workDone !== undefined) {
      const work = this.inner.workDone();
      units = work - this.workSeen;
      this.workSeen = work;
    }
    this.model.chargeExecute(this.core, this.kind, results.length, units);
    return results;
  }
}
