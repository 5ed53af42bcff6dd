/**
 * Calibration of the CPU model (sim/cpu.ts) from the real protocol code, on this machine.
 *
 * For each protocol, the actual processes and executors run in-process under a representative load:
 * the simulator drives them (n = 3 nearby regions, closed-loop clients in each, 2% conflict) through
 * an instrumented protocol definition whose processes and executors time every call with
 * `performance.now()`. Timing stays here, outside sim/: the simulator never reads a clock, and the
 * profile it loads is plain data.
 *
 * What is measured, per protocol:
 * - `handleNs[kind]`: one `handle` per message type, `submit`, `timer:<name>`;
 * - `executeNs[kind]`: the executor's `handle` + `drain` for an info that executed nothing, per info
 *   kind; `executedNs`: the extra time per partial result of the calls that did execute;
 * - `encodeNs`, `decodeNs`, `wireBytes`: the runtime's codec (msgpackr with records in sequential mode,
 *   one codec per direction, as runtime/codec.ts on the runtime branch) on messages sampled from the run,
 *   plus `submit` (a client command) and `reply` (a client reply);
 * and once: the codec's cost per payload byte each way (a command carrying a real byte payload).
 *
 * Each figure is a mean after warm-up (one full run discarded so the JIT has compiled the code), with
 * the slowest 1% of calls dropped (they are garbage collections of the simulator's own allocations as
 * much as the protocol's), minus the cost of the timing itself.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { Packr } from 'msgpackr';
import { makeCommand } from '../core/command.js';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { makeRifl } from '../core/ids.js';
import type { ExecutionResult, Executor, Message, Output, Process, ProtocolDefinition, ProtocolMetrics, TimerSpec } from '../core/process.js';
import { builtInPlanet } from '../sim/planet.js';
import { infoKind, type CpuProfile, type ProtocolCosts, type TransportCosts } from '../sim/cpu.js';
import { Simulation, type SimulationResult } from '../sim/simulation.js';
import { ClientWorkload, WORKLOAD_DEFAULTS } from '../sim/workload.js';
import { Rng } from '../core/rng.js';
import { protocolByName } from '../protocols/index.js';
import type { Command } from '../core/command.js';
import type { Dot, ProcessId } from '../core/ids.js';
import { invariant } from '../core/invariant.js';
import { calibrateLive, fitNonNegative, type LiveOptions } from './calibrate-live.js';
import { measureReplica, type ReplicaOptions } from './calibrate-replica.js';
import { measureTransport, type TransportMeasurement, type TransportOptions, type TransportSamples } from './calibrate-transport.js';

/** The calibration load: three nearby GCP regions, one process each, clients in each. */
export const CALIBRATION_REGIONS = ['us-east1', 'us-east4', 'us-central1'];

export interface CalibrateOptions {
  readonly protocols: readonly ProtocolName[];
  /** Closed-loop clients per region. */
  readonly clientsPerRegion: number;
  /** Commands per client in the measured run. */
  readonly commandsPerClient: number;
  /** Percentage of conflicting commands. */
  readonly conflictRate: number;
  /** The command line, recorded in the profile. */
  readonly command: string;
  /** Progress lines for people (stderr). */
  readonly log?: (line: string) => void;
  /** Receives, per protocol, what the run sent, for the transport calibration (cli/calibrate-transport.ts). */
  readonly onSamples?: (protocol: ProtocolName, samples: TransportSamples) => void;
}

export const CALIBRATE_DEFAULTS = { clientsPerRegion: 32, commandsPerClient: 400, conflictRate: 2 } as const;

/** An input of process 1 from the wire: a message from a peer, or a client command (`from` 0). */
export interface ReplayInput {
  readonly from: number;
  readonly item: Message | Command;
}

/** Inputs of process 1 kept for the replica replay. */
const REPLAY_INPUTS_MAX = 120_000;

/** Samples of durations (ms) per kind. */
class Samples {
  readonly byKind = new Map<string, number[]>();

  add(kind: string, ms: number): void {
    let list = this.byKind.get(kind);
    if (list === undefined) this.byKind.set(kind, (list = []));
    list.push(ms);
  }
}

/** Mean of the fastest 99% of `values` (ms), minus `overheadMs`, in nanoseconds (never negative). */
function trimmedMeanNs(values: readonly number[], overheadMs: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const keep = Math.max(1, Math.floor(sorted.length * 0.99));
  let sum = 0;
  for (let i = 0; i < keep; i++) sum += sorted[i]!;
  return Math.max(0, Math.round((sum / keep - overheadMs) * 1e6 * 10) / 10);
}

/** What one call to performance.now() pair costs here (the floor of every measurement). */
function timingOverheadMs(): number {
  const values: number[] = [];
  for (let i = 0; i < 200_000; i++) {
    const start = performance.now();
    values.push(performance.now() - start);
  }
  values.sort((a, b) => a - b);
  return values[values.length >> 1]!;
}

/** Executor calls: kind, duration, how many parts it executed and the search work it did (`Executor.workDone`). */
export interface ExecutorCall {
  readonly kind: string;
  readonly ms: number;
  readonly executed: number;
  readonly units?: number;
}

/** Everything one instrumented run observed. */
class Recorder {
  readonly handle = new Samples();
  readonly executor: ExecutorCall[] = [];
  /** A few messages of each kind, for the codec measurements. */
  readonly messages = new Map<string, Message[]>();
  readonly commands: Command[] = [];
  readonly replies: ExecutionResult[][] = [];
  /** Process 1's inputs from the wire (not its self-deliveries), in order, for the replica replay. */
  readonly inputs: ReplayInput[] = [];

  sample(msg: Message): void {
    let list = this.messages.get(msg.type);
    if (list === undefined) this.messages.set(msg.type, (list = []));
    if (list.length < 256) list.push(msg);
  }
}

class TimedProcess<Msg extends Message, Info> implements Process<Msg, Info> {
  readonly id: ProcessId;
  readonly timers: readonly TimerSpec[];
  readonly executed?: (dots: readonly Dot[], now: number) => void;

  constructor(
    private readonly inner: Process<Msg, Info>,
    private readonly recorder: Recorder,
  ) {
    this.id = inner.id;
    this.timers = inner.timers;
    if (inner.executed !== undefined) this.executed = (dots, now) => inner.executed!(dots, now);
  }

  discover(sorted: readonly ProcessId[]): void {
    this.inner.discover(sorted);
  }

  submit(cmd: Command, now: number): void {
    if (this.id === 1 && this.recorder.inputs.length < REPLAY_INPUTS_MAX) this.recorder.inputs.push({ from: 0, item: cmd });
    const start = performance.now();
    this.inner.submit(cmd, now);
    this.recorder.handle.add('submit', performance.now() - start);
    if (this.recorder.commands.length < 256) this.recorder.commands.push(cmd);
  }

  handle(from: ProcessId, msg: Msg, now: number): void {
    if (this.id === 1 && from !== 1 && this.recorder.inputs.length < REPLAY_INPUTS_MAX) this.recorder.inputs.push({ from, item: msg });
    const start = performance.now();
    this.inner.handle(from, msg, now);
    this.recorder.handle.add(msg.type, performance.now() - start);
    this.recorder.sample(msg);
  }

  onTimer(timer: string, now: number): void {
    const start = performance.now();
    this.inner.onTimer(timer, now);
    this.recorder.handle.add(`timer:${timer}`, performance.now() - start);
  }

  drain(): readonly Output<Msg, Info>[] {
    return this.inner.drain();
  }

  metrics(): ProtocolMetrics {
    return this.inner.metrics();
  }
}

class TimedExecutor<Info> implements Executor<Info> {
  private startMs = 0;
  private kind = 'info';
  private workBefore = 0;
  readonly drainShardInfos?: () => readonly Info[];
  readonly drainExecuted?: () => readonly Dot[];

  constructor(
    private readonly inner: Executor<Info>,
    private readonly recorder: Recorder,
  ) {
    if (inner.drainShardInfos !== undefined) this.drainShardInfos = () => inner.drainShardInfos!();
    if (inner.drainExecuted !== undefined) this.drainExecuted = () => inner.drainExecuted!();
  }

  handle(info: Info, now: number): void {
    this.kind = infoKind(info);
    this.workBefore = this.inner.workDone?.() ?? 0;
    this.startMs = performance.now();
    this.inner.handle(info, now);
  }

  drain(): readonly ExecutionResult[] {
    const results = this.inner.drain();
    const ms = performance.now() - this.startMs;
    const units = (this.inner.workDone?.() ?? 0) - this.workBefore;
    this.recorder.executor.push({ kind: this.kind, ms, executed: results.length, units });
    if (results.length > 0 && this.recorder.replies.length < 256) this.recorder.replies.push([...results]);
    return results;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function instrumented(protocol: ProtocolDefinition<any, any>, recorder: Recorder): ProtocolDefinition<any, any> {
  return {
    ...protocol,
    createProcess: (id, config) => new TimedProcess(protocol.createProcess(id, config), recorder),
    createExecutor: (id, config, shard) => new TimedExecutor(protocol.createExecutor(id, config, shard), recorder),
  };
}

function run(name: ProtocolName, options: CalibrateOptions, commandsPerClient: number, recorder: Recorder): SimulationResult {
  const protocol = protocolByName(name);
  return new Simulation({
    protocol: instrumented(protocol, recorder),
    config: makeConfig(name, { n: CALIBRATION_REGIONS.length }),
    planet: builtInPlanet('gcp'),
    processRegions: CALIBRATION_REGIONS,
    clientRegions: CALIBRATION_REGIONS,
    clientsPerRegion: options.clientsPerRegion,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient, conflictRate: options.conflictRate },
    seed: 1,
  }).run();
}

/** The runtime's codec: msgpackr records in sequential mode, one Packr per direction. */
function connectionPackr(): Packr {
  return new Packr({ useRecords: true, sequential: true, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
}

/** Encode and decode costs (ns) and encoded size of `values`, cycled `rounds` times. */
function codecCost(values: readonly unknown[], rounds: number, overheadMs: number): { encodeNs: number; decodeNs: number; bytes: number } {
  const encoder = connectionPackr();
  const decoder = connectionPackr();
  const encodeMs: number[] = [];
  const decodeMs: number[] = [];
  let bytes = 0;
  for (let round = 0; round < rounds; round++) {
    for (const value of values) {
      const t0 = performance.now();
      const encoded = encoder.pack(value);
      const t1 = performance.now();
      decoder.unpack(encoded);
      const t2 = performance.now();
      encodeMs.push(t1 - t0);
      decodeMs.push(t2 - t1);
      // After the first round every record structure is known, as on a long-lived connection.
      if (round === rounds - 1) bytes += encoded.length;
    }
  }
  const warm = Math.floor(encodeMs.length / 4);
  return {
    encodeNs: trimmedMeanNs(encodeMs.slice(warm), overheadMs),
    decodeNs: trimmedMeanNs(decodeMs.slice(warm), overheadMs),
    bytes: Math.round(bytes / values.length),
  };
}

/** The codec's cost per payload byte each way: commands with real payloads of two sizes, slope. */
function perByteCost(overheadMs: number): { encodePerByteNs: number; decodePerByteNs: number } {
  const withPayload = (bytes: number) =>
    Array.from({ length: 64 }, (_, i) => ({ ...makeCommand(makeRifl(1, i + 1), [{ key: `k${i}`, ops: [{ op: 'put', value: `v${i}` }] }], bytes), payload: new Uint8Array(bytes).fill(i) }));
  const small = codecCost(withPayload(256), 200, overheadMs);
  const large = codecCost(withPayload(16_384), 200, overheadMs);
  const span = 16_384 - 256;
  const round = (ns: number) => Math.max(0, Math.round((ns / span) * 10000) / 10000);
  return { encodePerByteNs: round(large.encodeNs - small.encodeNs), decodePerByteNs: round(large.decodeNs - small.decodeNs) };
}

function countByKind(calls: readonly ExecutorCall[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call.kind, (counts.get(call.kind) ?? 0) + 1);
  return counts;
}

/**
 * Executor cost as `executeNs[kind] + executedNs · parts executed + executeUnitNs · units of search
 * work`, fitted by least squares over every call (one intercept per info kind, shared slopes), after
 * dropping each kind's slowest 1%. The fit keeps each kind's mean cost exact, which is what
 * throughput depends on. The slopes come from the calls' deviations from their kind's means (so the
 * intercepts do not bias them), non-negative (cli/calibrate-live.ts `fitNonNegative`): a slope the
 * data would make negative (calls that execute are cheaper than calls that wait) is 0. When neither
 * the parts executed nor the units vary within a kind (FPaxos: one part per slot, no search), the
 * slopes are not identifiable and the whole cost goes to the parts executed.
 */
export function fitExecutor(calls: readonly ExecutorCall[], overheadMs: number): { executeNs: Map<string, number>; executedNs: number; executeUnitNs: number } {
  const byKind = new Map<string, ExecutorCall[]>();
  for (const call of calls) {
    let list = byKind.get(call.kind);
    if (list === undefined) byKind.set(call.kind, (list = []));
    list.push(call);
  }
  const kept = new Map<string, { meanMs: number; meanExecuted: number; meanUnits: number }>();
  const centered: Array<{ x: number[]; y: number }> = [];
  let totalMs = 0;
  let totalExecuted = 0;
  for (const [kind, list] of byKind) {
    const sortedCalls = [...list].sort((a, b) => a.ms - b.ms).slice(0, Math.max(1, Math.floor(list.length * 0.99)));
    const meanMs = sortedCalls.reduce((sum, c) => sum + c.ms, 0) / sortedCalls.length - overheadMs;
    const meanExecuted = sortedCalls.reduce((sum, c) => sum + c.executed, 0) / sortedCalls.length;
    const meanUnits = sortedCalls.reduce((sum, c) => sum + (c.units ?? 0), 0) / sortedCalls.length;
    for (const c of sortedCalls) centered.push({ x: [c.executed - meanExecuted, (c.units ?? 0) - meanUnits], y: c.ms - overheadMs - meanMs });
    totalMs += Math.max(0, meanMs) * sortedCalls.length;
    totalExecuted += meanExecuted * sortedCalls.length;
    kept.set(kind, { meanMs: Math.max(0, meanMs), meanExecuted, meanUnits });
  }
  const varies = (j: number) => centered.some((p) => p.x[j] !== 0);
  let slopeMs = 0;
  let unitMs = 0;
  if (varies(0) || varies(1)) [slopeMs, unitMs] = fitNonNegative(centered, 2) as [number, number];
  else slopeMs = totalExecuted > 0 ? totalMs / totalExecuted : 0;
  const executeNs = new Map<string, number>();
  for (const [kind, k] of kept) executeNs.set(kind, Math.round(Math.max(0, k.meanMs - slopeMs * k.meanExecuted - unitMs * k.meanUnits) * 1e7) / 10);
  return { executeNs, executedNs: Math.round(slopeMs * 1e7) / 10, executeUnitNs: Math.round(unitMs * 1e7) / 10 };
}

/** Items for the transport streams: the sampled messages interleaved in the proportions the run sent them. */
function transportSamples(recorder: Recorder, sent: ReadonlyMap<string, number>): TransportSamples {
  const length = 2048;
  let total = 0;
  for (const [kind, count] of sent) if (recorder.messages.has(kind)) total += count;
  const placed: Array<{ at: number; msg: Message }> = [];
  for (const [kind, count] of sent) {
    const samples = recorder.messages.get(kind);
    if (samples === undefined || samples.length === 0) continue;
    const copies = Math.max(1, Math.round((length * count) / total));
    // Evenly spread over the cycle: copy i of a kind sits at (i + 0.5) / copies.
    for (let i = 0; i < copies; i++) placed.push({ at: (i + 0.5) / copies, msg: samples[i % samples.length]! });
  }
  placed.sort((a, b) => a.at - b.at || (a.msg.type < b.msg.type ? -1 : a.msg.type > b.msg.type ? 1 : 0));
  return {
    messages: placed.map((p) => p.msg),
    submits: recorder.commands.map((cmd) => ({ cmd, retry: false })),
    replies: recorder.replies.map((results) => ({ rifl: results[0]!.rifl, results })),
    inputs: recorder.inputs,
  };
}

function sorted<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/** Measures one protocol. */
export function calibrateProtocol(name: ProtocolName, options: CalibrateOptions, overheadMs: number): ProtocolCosts {
  // Warm-up: a shorter run whose figures are thrown away.
  run(name, options, Math.max(20, Math.floor(options.commandsPerClient / 4)), new Recorder());
  const recorder = new Recorder();
  const result = run(name, options, options.commandsPerClient, recorder);
  options.onSamples?.(name, transportSamples(recorder, result.messagesByType));

  const handleNs: Array<[string, number]> = [];
  const samples: Array<[string, number]> = [];
  for (const [kind, values] of recorder.handle.byKind) {
    handleNs.push([kind, trimmedMeanNs(values, overheadMs)]);
    samples.push([kind, values.length]);
  }

  const { executeNs, executedNs, executeUnitNs } = fitExecutor(recorder.executor, overheadMs);
  for (const [kind, count] of countByKind(recorder.executor)) samples.push([`execute:${kind}`, count]);
  const units = recorder.executor.reduce((sum, c) => sum + (c.units ?? 0), 0);
  if (units > 0) samples.push(['execute:units', units]);

  // Codec warm-up: every kind once, figures thrown away, so the first kind measured is not the slowest.
  for (const messages of recorder.messages.values()) codecCost(messages, 8, overheadMs);
  codecCost(recorder.commands, 8, overheadMs);
  const encodeNs: Array<[string, number]> = [];
  const decodeNs: Array<[string, number]> = [];
  const wireBytes: Array<[string, number]> = [];
  const measure = (kind: string, values: readonly unknown[]) => {
    if (values.length === 0) return;
    const cost = codecCost(values, Math.max(4, Math.ceil(8192 / values.length)), overheadMs);
    encodeNs.push([kind, cost.encodeNs]);
    decodeNs.push([kind, cost.decodeNs]);
    wireBytes.push([kind, cost.bytes]);
  };
  for (const [kind, messages] of recorder.messages) measure(kind, messages);
  measure('submit', recorder.commands);
  measure(
    'reply',
    recorder.replies.map((results) => ({ rifl: results[0]!.rifl, results })),
  );
  return {
    handleNs: sorted(handleNs),
    decodeNs: sorted(decodeNs.filter(([kind]) => kind !== 'reply')),
    encodeNs: sorted(encodeNs.filter(([kind]) => kind !== 'submit')),
    wireBytes: sorted(wireBytes),
    executeNs: sorted(executeNs),
    executedNs,
    ...(units > 0 ? { executeUnitNs } : {}),
    samples: sorted(samples),
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Calibrates every protocol asked for and returns the profile. */
export function calibrate(options: CalibrateOptions): CpuProfile {
  const overheadMs = timingOverheadMs();
  const protocols: Partial<Record<ProtocolName, ProtocolCosts>> = {};
  for (const name of options.protocols) {
    options.log?.(`calibrating ${name} …`);
    protocols[name] = calibrateProtocol(name, options, overheadMs);
  }
  const perByte = perByteCost(overheadMs);
  const cpuList = cpus();
  return {
    format: 'orrery-cpu-profile',
    version: 1,
    machine: {
      cpu: cpuList[0]?.model ?? 'unknown',
      logicalCpus: cpuList.length,
      memoryBytes: totalmem(),
      platform: `${process.platform}/${process.arch}`,
      node: process.version,
      timingOverheadNs: Math.round(overheadMs * 1e6),
      load: {
        regions: CALIBRATION_REGIONS,
        clientsPerRegion: options.clientsPerRegion,
        commandsPerClient: options.commandsPerClient,
        conflictRate: options.conflictRate,
      },
    },
    commit: gitCommit(),
    date: new Date().toISOString(),
    command: options.command,
    ...perByte,
    protocols,
  };
}

/** CPU time (ns) of one client drawing its next command with the default workload, as the runtime's clients do. */
export function clientCommandCost(conflictRate: number): number {
  const draw = (count: number) => {
    const workload = new ClientWorkload(1, { ...WORKLOAD_DEFAULTS, conflictRate, commandsPerClient: count }, new Rng('calibrate').fork('client/1'), undefined);
    const start = process.cpuUsage();
    while (workload.next() !== undefined);
    const used = process.cpuUsage(start);
    return (used.user + used.system) * 1e3;
  };
  draw(50_000); // warm-up
  const count = 400_000;
  return Math.round((draw(count) / count) * 10) / 10;
}

/** Mean of `costs` over the kinds of `items` (protocol messages), each counted as often as it occurs. */
function mixMean(items: readonly unknown[], costs: Readonly<Record<string, number>>): number {
  const values = Object.values(costs);
  const fallback = values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  let sum = 0;
  for (const item of items) sum += costs[(item as Message).type] ?? fallback;
  return items.length === 0 ? 0 : sum / items.length;
}

const r1 = (ns: number) => Math.round(ns * 10) / 10;

/** The profile's transport terms from one protocol's measurement (see TransportCosts in sim/cpu.ts). */
export function transportCosts(measured: TransportMeasurement, samples: TransportSamples, costs: ProtocolCosts, clientCommandNs: number): TransportCosts {
  return {
    turnNs: r1(measured.msgs.turnNs),
    wakeNs: r1((measured.msgs.wake?.recvNs ?? 0) + (measured.msgs.wake?.sendNs ?? 0)),
    sendFrameNs: measured.msgs.send.frameNs,
    sendMessageNs: measured.msgs.send.messageNs,
    sendCodecNs: r1(mixMean(samples.messages, costs.encodeNs)),
    recvFrameNs: measured.msgs.recv.frameNs,
    recvMessageNs: measured.msgs.recv.messageNs,
    recvCodecNs: r1(mixMean(samples.messages, costs.decodeNs)),
    submitSendFrameNs: measured.submit.send.frameNs,
    submitSendMessageNs: measured.submit.send.messageNs,
    submitRecvFrameNs: measured.submit.recv.frameNs,
    submitRecvMessageNs: measured.submit.recv.messageNs,
    replySendFrameNs: measured.reply.send.frameNs,
    replySendMessageNs: measured.reply.send.messageNs,
    replyRecvFrameNs: measured.reply.recv.frameNs,
    replyRecvMessageNs: measured.reply.recv.messageNs,
    clientCommandNs,
  };
}

/**
 * The whole calibration: the protocol code in-process ({@link calibrate}), then, per protocol, the
 * runtime's transport through its own writer and reader with the messages that run sent
 * (cli/calibrate-transport.ts), a client's command draw, and, with `replica`, the residual of a
 * real replica process replaying process 1's inputs (cli/calibrate-replica.ts; experimental, used
 * only when the replay is faithful).
 */
export async function calibrateWithTransport(
  options: CalibrateOptions,
  transport: TransportOptions = {},
  replica = false,
  replicaOptions: ReplicaOptions = {},
  /** Fit the residual on the live runtime instead (cli/calibrate-live.ts); excludes `replica`. */
  live?: Omit<LiveOptions, 'log'>,
): Promise<CpuProfile> {
  invariant(!(replica && live !== undefined), 'the replica replay and the live calibration both fit the replica residual: pick one');
  const samples = new Map<ProtocolName, TransportSamples>();
  const loadBefore = loadavg()[0]!;
  const profile = calibrate({ ...options, onSamples: (name, s) => samples.set(name, s) });
  const clientCommandNs = clientCommandCost(options.conflictRate);
  const protocols: Partial<Record<ProtocolName, ProtocolCosts>> = {};
  for (const name of options.protocols) {
    options.log?.(`calibrating ${name}'s transport …`);
    const costs = profile.protocols[name]!;
    const sample = samples.get(name)!;
    const measured = await measureTransport(name, CALIBRATION_REGIONS.length, sample, transport);
    const withTransport: ProtocolCosts = { ...costs, transport: transportCosts(measured, sample, costs, clientCommandNs), transportDetail: measured };
    if (live !== undefined) {
      options.log?.(`calibrating ${name} on the live runtime (${live.clients.join(', ')} clients, ${live.durationMs / 1000} s each) …`);
      const fitted = await calibrateLive(name, costs, withTransport.transport!, { ...live, log: (line) => options.log?.(line) });
      protocols[name] = { ...withTransport, replica: fitted.replica, replicaDetail: fitted.detail };
    } else if (replica) {
      options.log?.(`calibrating ${name}'s replica process …`);
      const replay = await measureReplica(name, { ...profile, protocols: { [name]: withTransport } }, sample.inputs, replicaOptions);
      if (replay.faithful) protocols[name] = { ...withTransport, replica: { inputNs: replay.inputNs, frameNs: replay.frameNs }, replicaDetail: replay };
      else {
        // An unfaithful replay measures a stalled replica, not the protocol's work: keep it for people, charge nothing.
        options.log?.(`${name}: the replica replay executed ${replay.executed} results against the twin's ${replay.twinExecuted}; its residual is not used`);
        protocols[name] = { ...withTransport, replicaDetail: replay };
      }
    } else protocols[name] = withTransport;
  }
  return {
    ...profile,
    machine: { ...profile.machine, loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 } },
    protocols,
  };
}
