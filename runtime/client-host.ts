/**
 * A client process: a group of clients, each generating the simulator's workload (same seed, same
 * commands: `ClientWorkload` forked as `client/<id>`), in closed loop (one command outstanding, the
 * next one on reply) or open loop (a fixed rate whatever the replies).
 *
 * Each client talks to the first live process of its preference list (closest first). A command not
 * answered within `timeoutMs`, or whose connection closed, is re-submitted with the same rifl to the
 * next live process, flagged `retry` so that process answers it from results it already executed.
 * Latency runs from the first submission to the reply, as in the simulator.
 *
 * WAN emulation on the client side: submissions wait the one-way delay from the client's region to
 * the process's before they are written, and replies wait the same delay before they count.
 */
import { connect, type Socket } from 'node:net';
import type { Command } from '../core/command.js';
import { riflClient, type ProcessId, type Rifl } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import type { ExecutionResult } from '../core/process.js';
import { ClientWorkload, ZipfTable, type WorkloadOptions } from '../sim/workload.js';
import { frameCheck, plainMessageCheck, type WireFrame } from './schema.js';
import { BatchWriter, nowMs, readFrames, type Log } from './transport.js';

export interface ClientGroupSpec {
  readonly group: number;
  readonly clients: ReadonlyArray<{ readonly id: number; readonly region: string; readonly targets: readonly ProcessId[] }>;
  readonly addresses: ReadonlyArray<{ readonly id: ProcessId; readonly host: string; readonly port: number }>;
  /** Per client region, the one-way delay in ms to each process (index id−1); absent = none. */
  readonly delayMsTo: Readonly<Record<string, readonly number[]>>;
  readonly workload: WorkloadOptions;
  readonly seed: string | number;
  /** Stop issuing after this long (null: after commandsPerClient). */
  readonly durationMs: number | null;
  /** Open loop: commands per second per client (null: closed loop). */
  readonly openLoopRate: number | null;
  /** Re-submit a command unanswered for this long. */
  readonly timeoutMs: number;
  /** After issuing stops, wait this long at most for outstanding replies. */
  readonly graceMs: number;
  readonly recordHistory: boolean;
  readonly n: number;
  readonly frameBytesMax: number;
}

/** One completed command, as the simulator's HistoryEntry (times in absolute ms). */
export interface ClientHistoryEntry {
  readonly client: number;
  readonly rifl: Rifl;
  readonly region: string;
  readonly process: ProcessId;
  readonly command: Command;
  readonly invokeMs: number;
  readonly completeMs: number;
  readonly results: readonly ExecutionResult[];
}

export interface ClientReport {
  readonly group: number;
  readonly pid: number;
  readonly completed: number;
  readonly submitted: number;
  readonly retries: number;
  /** Latencies in whole microseconds, per client region. */
  readonly latencyUsByRegion: Readonly<Record<string, number[]>>;
  readonly history: readonly ClientHistoryEntry[] | undefined;
  /** Commands submitted and never answered. */
  readonly pending: ReadonlyArray<{ client: number; rifl: Rifl; command: Command; invokeMs: number }>;
  readonly firstInvokeMs: number;
  readonly lastReplyMs: number;
  readonly cpuUserMs: number;
  /** Voluntary context switches: how often the process slept waiting for input (and woke up). */
  readonly sleeps: number;
  readonly cpuSystemMs: number;
  /** CPU ms (user + system) and sleeps the process had spent when `go` came: start-up, not the run. */
  readonly cpuMsAtGo: number;
  readonly sleepsAtGo: number;
  /** Commands completed in each second since `go` (index 0: the first second). */
  readonly completedPerSecond: readonly number[];
}

/** Limit on the seconds `completedPerSecond` counts (a day). */
const SECONDS_COUNTED_MAX = 86_400;

interface Outstanding {
  readonly command: Command;
  readonly invokeMs: number;
  readonly invokeWallMs: number;
  target: ProcessId;
  deadlineMs: number;
}

interface ClientState {
  readonly id: number;
  readonly region: string;
  readonly targets: readonly ProcessId[];
  readonly workload: ClientWorkload;
  readonly outstanding: Map<Rifl, Outstanding>;
  done: boolean;
}

/** Wall-clock ms with sub-ms precision, comparable across processes of one machine. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

export class ClientGroup {
  private readonly clients: ClientState[] = [];
  private readonly byId = new Map<number, ClientState>();
  private readonly links = new Map<string, { writer: BatchWriter; socket: Socket; process: ProcessId }>();
  private readonly dead = new Set<ProcessId>();
  private readonly latencyUs: Record<string, number[]> = {};
  private readonly history: ClientHistoryEntry[] | undefined;
  private readonly check = frameCheck(plainMessageCheck, 64);
  private readonly timers: NodeJS.Timeout[] = [];
  private completed = 0;
  private submitted = 0;
  private retries = 0;
  private firstInvokeMs = Number.POSITIVE_INFINITY;
  private lastReplyMs = 0;
  private issuing = false;
  private finish: ((report: ClientReport) => void) | undefined;
  private cpuMsAtGo = 0;
  private sleepsAtGo = 0;
  private goMs = 0;
  private readonly completedPerSecond: number[] = [];

  constructor(
    private readonly spec: ClientGroupSpec,
    private readonly log: Log,
  ) {
    const rng = new Rng(spec.seed);
    const zipf = spec.workload.zipfTheta === undefined ? undefined : new ZipfTable(spec.workload.zipfTheta, spec.workload.zipfKeys);
    for (const client of spec.clients) {
      const state: ClientState = {
        id: client.id,
        region: client.region,
        targets: client.targets,
        workload: new ClientWorkload(client.id, spec.workload, rng.fork(`client/${client.id}`), zipf),
        outstanding: new Map(),
        done: false,
      };
      this.clients.push(state);
      this.byId.set(client.id, state);
      this.latencyUs[client.region] ??= [];
    }
    this.history = spec.recordHistory ? [] : undefined;
  }

  /** Opens the connection each client starts with. */
  async connect(): Promise<void> {
    await Promise.all(this.clients.map((c) => this.link(c.region, c.targets[0]!)));
  }

  /** Runs the workload; resolves with the report when every client is done. */
  run(): Promise<ClientReport> {
    const cpuAtGo = process.cpuUsage();
    this.cpuMsAtGo = (cpuAtGo.user + cpuAtGo.system) / 1000;
    this.sleepsAtGo = process.resourceUsage().voluntaryContextSwitches;
    return new Promise((resolve) => {
      this.finish = resolve;
      this.issuing = true;
      const start = nowMs();
      this.goMs = start;
      if (this.spec.durationMs !== null) this.timers.push(setTimeout(() => this.stopIssuing(), this.spec.durationMs));
      this.timers.push(setInterval(() => this.checkTimeouts(), Math.max(5, Math.min(100, this.spec.timeoutMs / 4))));
      for (const client of this.clients) {
        if (this.spec.openLoopRate === null) this.issue(client);
        else {
          const everyMs = 1000 / this.spec.openLoopRate;
          let next = start;
          const tick = () => {
            if (!this.issuing || client.done) return;
            const now = nowMs();
            while (next <= now && this.issuing && !client.done) {
              this.issue(client);
              next += everyMs;
            }
            this.timers.push(setTimeout(tick, Math.max(0, next - nowMs())));
          };
          tick();
        }
      }
      this.maybeFinish();
    });
  }

  /** Stops issuing; outstanding commands get `graceMs` to complete. */
  stopIssuing(): void {
    if (!this.issuing) return;
    this.issuing = false;
    this.timers.push(setTimeout(() => this.report(), this.spec.graceMs));
    this.maybeFinish();
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    for (const { socket } of this.links.values()) socket.destroy();
  }

  private link(region: string, process: ProcessId): Promise<BatchWriter> {
    const key = `${region}/${process}`;
    const existing = this.links.get(key);
    if (existing !== undefined && !existing.writer.isClosed) return Promise.resolve(existing.writer);
    const address = this.spec.addresses[process - 1]!;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.host, port: address.port });
      socket.setNoDelay(true);
      const delayMs = this.spec.delayMsTo[region]?.[process - 1] ?? 0;
      const describe = () => `process ${process}`;
      const writer = new BatchWriter({ socket, kind: 'submit', field: 'cmds', delayMs, describe, log: this.log, frameBytesMax: this.spec.frameBytesMax });
      this.links.set(key, { writer, socket, process });
      socket.once('connect', () => {
        writer.sendFrame({ k: 'hello', role: 'client', id: this.spec.group });
        resolve(writer);
      });
      socket.once('error', (error) => reject(error));
      readFrames({
        socket,
        describe,
        check: this.check,
        frameBytesMax: this.spec.frameBytesMax,
        log: this.log,
        onFrame: (value) => {
          const frame = value as WireFrame;
          if (frame.k !== 'reply') return `a process may send reply frames, not '${frame.k}'`;
          const deliver = () => {
            for (const reply of frame.replies) this.onReply(reply.rifl, reply.results as ExecutionResult[], process);
          };
          if (delayMs > 0) setTimeout(deliver, Math.max(0, Math.floor(delayMs - 0.5)));
          else deliver();
          return undefined;
        },
        onClose: () => this.onLinkClosed(key, process),
      });
    });
  }

  private onLinkClosed(key: string, process: ProcessId): void {
    this.links.delete(key);
    if (this.finish === undefined) return;
    if (!this.dead.has(process)) this.log(`lost the connection to process ${process}; its commands go to the next live process`);
    this.dead.add(process);
    const now = nowMs();
    for (const client of this.clients) for (const outstanding of client.outstanding.values()) if (outstanding.target === process) this.failover(client, outstanding, now);
  }

  private send(client: ClientState, outstanding: Outstanding, retry: boolean): void {
    this.link(client.region, outstanding.target).then(
      (writer) => writer.send({ cmd: outstanding.command, retry }),
      () => {
        this.dead.add(outstanding.target);
        // With every process unreachable, wait for the timeout instead of spinning.
        if (client.targets.some((p) => !this.dead.has(p))) this.failover(client, outstanding, nowMs());
      },
    );
  }

  private issue(client: ClientState): void {
    if (!this.issuing) return;
    const command = client.workload.next();
    if (command === undefined) {
      client.done = true;
      this.maybeFinish();
      return;
    }
    const now = nowMs();
    const target = client.targets.find((p) => !this.dead.has(p)) ?? client.targets[0]!;
    const outstanding: Outstanding = { command, invokeMs: now, invokeWallMs: wallMs(), target, deadlineMs: now + this.spec.timeoutMs };
    client.outstanding.set(command.rifl, outstanding);
    this.submitted++;
    if (outstanding.invokeWallMs < this.firstInvokeMs) this.firstInvokeMs = outstanding.invokeWallMs;
    this.send(client, outstanding, false);
  }

  private checkTimeouts(): void {
    const now = nowMs();
    for (const client of this.clients) {
      for (const outstanding of client.outstanding.values()) if (outstanding.deadlineMs <= now) this.failover(client, outstanding, now);
    }
  }

  /** Re-submits `outstanding` to the next live process of the client's list. */
  private failover(client: ClientState, outstanding: Outstanding, now: number): void {
    const targets = client.targets;
    const from = targets.indexOf(outstanding.target);
    let next = outstanding.target;
    for (let step = 1; step <= targets.length; step++) {
      const candidate = targets[(from + step) % targets.length]!;
      if (!this.dead.has(candidate)) {
        next = candidate;
        break;
      }
    }
    outstanding.target = next;
    outstanding.deadlineMs = now + this.spec.timeoutMs;
    this.retries++;
    this.send(client, outstanding, true);
  }

  private onReply(rifl: Rifl, results: readonly ExecutionResult[], process: ProcessId): void {
    const client = this.byId.get(riflClient(rifl));
    const outstanding = client?.outstanding.get(rifl);
    if (client === undefined || outstanding === undefined) return; // a duplicate answer to a retry
    client.outstanding.delete(rifl);
    const now = nowMs();
    const completeWallMs = wallMs();
    this.completed++;
    const second = Math.min(SECONDS_COUNTED_MAX - 1, Math.floor((now - this.goMs) / 1000));
    while (this.completedPerSecond.length <= second) this.completedPerSecond.push(0);
    this.completedPerSecond[second]!++;
    this.lastReplyMs = Math.max(this.lastReplyMs, completeWallMs);
    this.latencyUs[client.region]!.push(Math.round((now - outstanding.invokeMs) * 1000));
    this.history?.push({
      client: client.id,
      rifl,
      region: client.region,
      process,
      command: outstanding.command,
      invokeMs: outstanding.invokeWallMs,
      completeMs: completeWallMs,
      results,
    });
    if (this.spec.openLoopRate === null) this.issue(client);
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finish === undefined) return;
    for (const client of this.clients) {
      if (client.outstanding.size > 0) return;
      if (this.issuing && !client.done) return;
    }
    this.report();
  }

  private report(): void {
    const finish = this.finish;
    if (finish === undefined) return;
    this.finish = undefined;
    this.issuing = false;
    const pending: Array<{ client: number; rifl: Rifl; command: Command; invokeMs: number }> = [];
    for (const client of this.clients) {
      for (const [rifl, o] of client.outstanding) pending.push({ client: client.id, rifl, command: o.command, invokeMs: o.invokeWallMs });
    }
    const cpu = process.cpuUsage();
    finish({
      group: this.spec.group,
      pid: process.pid,
      completed: this.completed,
      submitted: this.submitted,
      retries: this.retries,
      latencyUsByRegion: this.latencyUs,
      history: this.history,
      pending,
      firstInvokeMs: this.firstInvokeMs === Number.POSITIVE_INFINITY ? 0 : this.firstInvokeMs,
      lastReplyMs: this.lastReplyMs,
      cpuUserMs: cpu.user / 1000,
      sleeps: process.resourceUsage().voluntaryContextSwitches,
      cpuSystemMs: cpu.system / 1000,
      cpuMsAtGo: this.cpuMsAtGo,
      sleepsAtGo: this.sleepsAtGo,
      completedPerSecond: this.completedPerSecond,
    });
  }
}
