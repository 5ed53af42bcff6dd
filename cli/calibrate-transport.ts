/**
 * Calibration of the runtime's transport for the CPU model (issue 8, item 3): what a frame and a
 * message cost to send and to receive through the runtime's own writer and reader, on this machine.
 *
 * For one protocol, the messages, client commands and client replies an in-process run produced
 * (cli/calibrate.ts; the messages cycled in the proportions the run sent them) are pushed through a
 * real `BatchWriter` (runtime/transport.ts: batch per event-loop turn, msgpackr records codec,
 * length-prefixed frame, `socket.write`) over a loopback TCP connection to a child process that reads
 * them with the real `readFrames` (frame reader, codec, the protocol's shape checks of
 * runtime/schema.ts) and does nothing else (runtime/calibration-sink.ts). Three streams, as in the
 * runtime: peer `msgs` frames, client `submit` frames, replica `reply` frames. Each stream is driven
 * at several batch sizes B (messages per frame, one frame per event-loop turn), and per frame:
 *
 * - send side: CPU time of the writer's work in this process — the `send` calls and the writer's
 *   flush (encode, framing, the `write` system call, which on loopback also carries the packet to
 *   the receiving socket) — timed with `performance.now()` around that pure CPU work: a marker
 *   `setImmediate` queued before the first `send` of a turn and one queued after it bracket the
 *   writer's own flush callback;
 * - receive side: the sink process's CPU time (`process.cpuUsage`, user + system) per frame: its
 *   event-loop wake-ups, `read` system calls, frame reader, decode and checks.
 *
 * A least-squares line `frameNs + B · messageNs` over the batch sizes splits each side into a cost
 * per frame and a cost per message. CPU time, not wall time: the machine may be shared.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import type { ProtocolName } from '../core/config.js';
import { runtimeEntry } from '../runtime/paths.js';
import { BatchWriter } from '../runtime/transport.js';

/** What the in-process run produced, for one protocol. */
export interface TransportSamples {
  /** Protocol messages in the order and proportions the run sent them (a cycle). */
  readonly messages: readonly unknown[];
  /** Client commands as submit items (`{ cmd, retry }`). */
  readonly submits: readonly unknown[];
  /** Client replies as reply items (`{ rifl, results }`). */
  readonly replies: readonly unknown[];
  /** Process 1's inputs from the wire in order (peer messages and client commands), for the replica replay. */
  readonly inputs: ReadonlyArray<{ readonly from: number; readonly item: unknown }>;
}

/** One side of one stream: a line over the batch sizes. */
export interface SideFit {
  readonly frameNs: number;
  readonly messageNs: number;
}

/** One stream measured at one batch size: ns per frame on each side, and how the sink read it. */
export interface StreamPoint {
  readonly batch: number;
  readonly frames: number;
  readonly sendNsPerFrame: number;
  /** The writer's work timed with performance.now() (inflated when the machine is loaded). */
  readonly sendWallNsPerFrame: number;
  readonly recvNsPerFrame: number;
  readonly readsPerFrame: number;
  readonly bytesPerFrame: number;
}

export interface StreamCost {
  readonly send: SideFit;
  readonly recv: SideFit;
  readonly bytesPerMessage: number;
  /** CPU time of one event-loop turn of this process with nothing to do but a setImmediate. */
  readonly turnNs: number;
  /** Frames sent one per millisecond to a sleeping sink (msgs stream only). */
  readonly wake?: WakeCost;
  readonly points: readonly StreamPoint[];
}

/**
 * One frame of one message at a time to a sink that sleeps between frames: `recvNs` is what the
 * sink spends beyond a frame's cost when frames wait for it (its wake-up from epoll_wait), `sendNs`
 * what the sender spends beyond its own timer wake-up and the frame's cost (waking the sink).
 */
export interface WakeCost {
  readonly recvNs: number;
  readonly sendNs: number;
  readonly recvNsPerFrame: number;
  readonly sendNsPerFrame: number;
  readonly timerNsPerTurn: number;
  readonly frames: number;
}

export interface TransportMeasurement {
  readonly msgs: StreamCost;
  readonly submit: StreamCost;
  readonly reply: StreamCost;
}

export interface TransportOptions {
  /** Batch sizes (messages per frame) to drive each stream at. */
  readonly batches?: readonly number[];
  /** Messages per batch size (at least `framesMin` frames). */
  readonly messagesPerPoint?: number;
  readonly framesMin?: number;
  /** Frames of the wake-up measurement (0: none). */
  readonly wakeFrames?: number;
}

export const TRANSPORT_DEFAULTS = { batches: [1, 4, 16, 64], messagesPerPoint: 40_000, framesMin: 2_000, wakeFrames: 500 } as const;

interface Mark {
  readonly cpuUs: number;
  readonly frames: number;
  readonly items: number;
  readonly reads: number;
  readonly refused: number;
  /** Marks this call took (1 for mark, the polls for until). */
  readonly marks: number;
}

class Sink {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(protocol: ProtocolName, n: number): Promise<Sink> {
    const child = fork(runtimeEntry('calibration-sink'), [protocol, String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the calibration sink exited with code ${code}`)));
      child.on('message', (m: { t: string; port?: number }) => {
        if (m.t === 'listening') resolve(m.port!);
      });
    });
    return new Sink(child, port);
  }

  mark(): Promise<Mark> {
    return new Promise((resolve) => {
      const on = (m: { t: string } & Mark) => {
        if (m.t !== 'mark') return;
        this.child.off('message', on);
        resolve({ ...m, marks: 1 });
      };
      this.child.on('message', on);
      this.child.send({ t: 'mark' });
    });
  }

  /** Waits until the sink has received `frames` frames in total. */
  async until(frames: number): Promise<Mark> {
    for (let marks = 1; ; marks++) {
      const mark = await this.mark();
      if (mark.frames >= frames || mark.refused > 0) return { ...mark, marks };
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await closed;
  }
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Least squares of y over x: intercept and slope, both clamped at zero. */
export function fitLine(xs: readonly number[], ys: readonly number[]): { intercept: number; slope: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let cov = 0;
  let varx = 0;
  for (let i = 0; i < n; i++) {
    cov += (xs[i]! - mx) * (ys[i]! - my);
    varx += (xs[i]! - mx) ** 2;
  }
  const slope = varx === 0 ? 0 : Math.max(0, cov / varx);
  return { intercept: Math.max(0, my - slope * mx), slope };
}

const round1 = (ns: number) => Math.round(ns * 10) / 10;

/** Drives one stream (one connection, one writer) at each batch size. */
async function measureStream(protocol: ProtocolName, n: number, kind: 'msgs' | 'submit' | 'reply', items: readonly unknown[], options: Required<TransportOptions>): Promise<StreamCost> {
  if (items.length === 0) throw new Error(`no ${kind} items to calibrate the transport with`);
  const sink = await Sink.start(protocol, n);
  try {
    return await measureWith(sink, kind, items, options);
  } finally {
    await sink.stop();
  }
}

async function measureWith(sink: Sink, kind: 'msgs' | 'submit' | 'reply', items: readonly unknown[], options: Required<TransportOptions>): Promise<StreamCost> {
  // What one pacing mark (an IPC round trip) costs the sink, to take it out of the receive side.
  for (let i = 0; i < 50; i++) await sink.mark();
  const markFrom = await sink.mark();
  let markTo = markFrom;
  for (let i = 0; i < 400; i++) markTo = await sink.mark();
  const markNs = ((markTo.cpuUs - markFrom.cpuUs) * 1e3) / 400;
  const field = kind === 'msgs' ? 'msgs' : kind === 'submit' ? 'cmds' : 'replies';
  const socket: Socket = connect({ host: '127.0.0.1', port: sink.port });
  socket.setNoDelay(true);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let blocked = false;
  let resume: () => void = () => undefined;
  const writer = new BatchWriter({
    socket,
    kind,
    field,
    describe: () => 'calibration sink',
    log: (line) => process.stderr.write(`${line}\n`),
    onBlocked: (b) => {
      blocked = b;
      if (!b) resume();
    },
  });
  writer.sendFrame({ k: 'hello', role: kind === 'submit' ? 'client' : 'peer', id: kind === 'submit' ? 1 : 2 });
  let next = 0;
  let framesSent = 1;
  let marks = 0;
  let send: (item: unknown) => void = (item) => writer.send(item);
  let pacing = true;
  /**
   * `turns` frames of `batch` items, one per event-loop turn. Returns the writer's work timed with
   * performance.now() (ms) and this process's CPU time over the whole drive (µs).
   */
  const drive = async (batch: number, turns: number): Promise<{ wallMs: number; cpuUs: number }> => {
    let wallMs = 0;
    let flushStart = 0;
    const before = () => void (flushStart = performance.now());
    const cpu0 = process.cpuUsage();
    for (let turn = 0; turn < turns; turn++) {
      if (blocked) await new Promise<void>((resolve) => (resume = resolve));
      // Keep the sink close behind: pace on its count every 32 frames.
      if (turn % 32 === 31) marks += (await (pacing ? sink.until(framesSent - 8) : sink.mark())).marks;
      setImmediate(before);
      const t0 = performance.now();
      for (let i = 0; i < batch; i++) {
        send(items[next]);
        next = next + 1 === items.length ? 0 : next + 1;
      }
      wallMs += performance.now() - t0;
      await immediate();
      wallMs += performance.now() - flushStart;
      framesSent++;
    }
    const cpu = process.cpuUsage(cpu0);
    return { wallMs, cpuUs: cpu.user + cpu.system };
  };
  // What the driver itself costs this process: the same loop of event-loop turns with nothing sent.
  const baseline = async (turns: number) => {
    const sending = send;
    send = () => undefined;
    pacing = false;
    const framesBefore = framesSent;
    marks = 0;
    const { cpuUs } = await drive(1, turns);
    const baseMarks = marks;
    framesSent = framesBefore;
    send = sending;
    pacing = true;
    return { cpuUs, marks: baseMarks };
  };
  // What one pacing mark costs this process (an IPC round trip, its share of CPU).
  const senderMark0 = process.cpuUsage();
  for (let i = 0; i < 400; i++) await sink.mark();
  const senderMarkCpu = process.cpuUsage(senderMark0);
  const senderMarkNs = ((senderMarkCpu.user + senderMarkCpu.system) * 1e3) / 400;
  const points: StreamPoint[] = [];
  // Warm-up: every batch size once, figures thrown away (JIT, records defined on the connection).
  for (const batch of options.batches) await drive(batch, 200);
  await baseline(2000);
  const base = await baseline(20_000);
  // Per event-loop turn of the driver, pacing marks taken out: setImmediate round trip and the loop.
  const turnNs = Math.max(0, (base.cpuUs * 1e3 - base.marks * senderMarkNs) / 20_000);
  for (const batch of options.batches) {
    const turns = Math.max(options.framesMin, Math.ceil(options.messagesPerPoint / batch));
    const start = await sink.until(framesSent);
    const bytesBefore = writer.bytesSent;
    marks = 0;
    const sent = await drive(batch, turns);
    const sendMarks = marks;
    const end = await sink.until(framesSent);
    marks += end.marks;
    if (end.refused > 0) throw new Error(`the calibration sink refused a ${kind} frame (see its log line above)`);
    points.push({
      batch,
      frames: turns,
      // This process's CPU time minus the driver's turns and pacing marks.
      sendNsPerFrame: round1(Math.max(0, sent.cpuUs * 1e3 - sendMarks * senderMarkNs - turns * turnNs) / turns),
      sendWallNsPerFrame: round1((sent.wallMs * 1e6) / turns),
      // The sink also answered the pacing marks (IPC): their measured cost is taken out.
      recvNsPerFrame: round1(Math.max(0, (end.cpuUs - start.cpuUs) * 1e3 - marks * markNs) / (end.frames - start.frames)),
      readsPerFrame: Math.round(((end.reads - start.reads) / (end.frames - start.frames)) * 100) / 100,
      bytesPerFrame: Math.round((writer.bytesSent - bytesBefore) / turns),
    });
  }
  // Wake-ups: one single-message frame per millisecond, so the sink sleeps in epoll_wait before each
  // frame. What the sink spends per frame beyond what a frame costs it when frames are waiting is
  // the wake-up of a sleeping process; what this process spends beyond its own timer wake-up and the
  // frame's send cost is the extra of writing to a sleeping peer (waking it).
  const paced = async (frames: number, sending: boolean): Promise<number> => {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < frames; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (!sending) continue;
      writer.send(items[next]);
      next = next + 1 === items.length ? 0 : next + 1;
      framesSent++;
    }
    const cpu = process.cpuUsage(cpu0);
    return (cpu.user + cpu.system) * 1e3;
  };
  let wake: WakeCost | undefined;
  if (options.wakeFrames > 0) {
    const frames = options.wakeFrames;
    await paced(20, true);
    const start = await sink.until(framesSent);
    marks = 0;
    const sentNs = await paced(frames, true);
    const end = await sink.until(framesSent);
    const recvPerFrame = Math.max(0, (end.cpuUs - start.cpuUs) * 1e3 - end.marks * markNs) / (end.frames - start.frames);
    const timerNs = await paced(frames, false);
    const one = points[0]!;
    wake = {
      recvNs: round1(Math.max(0, recvPerFrame - one.recvNsPerFrame)),
      sendNs: round1(Math.max(0, (sentNs - timerNs) / frames - one.sendNsPerFrame)),
      recvNsPerFrame: round1(recvPerFrame),
      sendNsPerFrame: round1(sentNs / frames),
      timerNsPerTurn: round1(timerNs / frames),
      frames,
    };
  }
  socket.destroy();
  const xs = points.map((p) => p.batch);
  const sendFit = fitLine(xs, points.map((p) => p.sendNsPerFrame));
  const recv = fitLine(xs, points.map((p) => p.recvNsPerFrame));
  const bytes = fitLine(xs, points.map((p) => p.bytesPerFrame));
  return {
    send: { frameNs: round1(sendFit.intercept), messageNs: round1(sendFit.slope) },
    recv: { frameNs: round1(recv.intercept), messageNs: round1(recv.slope) },
    bytesPerMessage: round1(bytes.slope),
    turnNs: round1(turnNs),
    points,
    ...(wake === undefined ? {} : { wake }),
  };
}

/** Measures the three streams of one protocol through the runtime's writer and reader. */
export async function measureTransport(protocol: ProtocolName, n: number, samples: TransportSamples, options: TransportOptions = {}): Promise<TransportMeasurement> {
  const all: Required<TransportOptions> = {
    batches: options.batches ?? TRANSPORT_DEFAULTS.batches,
    messagesPerPoint: options.messagesPerPoint ?? TRANSPORT_DEFAULTS.messagesPerPoint,
    framesMin: options.framesMin ?? TRANSPORT_DEFAULTS.framesMin,
    wakeFrames: options.wakeFrames ?? TRANSPORT_DEFAULTS.wakeFrames,
  };
  const msgs = await measureStream(protocol, n, 'msgs', samples.messages, all);
  const submit = await measureStream(protocol, n, 'submit', samples.submits, { ...all, wakeFrames: 0 });
  const reply = await measureStream(protocol, n, 'reply', samples.replies, { ...all, wakeFrames: 0 });
  return { msgs, submit, reply };
}
