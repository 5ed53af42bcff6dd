/**
 * Calibration of what a runtime replica spends beyond the parts the profile prices one by one
 * (issue 8, item 3): garbage collection, the replica host's bookkeeping, core/replica.ts, Node's
 * stream machinery, the protocol code in its real process.
 *
 * One real replica process (runtime/replica-main.ts, the runtime's own entry point, executors
 * inline) is started as process 1 of n = 3; this process plays its two peers and a client over
 * loopback TCP with the runtime's writers, and replays to it, in order, the inputs process 1 received
 * over the wire in the in-process calibration run (cli/calibrate.ts): the peers' messages and the
 * clients' commands, in lockstep — each turn one frame of up to k consecutive inputs from one source,
 * then a 1 ms pause so that the replica has read it before the next (a replica reads its connections
 * in its own order; without the pause it reorders the replay and diverges). Every turn thus wakes
 * the replica up, and the model's twin is fed the same idle gaps.
 * The replica's CPU time (user + system, from its own `process.cpuUsage`, its idle cost — timers
 * and heartbeats — taken out) is compared with what the CPU model charges for the very same inputs
 * in the same turns (sim/cpu.ts with the profile measured so far, fed to a fresh copy of the
 * protocol in this process). The difference, split by least squares into a cost per input and per
 * frame over several inputs-per-turn, is the profile's `replica` table. CPU time, not wall time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Command } from '../core/command.js';
import { makeConfig, type ProtocolName } from '../core/config.js';
import type { Message } from '../core/process.js';
import { sortByDistance } from '../core/quorum.js';
import { Replica } from '../core/replica.js';
import { protocolByName } from '../protocols/index.js';
import { localRegions, loopbackCluster } from '../runtime/cluster.js';
import { FRAME_BYTES_MAX_DEFAULT } from '../runtime/codec.js';
import { FAILURE_DETECTOR_DEFAULTS } from '../runtime/failure-detector.js';
import { runtimeEntry } from '../runtime/paths.js';
import type { ReplicaSpec, ReplicaStats } from '../runtime/replica-host.js';
import { BatchWriter } from '../runtime/transport.js';
import { CpuModel, payloadBytesOf, type CpuProfile } from '../sim/cpu.js';

export interface ReplicaPoint {
  readonly inputsPerTurn: number;
  readonly inputs: number;
  readonly frames: number;
  /** The replica's CPU time for these inputs (idle cost taken out), and what the model charges, ns. */
  readonly measuredNs: number;
  readonly modelledNs: number;
}

export interface ReplicaMeasurement {
  /** The residual per input and per frame received (least squares over the points, clamped at 0). */
  readonly inputNs: number;
  readonly frameNs: number;
  /** The replica's CPU time per millisecond when idle (timers, heartbeats). */
  readonly idleNsPerMs: number;
  readonly points: readonly ReplicaPoint[];
  /** Partial results the real replica and the model's twin executed over the replay. */
  readonly executed: number;
  readonly twinExecuted: number;
  /**
   * The replay is faithful when the real replica did the twin's work: within 2% of its executed
   * results. It may not be: the replica reads its three connections in its own order, and a
   * leaderless coordinator whose dependencies then differ from the recorded acknowledgements takes
   * a slow path whose answers never come (its peers are recordings), which stalls its executor.
   */
  readonly faithful: boolean;
}

export interface ReplicaOptions {
  /** Inputs replayed at most (the first ones of the run). */
  readonly inputsMax?: number;
  readonly inputsPerTurn?: readonly number[];
  /** Inputs per turn of the warm-up (a tenth of the inputs). */
  readonly warmupPerTurn?: number;
  /**
   * Wait this long after each turn (default 1 ms: lockstep), so that the replica has read it before
   * the next. With 0 the feed outruns the replica, which then reads its connections in its own order
   * and diverges (measured: an FPaxos replay executed 32 results of the twin's 38,400).
   */
  readonly pauseMs?: number;
}

type Input = { readonly from: number; readonly item: unknown };

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

/** Replays `inputs` to a real replica process and returns the residual costs. */
export async function measureReplica(protocol: ProtocolName, profile: CpuProfile, allInputs: readonly Input[], options: ReplicaOptions = {}): Promise<ReplicaMeasurement> {
  // Lockstep costs a millisecond per turn: 12,000 inputs take about 8 s.
  const inputs = allInputs.slice(0, options.inputsMax ?? 12_000);
  const perTurn = options.inputsPerTurn ?? [1, 4, 16];
  const pause = options.pauseMs ?? 1;
  const n = 3;
  // Lockstep stretches the run over seconds of wall time: no recovery timeouts (the peers are recordings).
  const config = makeConfig(protocol, { n, recoveryTimeoutMs: 3_600_000 });
  const distanceTo = [0, 1, 1];
  // The peers' listeners: the replica dials them; what it sends them is read and dropped.
  const sinks = [createServer((s) => s.on('data', () => undefined).on('error', () => undefined)), createServer((s) => s.on('data', () => undefined).on('error', () => undefined))];
  const sinkPorts = await Promise.all(sinks.map(listen));
  const spec: ReplicaSpec = {
    id: 1,
    protocol,
    config,
    cluster: loopbackCluster(localRegions(n)),
    delayMsTo: [0, 0, 0],
    distanceTo,
    workerShards: 0,
    failureDetector: FAILURE_DETECTOR_DEFAULTS,
    recordExecutions: false,
    frameBytesMax: FRAME_BYTES_MAX_DEFAULT,
  };
  const child: ChildProcess = fork(runtimeEntry('replica-main'), [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const sockets: Socket[] = [];
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    const next = <T>(t: string) =>
      new Promise<T>((resolve, reject) => {
        const on = (m: { t: string; message?: string }) => {
          if (m.t === 'error') reject(new Error(`the calibration replica failed: ${m.message}`));
          if (m.t !== t) return;
          child.off('message', on);
          resolve(m as T);
        };
        child.on('message', on);
      });
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the calibration replica exited with code ${code}`))));
    const { port } = await Promise.race([next<{ port: number }>('listening'), exited]);
    const connected = next('connected');
    child.send({ t: 'peers', addresses: [{ id: 1, host: '127.0.0.1', port }, { id: 2, host: '127.0.0.1', port: sinkPorts[0] }, { id: 3, host: '127.0.0.1', port: sinkPorts[1] }], timeoutMs: 10_000 });
    await Promise.race([connected, exited]);
    child.send({ t: 'start' });
    const stats = async (): Promise<ReplicaStats> => {
      const answer = next<{ stats: ReplicaStats }>('stats');
      child.send({ t: 'stats' });
      return (await Promise.race([answer, exited])).stats;
    };
    const cpuNs = (s: ReplicaStats) => (s.cpuUserMs + s.cpuSystemMs) * 1e6;

    // This side: peers 2 and 3 and one client connection, with the runtime's writers.
    let blocked = 0;
    let resume: () => void = () => undefined;
    const writer = async (kind: 'msgs' | 'submit', hello: object) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setNoDelay(true);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      sockets.push(socket);
      const w = new BatchWriter({
        socket,
        kind,
        field: kind === 'msgs' ? 'msgs' : 'cmds',
        describe: () => 'calibration replica',
        log: (line) => process.stderr.write(`${line}\n`),
        onBlocked: (b) => {
          blocked += b ? 1 : -1;
          if (blocked === 0) resume();
        },
      });
      w.sendFrame(hello);
      return w;
    };
    const peer2 = await writer('msgs', { k: 'hello', role: 'peer', id: 2 });
    const peer3 = await writer('msgs', { k: 'hello', role: 'peer', id: 3 });
    const client = await writer('submit', { k: 'hello', role: 'client', id: 1 });
    const writers = [client, undefined, peer2, peer3];
    heartbeat = setInterval(() => {
      peer2.sendFrame({ k: 'hb' });
      peer3.sendFrame({ k: 'hb' });
    }, FAILURE_DETECTOR_DEFAULTS.heartbeatMs);

    // The model's twin: a fresh copy of the protocol, metered with the profile measured so far.
    const definition = protocolByName(protocol);
    const model = new CpuModel(protocol, n, { profile, cores: 1 }, 1, definition.shardOf !== undefined);
    const shards = definition.shardOf === undefined ? 1 : config.executorShards;
    const twinProcess = model.meterProcess(definition.createProcess(1, config));
    let twinExecuted = 0;
    const twin = new Replica<Message, unknown>(twinProcess, {
      onExecuted: () => void twinExecuted++,
      executors: Array.from({ length: shards }, (_, shard) => model.meterExecutor(definition.createExecutor(1, config, shard), shard)),
      ...(definition.shardOf === undefined ? {} : { shardOf: definition.shardOf }),
    });
    twinProcess.discover(sortByDistance(1, [1, 2, 3], (to) => distanceTo[to - 1]!));
    let twinFreeNs = 0;
    const twinTurn = (turn: readonly Input[]) => {
      // In lockstep the replica is idle when a turn arrives (a wake-up); otherwise it is busy.
      const arrival = pause > 0 ? twinFreeNs + pause * 1e6 : twinFreeNs;
      for (const input of turn) {
        const isSubmit = input.from === 0;
        const payload = isSubmit ? (input.item as Command).payloadBytes : payloadBytesOf(input.item as Message);
        const start = model.begin(0, arrival, isSubmit ? 'submit' : (input.item as Message).type, payload, isSubmit ? n : input.from - 1);
        if (isSubmit) twin.submit(input.item as Command, start / 1e6);
        else twin.handle(input.from, input.item as Message, start / 1e6);
        for (const output of twin.drain()) {
          if (output.kind === 'send') model.chargeSend(output.msg, output.to);
          else model.chargeReply();
        }
        twinFreeNs = model.complete(0, start).sendNs;
      }
    };
    const twinBusy = () => model.usage(1)[0]!.busyNs;

    let fed = 0;
    let submitsFed = 0;
    const feed = async (count: number, inputsPerTurn: number) => {
      const end = Math.min(inputs.length, fed + count);
      while (fed < end) {
        if (blocked > 0) await new Promise<void>((resolve) => (resume = resolve));
        let last = Math.min(end, fed + inputsPerTurn);
        // In lockstep, a turn is one frame: consecutive inputs from one source, so nothing is reordered.
        if (pause > 0) for (let i = fed + 1; i < last; i++) if (inputs[i]!.from !== inputs[fed]!.from) last = i;
        const turn = inputs.slice(fed, last);
        for (const input of turn) {
          if (input.from === 0) {
            client.send({ cmd: input.item, retry: false });
            submitsFed++;
          } else writers[input.from]!.send(input.item);
        }
        twinTurn(turn);
        fed += turn.length;
        if (pause > 0) await sleep(pause);
        else await immediate();
      }
    };
    /** Waits until the replica has taken every submit fed and its CPU time has settled. */
    const settle = async (idleNsPerMs: number): Promise<{ stats: ReplicaStats; at: number }> => {
      for (;;) {
        const a = await stats();
        const at = performance.now();
        await sleep(40);
        const b = await stats();
        if (b.commandsSubmitted >= submitsFed && cpuNs(b) - cpuNs(a) <= idleNsPerMs * 40 + 2e6) return { stats: a, at };
      }
    };

    // Warm-up (JIT): a tenth of the inputs; then the idle cost: 600 ms with heartbeats only.
    await feed(Math.floor(inputs.length / 10), options.warmupPerTurn ?? 16);
    await settle(Number.POSITIVE_INFINITY);
    await sleep(100);
    const idleFrom = await stats();
    const idleAt = performance.now();
    await sleep(600);
    const idleTo = await stats();
    const idleNsPerMs = (cpuNs(idleTo) - cpuNs(idleFrom)) / (performance.now() - idleAt);

    const points: ReplicaPoint[] = [];
    const share = Math.floor((inputs.length - fed) / perTurn.length);
    for (const inputsPerTurn of perTurn) {
      const before = await settle(idleNsPerMs);
      const framesBefore = peer2.framesSent + peer3.framesSent + client.framesSent;
      const busyBefore = twinBusy();
      const from = fed;
      await feed(share, inputsPerTurn);
      const after = await settle(idleNsPerMs);
      const measured = cpuNs(after.stats) - cpuNs(before.stats) - idleNsPerMs * (after.at - before.at);
      points.push({
        inputsPerTurn,
        inputs: fed - from,
        // Heartbeats are frames too, but the idle cost already holds them.
        frames: peer2.framesSent + peer3.framesSent + client.framesSent - framesBefore,
        measuredNs: Math.round(measured),
        modelledNs: Math.round(twinBusy() - busyBefore),
      });
    }
    const fit = residualFit(points);
    const executed = (await stats()).executed;
    const faithful = Math.abs(executed - twinExecuted) <= 0.02 * twinExecuted;
    return { inputNs: fit.inputNs, frameNs: fit.frameNs, idleNsPerMs: Math.round(idleNsPerMs), points, executed, twinExecuted, faithful };
  } finally {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    for (const socket of sockets) socket.destroy();
    const gone = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.kill('SIGTERM');
    await gone;
    for (const sink of sinks) sink.close();
  }
}

/** residual = inputNs · inputs + frameNs · frames, least squares over the points, both clamped at 0. */
export function residualFit(points: readonly ReplicaPoint[]): { inputNs: number; frameNs: number } {
  let aa = 0;
  let ab = 0;
  let bb = 0;
  let ay = 0;
  let by = 0;
  for (const p of points) {
    const y = p.measuredNs - p.modelledNs;
    aa += p.inputs * p.inputs;
    ab += p.inputs * p.frames;
    bb += p.frames * p.frames;
    ay += p.inputs * y;
    by += p.frames * y;
  }
  const det = aa * bb - ab * ab;
  let inputNs = det === 0 ? 0 : (ay * bb - by * ab) / det;
  let frameNs = det === 0 ? 0 : (aa * by - ab * ay) / det;
  if (frameNs < 0) {
    frameNs = 0;
    inputNs = aa === 0 ? 0 : ay / aa;
  }
  if (inputNs < 0) {
    inputNs = 0;
    frameNs = bb === 0 ? 0 : Math.max(0, by / bb);
  }
  return { inputNs: Math.round(inputNs * 10) / 10, frameNs: Math.round(frameNs * 10) / 10 };
}
