/**
 * The replica host: one OS process that drives one {@link Replica} over TCP, as the simulator drives
 * it over its event queue (sim/simulation.ts): the same protocol object, executor(s) and client
 * bookkeeping, with the runtime owning time, sockets, timers and threads.
 *
 * - Listens on its cluster address; every connection starts with a `hello` naming a peer process or
 *   a client process, then carries `msgs`/`hb` (peers) or `submit` (clients) frames only.
 * - Dials every other replica; that outgoing link carries this process's messages to the peer
 *   (batched per event-loop turn, delayed by the one-way latency under WAN emulation) and a
 *   heartbeat every `heartbeatMs`. A dropped link is re-dialled every `redialMs`.
 * - Each declared protocol timer runs on `setInterval`; the failure detector's suspicions go to
 *   `Replica.suspect` / `Replica.unsuspect` (and so to `Process.suspect?` / `unsuspect?`).
 * - Replies go back on the connection the command came in on. A client that re-submits a rifl after
 *   a timeout (`retry`) is answered from the results this process already executed for that rifl,
 *   or, when some keys have not run here yet, as soon as they do.
 * - While any peer link is blocked by back-pressure, client sockets are paused: new work waits
 *   instead of piling up in memory.
 * - The membership service (core/membership.ts) always runs: its messages travel with the protocol's,
 *   its timer with the protocol timers (`Replica.timers`). With `removeAfterMs`, a peer the failure
 *   detector has suspected that long is proposed for removal. An `admin` connection (`orrery admin`)
 *   asks for a removal or for the configuration. A replica that learns it was removed logs one line
 *   and stops serving: its timers stop, its client connections close (the clients re-submit to the
 *   next live replica) and new clients are turned away; it still answers admin status and its
 *   launcher's IPC.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Command } from '../core/command.js';
import type { Config } from '../core/config.js';
import { riflClient, type ProcessId, type Rifl } from '../core/ids.js';
import type { Configuration } from '../core/membership.js';
import { Replica, type ReplicaOutput } from '../core/replica.js';
import type { ExecutionResult, Executor, Message, ProtocolDefinition } from '../core/process.js';
import { sortByDistance } from '../core/quorum.js';
import { protocolByName } from '../protocols/index.js';
import type { Cluster } from './cluster.js';
import { ExecutorPool } from './executor-pool.js';
import { shardCodecFor } from './shard-channel.js';
import { FifoMap } from './fifo-map.js';
import { FailureDetector, type FailureDetectorOptions, type SuspicionEvent } from './failure-detector.js';
import { frameCheck, membershipMessageCheck, peerMessageCheck, plainMessageCheck, protocolMessageCheck, type AdminAnswer, type AdminRequest, type WireFrame } from './schema.js';
import { BatchWriter, nowMs, readFrames, type Log } from './transport.js';

/** Everything a replica process needs to start. Plain data: it crosses argv/IPC as JSON. */
export interface ReplicaSpec {
  readonly id: ProcessId;
  readonly protocol: string;
  readonly config: Config;
  readonly cluster: Cluster;
  /** One-way delay to each process (index id−1) in ms, for WAN emulation; all 0 for none. */
  readonly delayMsTo: readonly number[];
  /** Distance to each process (index id−1), to sort processes for `discover`. */
  readonly distanceTo: readonly number[];
  /** Executor shards on worker threads; 0 runs the executor(s) inline. */
  readonly workerShards: number;
  readonly failureDetector: FailureDetectorOptions;
  /** Keep every (rifl, key) this process executes, for the order checkers (tests, short runs). */
  readonly recordExecutions: boolean;
  readonly frameBytesMax: number;
  /**
   * Propose the removal of a peer the failure detector has suspected without a break for this long
   * (absent: only an admin's request removes).
   */
  readonly removeAfterMs?: number;
}

/** A replica's figures that are cheap to take, for sampling during a run (`orrery run --timeline`). */
export interface ReplicaSample {
  readonly id: ProcessId;
  /** Resident set size of the whole process. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Per-command state entries the protocol holds (`Process.heldState`), when it reports them. */
  readonly heldState: number | undefined;
  readonly executed: number;
  readonly epoch: number;
  readonly members: readonly ProcessId[];
  /** True once this replica learned that the configuration removed it. */
  readonly removed: boolean;
}

/** What a replica reports at the end of a run. */
export interface ReplicaStats {
  readonly id: ProcessId;
  readonly pid: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** Voluntary context switches: how often the process slept waiting for input (and woke up). */
  readonly sleeps: number;
  readonly messagesByType: Readonly<Record<string, number>>;
  readonly messagesSent: number;
  readonly framesSent: number;
  /** Of framesSent, those to peers (msgs, hello and heartbeats); the rest are replies to clients. */
  readonly peerFramesSent: number;
  readonly bytesSent: number;
  readonly refusedFrames: number;
  /** Partial results executed. */
  readonly executed: number;
  /** (rifl, key) in execution order, when recorded. */
  readonly executions: ReadonlyArray<readonly [Rifl, string]> | undefined;
  readonly suspicions: readonly SuspicionEvent[];
  readonly fastPath: number;
  readonly slowPath: number;
  readonly pendingCommands: number;
  readonly commandsSubmitted: number;
  readonly rssBytes: number;
  readonly heldState: number | undefined;
  /** The configuration this replica is at. */
  readonly epoch: number;
  readonly members: readonly ProcessId[];
  readonly removed: boolean;
  /** Protocol messages refused because their sender had been removed. */
  readonly refusedFromNonMembers: number;
}

/** Limit on admin connections waiting for a removal to be decided. */
const ADMIN_WAITERS_MAX = 64;

interface AdminWaiter {
  readonly process: ProcessId;
  readonly writer: BatchWriter;
}

/** Limit on executed rifls whose results are kept to answer client retries (and on retries waiting). */
const RETRY_CACHE_MAX = 200_000;

interface RetryWaiter {
  readonly keys: Set<string>;
  readonly results: ExecutionResult[];
  readonly writer: BatchWriter;
}

export class ReplicaHost {
  private readonly protocol: ProtocolDefinition<Message, unknown>;
  private readonly replica: Replica<Message, unknown>;
  private readonly pool: ExecutorPool | undefined;
  private readonly server: Server;
  private readonly peerWriters = new Map<ProcessId, BatchWriter>();
  private readonly clientWriters = new Map<number, BatchWriter>();
  private readonly sockets = new Set<Socket>();
  private readonly clientSockets = new Set<Socket>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly detector: FailureDetector;
  private readonly suspicions: SuspicionEvent[] = [];
  private readonly retryCache = new FifoMap<Rifl, ExecutionResult[]>(RETRY_CACHE_MAX);
  private readonly retryWaiters = new FifoMap<Rifl, RetryWaiter>(RETRY_CACHE_MAX);
  private readonly messagesByType = new Map<string, number>();
  private readonly executions: Array<readonly [Rifl, string]> | undefined;
  private readonly frameCheck;
  private blockedLinks = 0;
  private refused = 0;
  private executed = 0;
  private messagesSent = 0;
  private commandsSubmitted = 0;
  private running = false;
  private stopped = false;
  private readonly adminWaiters = new Set<AdminWaiter>();
  private stoppedServing = false;

  constructor(
    private readonly spec: ReplicaSpec,
    private readonly log: Log,
  ) {
    this.protocol = protocolByName(spec.protocol);
    const { id, config } = spec;
    const process = this.protocol.createProcess(id, config);
    const shardOf = this.protocol.shardOf;
    let executors: Executor<unknown>[];
    if (spec.workerShards > 0 && shardOf !== undefined && shardCodecFor(spec.protocol) !== undefined) {
      this.pool = new ExecutorPool({
        protocol: spec.protocol,
        process: id,
        config,
        shards: spec.workerShards,
        onResults: (results) => {
          this.replica.deliverResults(results);
          this.flush(this.replica.drain());
        },
        onError: (error) => this.fail(`executor worker failed: ${error.message}`),
        now: nowMs,
      });
      executors = this.pool.executors();
    } else {
      if (spec.workerShards > 0) {
        log(shardOf === undefined ? `${spec.protocol}'s executor cannot be split by key; it runs inline` : `${spec.protocol}'s executor has no worker-thread layout (runtime/shard-channel.ts); it runs inline`);
      }
      const shards = shardOf === undefined ? 1 : config.executorShards;
      executors = Array.from({ length: shards }, (_, shard) => this.protocol.createExecutor(id, config, shard));
    }
    this.executions = spec.recordExecutions ? [] : undefined;
    this.replica = new Replica<Message, unknown>(process, {
      executors,
      ...(shardOf === undefined ? {} : { shardOf }),
      onExecuted: (result) => this.onExecuted(result),
      // Retries of an instance that did not decide wait as long as a protocol's recovery does.
      membership: { n: config.n, f: config.f, retryMs: config.recoveryTimeoutMs, ...(spec.removeAfterMs === undefined ? {} : { removeAfterMs: spec.removeAfterMs }) },
      onReconfigure: (configuration) => this.onReconfigure(configuration),
    });
    const ids = spec.cluster.map((entry) => entry.id);
    process.discover(sortByDistance(id, ids, (to) => spec.distanceTo[to - 1]!));
    let messageCheck = protocolMessageCheck(spec.protocol, config.n);
    if (messageCheck === undefined) {
      log(`no message schemas for ${spec.protocol} in runtime/schema.ts: peer messages are checked structurally only`);
      messageCheck = plainMessageCheck;
    }
    this.frameCheck = frameCheck(peerMessageCheck(messageCheck, membershipMessageCheck(config.n, config.f)), config.n);
    this.detector = new FailureDetector(
      ids.filter((p) => p !== id),
      nowMs(),
      spec.failureDetector,
    );
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on the cluster address; resolves to the port taken. */
  listen(): Promise<number> {
    const entry = this.spec.cluster[this.spec.id - 1]!;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(entry.port, entry.bind, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : entry.port);
      });
    });
  }

  /** Dials every other replica; resolves once every link is up (or rejects after `timeoutMs`). */
  connectPeers(addresses: ReadonlyArray<{ id: ProcessId; host: string; port: number }>, timeoutMs = 15_000): Promise<void> {
    const deadline = nowMs() + timeoutMs;
    const others = addresses.filter((a) => a.id !== this.spec.id);
    return Promise.all(others.map((a) => this.dial(a, deadline))).then(() => undefined);
  }

  /** Starts the protocol timers and the failure detector. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.detector.reset(nowMs());
    if (this.removed) return;
    for (const spec of this.replica.timers) {
      this.timers.push(
        setInterval(() => {
          this.replica.onTimer(spec.timer, nowMs());
          this.flush(this.replica.drain());
        }, Math.max(1, spec.everyMs)),
      );
    }
    const fd = this.spec.failureDetector;
    this.timers.push(
      setInterval(() => {
        for (const writer of this.peerWriters.values()) writer.sendFrame({ k: 'hb' });
        for (const event of this.detector.check(nowMs())) this.onSuspicion(event);
      }, fd.heartbeatMs),
    );
  }

  stats(): ReplicaStats {
    const cpu = process.cpuUsage();
    const metrics = this.replica.process.metrics();
    let framesSent = 0;
    let bytesSent = 0;
    let peerFramesSent = 0;
    for (const writer of this.peerWriters.values()) peerFramesSent += writer.framesSent;
    // clientWriters maps every client to its connection's writer: count each writer once.
    for (const writer of new Set([...this.peerWriters.values(), ...this.clientWriters.values()])) {
      framesSent += writer.framesSent;
      bytesSent += writer.bytesSent;
    }
    return {
      id: this.spec.id,
      pid: process.pid,
      cpuUserMs: cpu.user / 1000,
      sleeps: process.resourceUsage().voluntaryContextSwitches,
      cpuSystemMs: cpu.system / 1000,
      messagesByType: Object.fromEntries([...this.messagesByType].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
      messagesSent: this.messagesSent,
      framesSent,
      peerFramesSent,
      bytesSent,
      refusedFrames: this.refused,
      executed: this.executed,
      executions: this.executions,
      suspicions: this.suspicions,
      fastPath: metrics.fastPath,
      slowPath: metrics.slowPath,
      pendingCommands: this.replica.pendingCount,
      commandsSubmitted: this.commandsSubmitted,
      rssBytes: process.memoryUsage.rss(),
      heldState: this.replica.process.heldState?.(),
      epoch: this.membership.epoch,
      members: this.membership.members,
      removed: this.removed,
      refusedFromNonMembers: this.replica.refusedFromNonMembers,
    };
  }

  /** The figures {@link ReplicaSample} lists, cheap enough to take every second. */
  sample(): ReplicaSample {
    return {
      id: this.spec.id,
      rssBytes: process.memoryUsage.rss(),
      heapUsedBytes: process.memoryUsage().heapUsed,
      heldState: this.replica.process.heldState?.(),
      executed: this.executed,
      epoch: this.membership.epoch,
      members: this.membership.members,
      removed: this.removed,
    };
  }

  private get membership() {
    return this.replica.membership!;
  }

  private get removed(): boolean {
    return this.membership.removedSelf;
  }

  /** Closes everything; the process may exit afterwards. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    for (const timer of this.timers) clearInterval(timer);
    for (const writer of this.peerWriters.values()) writer.close();
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
    await this.pool?.close();
  }

  private fail(message: string): void {
    this.log(message);
    process.exitCode = 1;
    void this.stop().then(() => process.exit(1));
  }

  private onSuspicion(event: SuspicionEvent): void {
    this.suspicions.push(event);
    this.log(`${event.kind === 'suspect' ? 'suspects' : 'no longer suspects'} process ${event.process} (timeout now ${event.timeoutMs} ms)`);
    if (event.kind === 'suspect') this.replica.suspect(event.process, event.atMs);
    else this.replica.unsuspect(event.process, event.atMs);
    this.flush(this.replica.drain());
  }

  private heard(peer: ProcessId): void {
    const event = this.detector.heard(peer, nowMs());
    if (event !== undefined) this.onSuspicion(event);
  }

  private dial(address: { id: ProcessId; host: string; port: number }, deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const attempt = () => {
        if (this.stopped) return resolve();
        const socket = connect({ host: address.host, port: address.port });
        socket.setNoDelay(true);
        let up = false;
        socket.once('connect', () => {
          up = true;
          this.sockets.add(socket);
          const writer = new BatchWriter({
            socket,
            kind: 'msgs',
            field: 'msgs',
            delayMs: this.spec.delayMsTo[address.id - 1] ?? 0,
            describe: () => `peer ${address.id}`,
            log: this.log,
            frameBytesMax: this.spec.frameBytesMax,
            onBlocked: (blocked) => this.onBlocked(blocked),
            epoch: () => this.replica.epoch,
          });
          writer.sendFrame({ k: 'hello', role: 'peer', id: this.spec.id });
          this.peerWriters.set(address.id, writer);
          // Nothing is expected back on an outgoing link; reading keeps the socket flowing.
          socket.on('data', () => undefined);
          resolve();
        });
        socket.on('error', () => undefined);
        socket.once('close', () => {
          this.sockets.delete(socket);
          if (this.stopped) return;
          if (up) {
            if (this.peerWriters.get(address.id)?.isClosed) this.peerWriters.delete(address.id);
            setTimeout(() => this.redial(address), 500);
            return;
          }
          if (nowMs() > deadline) reject(new Error(`cannot reach process ${address.id} at ${address.host}:${address.port}`));
          else setTimeout(attempt, 50);
        });
      };
      attempt();
    });
  }

  private redial(address: { id: ProcessId; host: string; port: number }): void {
    if (this.stopped) return;
    this.dial(address, nowMs() + 500).catch(() => setTimeout(() => this.redial(address), 500));
  }

  private onBlocked(blocked: boolean): void {
    this.blockedLinks += blocked ? 1 : -1;
    if (blocked && this.blockedLinks === 1) for (const socket of this.clientSockets) socket.pause();
    if (!blocked && this.blockedLinks === 0) for (const socket of this.clientSockets) socket.resume();
  }

  private accept(socket: Socket): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.sockets.add(socket);
    let role: 'peer' | 'client' | 'admin' | undefined;
    let remoteId = 0;
    let writer: BatchWriter | undefined;
    const describe = () => (role === undefined ? `${socket.remoteAddress}:${socket.remotePort}` : `${role} ${remoteId}`);
    const reader = readFrames({
      socket,
      describe,
      check: this.frameCheck,
      frameBytesMax: this.spec.frameBytesMax,
      log: this.log,
      onFrame: (value) => {
        const frame = value as WireFrame;
        if (role === undefined) {
          if (frame.k !== 'hello') return `expected a hello frame first, got '${frame.k}'`;
          role = frame.role;
          remoteId = frame.id;
          if (role === 'peer' && remoteId === this.spec.id) return `a peer claims this process's own id ${remoteId}`;
          if (role === 'admin') {
            writer = new BatchWriter({ socket, kind: 'answer', field: 'answers', describe, log: this.log, frameBytesMax: this.spec.frameBytesMax });
            return undefined;
          }
          if (role === 'client') {
            // Turned away: the client re-submits to its next live process.
            if (this.removed) return 'this replica was removed from the configuration and serves no clients';
            this.clientSockets.add(socket);
            writer = new BatchWriter({ socket, kind: 'reply', field: 'replies', describe, log: this.log, frameBytesMax: this.spec.frameBytesMax });
            if (this.blockedLinks > 0) socket.pause();
          }
          return undefined;
        }
        if (role === 'peer') return this.onPeerFrame(remoteId, frame);
        if (role === 'admin') return this.onAdminFrame(writer!, frame);
        return this.onClientFrame(writer!, frame);
      },
      onClose: () => {
        this.sockets.delete(socket);
        this.clientSockets.delete(socket);
        this.refused += reader.refused();
        for (const waiter of this.adminWaiters) if (waiter.writer === writer) this.adminWaiters.delete(waiter);
        writer?.close();
      },
    });
  }

  private onPeerFrame(from: ProcessId, frame: WireFrame): string | undefined {
    if (frame.k === 'hb') {
      this.heard(from);
      return undefined;
    }
    if (frame.k !== 'msgs') return `a peer may send msgs or hb frames, not '${frame.k}'`;
    this.heard(from);
    const now = nowMs();
    const epoch = frame.e ?? 0;
    for (const msg of frame.msgs) {
      this.replica.handle(from, msg as Message, now, epoch);
      this.flush(this.replica.drain());
    }
    return undefined;
  }

  /** An operator's request: the configuration now, or a removal answered once it is decided. */
  private onAdminFrame(writer: BatchWriter, frame: WireFrame): string | undefined {
    if (frame.k !== 'admin') return `an admin may send admin frames, not '${frame.k}'`;
    const request: AdminRequest = frame.request;
    if (request.op === 'status') {
      writer.sendFrame({ k: 'answer', answer: this.configurationAnswer() });
      return undefined;
    }
    const refuse = (reason: string) => {
      this.log(`refused an admin's request to remove process ${request.process}: ${reason}`);
      writer.sendFrame({ k: 'answer', answer: { ok: false, id: this.spec.id, reason, removed: this.removed } satisfies AdminAnswer });
      return undefined;
    };
    if (this.removed) return refuse(`replica ${this.spec.id} was removed from the configuration (epoch ${this.membership.epoch}); ask a member`);
    if (this.adminWaiters.size >= ADMIN_WAITERS_MAX) return refuse(`${ADMIN_WAITERS_MAX} admin requests are already waiting, the limit ADMIN_WAITERS_MAX`);
    const refusal = this.replica.requestRemoval(request.process, nowMs());
    if (refusal !== undefined) return refuse(refusal);
    this.log(`an admin asks for the removal of process ${request.process}; proposing it`);
    this.adminWaiters.add({ process: request.process, writer });
    this.flush(this.replica.drain());
    this.answerAdminWaiters();
    return undefined;
  }

  private configurationAnswer(): AdminAnswer {
    return { ok: true, id: this.spec.id, epoch: this.membership.epoch, members: this.membership.members, removed: this.removed };
  }

  /** Answers every admin whose process has left the configuration. */
  private answerAdminWaiters(): void {
    for (const waiter of this.adminWaiters) {
      if (this.membership.isMember(waiter.process)) continue;
      this.adminWaiters.delete(waiter);
      waiter.writer.sendFrame({ k: 'answer', answer: this.configurationAnswer() });
    }
  }

  /** A configuration was decided (the Replica hands it to the process after this). */
  private onReconfigure(configuration: Configuration): void {
    const self = this.spec.id;
    const members = configuration.members;
    this.log(`configuration ${configuration.epoch}: members ${members.join(', ')}`);
    // Answered once the host's outputs are taken, so that the answer leaves after the decision.
    setImmediate(() => this.answerAdminWaiters());
    if (members.includes(self) || this.stoppedServing) return;
    this.stoppedServing = true;
    this.log(`removed from the configuration at epoch ${configuration.epoch}: stops serving; its clients go to the other replicas`);
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    for (const socket of this.clientSockets) socket.destroy();
    this.clientSockets.clear();
  }

  private onClientFrame(writer: BatchWriter, frame: WireFrame): string | undefined {
    if (frame.k !== 'submit') return `a client may send submit frames, not '${frame.k}'`;
    const now = nowMs();
    for (const { cmd, retry } of frame.cmds) {
      const command = cmd as Command;
      this.clientWriters.set(riflClient(command.rifl), writer);
      this.commandsSubmitted++;
      if (retry && this.answerRetry(command, writer)) continue;
      this.replica.submit(command, now);
      this.flush(this.replica.drain());
    }
    return undefined;
  }

  /** A re-submitted rifl: answers it now if every key already ran here, else waits for the rest. */
  private answerRetry(command: Command, writer: BatchWriter): boolean {
    const cached = this.retryCache.get(command.rifl) ?? [];
    const keys = new Set(command.keys.map((k) => k.key));
    for (const result of cached) keys.delete(result.key);
    if (keys.size === 0) {
      writer.send({ rifl: command.rifl, results: cached });
      return true;
    }
    this.retryWaiters.set(command.rifl, { keys, results: [...cached], writer });
    return false;
  }

  private onExecuted(result: ExecutionResult): void {
    this.executed++;
    this.executions?.push([result.rifl, result.key]);
    let cached = this.retryCache.get(result.rifl);
    if (cached === undefined) {
      this.retryCache.set(result.rifl, (cached = []));
    }
    cached.push(result);
    const waiter = this.retryWaiters.get(result.rifl);
    if (waiter !== undefined && waiter.keys.delete(result.key)) {
      waiter.results.push(result);
      if (waiter.keys.size === 0) {
        this.retryWaiters.delete(result.rifl);
        waiter.writer.send({ rifl: result.rifl, results: waiter.results });
      }
    }
  }

  private flush(outputs: readonly ReplicaOutput<Message>[]): void {
    for (const output of outputs) {
      if (output.kind === 'reply') {
        this.clientWriters.get(riflClient(output.rifl))?.send({ rifl: output.rifl, results: output.results });
        continue;
      }
      const { msg, to } = output;
      this.messagesByType.set(msg.type, (this.messagesByType.get(msg.type) ?? 0) + to.length);
      this.messagesSent += to.length;
      for (const peer of to) this.peerWriters.get(peer)?.send(msg);
    }
  }

}
