/**
 * The live part of `orrery calibrate --live yes`: what a real replica process costs beyond the sum of
 * its calibrated parts, measured on the runtime itself (issue 8, item 3).
 *
 * The in-process calibration (cli/calibrate.ts, cli/calibrate-transport.ts) times handlers, codecs
 * and the transport one call at a time. A replica process does more per command than those parts:
 * garbage collection of the objects every message decodes into and of the state it keeps, Node's
 * stream and event machinery, core/replica.ts routing, the host's bookkeeping. `npm run cpu:gap`
 * measured that at 71–83% of a replica's CPU on this machine. Here it is measured rather than
 * guessed: the runtime runs on loopback (n = 3, no injected delay, executors inline) at a few client
 * counts below the one validated, each replica and client process reporting the CPU time it spent
 * after `go`; the calibrated costs are applied to the counts the runtime itself observed (messages by
 * type, frames, submits, executed results, wake-ups), and what the processes spent beyond that is
 * fitted, by non-negative least squares over the client counts, as a cost per wire input, per frame
 * and per wake-up on the replicas and per command, per reply frame and per wake-up on the client side.
 * Wake-ups are a term of their own because they come and go with the load: at a few clients a
 * replica sleeps and wakes for nearly every command, at saturation it hardly sleeps at all.
 *
 * The simulator charges the replica residual as `replica.inputNs` / `replica.frameNs` (sim/cpu.ts);
 * cpu:validate adds the client residual to the client side's CPU per command. The fit's points are
 * kept in the profile (`replicaDetail`), so a reader can see how well two numbers explain them.
 */
import { makeConfig, type ProtocolName } from '../core/config.js';
import { protocolByName } from '../protocols/index.js';
import { localRegions, loopbackCluster } from '../runtime/cluster.js';
import { runCluster, type RuntimeResult } from '../runtime/launcher.js';
import type { ProtocolCosts, ReplicaCosts, TransportCosts } from '../sim/cpu.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

/** What one runtime run observed, after `go`, summed over the replicas (and over client groups). */
export interface LiveCounts {
  readonly clients: number;
  readonly ops: number;
  readonly opsPerSec: number;
  readonly replicaCpuNs: number;
  readonly clientCpuNs: number;
  readonly messagesByType: ReadonlyMap<string, number>;
  readonly messages: number;
  readonly submitted: number;
  readonly executed: number;
  readonly peerFrames: number;
  readonly replyFrames: number;
  readonly sleeps: number;
  readonly clientSleeps: number;
}

/** The counts of a run made with `statsAtGo` (start-up subtracted); of the whole run otherwise. */
export function liveCounts(run: RuntimeResult, clients: number): LiveCounts {
  const at = run.replicasAtGo;
  let replicaCpuNs = 0;
  let peerFrames = 0;
  let replyFrames = 0;
  let sleeps = 0;
  let submitted = 0;
  let executed = 0;
  for (const [id, s] of run.replicas) {
    const a = at?.get(id);
    replicaCpuNs += (s.cpuUserMs + s.cpuSystemMs - (a === undefined ? 0 : a.cpuUserMs + a.cpuSystemMs)) * 1e6;
    peerFrames += s.peerFramesSent - (a?.peerFramesSent ?? 0);
    replyFrames += s.framesSent - s.peerFramesSent - (a === undefined ? 0 : a.framesSent - a.peerFramesSent);
    sleeps += s.sleeps - (a?.sleeps ?? 0);
    submitted += s.commandsSubmitted - (a?.commandsSubmitted ?? 0);
    executed += s.executed - (a?.executed ?? 0);
  }
  const clientCpuNs = run.clients.reduce((total, c) => total + (c.cpuUserMs + c.cpuSystemMs - c.cpuMsAtGo) * 1e6, 0);
  const clientSleeps = run.clients.reduce((total, c) => total + c.sleeps - c.sleepsAtGo, 0);
  return {
    clients,
    ops: run.result.commandsCompleted,
    opsPerSec: run.opsPerSec,
    replicaCpuNs,
    clientCpuNs,
    messagesByType: run.result.messagesByType,
    messages: run.result.messagesTotal,
    submitted,
    executed,
    peerFrames,
    replyFrames,
    sleeps,
    clientSleeps,
  };
}

function mean(table: Readonly<Record<string, number>>): number {
  const values = Object.values(table);
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The calibrated costs (and the profile's replica residual, if any) applied to a run's counts: ns, by term. */
export function modelled(costs: ProtocolCosts, t: TransportCosts, c: LiveCounts): { replicaTerms: Array<[string, number]>; replicaNs: number; clientNs: number } {
  const of = (table: Readonly<Record<string, number>>, kind: string) => table[kind] ?? mean(table);
  let protocolNs = 0;
  let messageNs = 0;
  for (const [type, count] of c.messagesByType) {
    protocolNs += count * of(costs.handleNs, type);
    messageNs += count * (Math.max(0, of(costs.encodeNs, type) + t.sendMessageNs - t.sendCodecNs) + Math.max(0, of(costs.decodeNs, type) + t.recvMessageNs - t.recvCodecNs));
  }
  const replicaTerms: Array<[string, number]> = [
    ['protocol handling', protocolNs + c.submitted * of(costs.handleNs, 'submit')],
    ['messages (codec + transport)', messageNs],
    ['client submits and replies', c.submitted * t.submitRecvMessageNs + c.ops * t.replySendMessageNs],
    ['executor (approx.)', c.executed * (costs.executedNs + mean(costs.executeNs))],
    ['peer frames', c.peerFrames * (t.sendFrameNs + t.recvFrameNs)],
    ['client frames', c.replyFrames * (t.replySendFrameNs + t.submitRecvFrameNs)],
    ['wake-ups and turns', c.sleeps * (t.wakeNs + t.turnNs)],
  ];
  // A profile that already has a residual (replay or live) charges it too.
  const r = costs.replica;
  if (r !== undefined) replicaTerms.push(['replica residual', (c.messages + c.submitted) * r.inputNs + (c.peerFrames + c.replyFrames) * r.frameNs + c.sleeps * (r.wakeNs ?? 0)]);
  const replicaNs = replicaTerms.reduce((total, [, ns]) => total + ns, 0);
  const clientNs =
    c.ops * (t.clientCommandNs + t.submitSendMessageNs + t.replyRecvMessageNs + (r?.clientCommandNs ?? 0)) +
    c.replyFrames * (t.replyRecvFrameNs + t.submitSendFrameNs + (r?.clientFrameNs ?? 0)) +
    c.clientSleeps * (t.wakeNs + t.turnNs + (r?.clientWakeNs ?? 0));
  return { replicaTerms, replicaNs, clientNs };
}

/**
 * Non-negative least squares, y ≈ Σ coefficient_j · x_j with every coefficient ≥ 0, for a handful of
 * terms: the best least-squares solution over every subset of the terms whose coefficients come out
 * non-negative (2^k small solves; the empty subset, all zeros, always qualifies).
 */
export function fitNonNegative(points: ReadonlyArray<{ x: readonly number[]; y: number }>, terms: number): number[] {
  let best = new Array<number>(terms).fill(0);
  let bestError = squaredError(points, best);
  for (let subset = 1; subset < 1 << terms; subset++) {
    const used: number[] = [];
    for (let j = 0; j < terms; j++) if (subset & (1 << j)) used.push(j);
    const solved = leastSquares(points, used);
    if (solved === undefined || solved.some((c) => c < 0)) continue;
    const coefficients = new Array<number>(terms).fill(0);
    used.forEach((j, i) => (coefficients[j] = solved[i]!));
    const error = squaredError(points, coefficients);
    if (error < bestError) {
      best = coefficients;
      bestError = error;
    }
  }
  return best;
}

function squaredError(points: ReadonlyArray<{ x: readonly number[]; y: number }>, coefficients: readonly number[]): number {
  let sum = 0;
  for (const { x, y } of points) {
    let predicted = 0;
    for (let j = 0; j < coefficients.length; j++) predicted += coefficients[j]! * x[j]!;
    sum += (y - predicted) ** 2;
  }
  return sum;
}

/** Unconstrained least squares on the terms `used` (normal equations, Gaussian elimination); undefined when singular. */
function leastSquares(points: ReadonlyArray<{ x: readonly number[]; y: number }>, used: readonly number[]): number[] | undefined {
  const k = used.length;
  // Columns scaled to unit size, so that counts of very different magnitudes stay well conditioned.
  const scale = used.map((j) => Math.sqrt(points.reduce((sum, p) => sum + p.x[j]! ** 2, 0)) || 1);
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (const p of points) {
    for (let r = 0; r < k; r++) {
      const xr = p.x[used[r]!]! / scale[r]!;
      for (let c = 0; c < k; c++) a[r]![c]! += xr * (p.x[used[c]!]! / scale[c]!);
      a[r]![k]! += xr * p.y;
    }
  }
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (Math.abs(a[pivot]![col]!) < 1e-9) return undefined;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let r = 0; r < k; r++) {
      if (r === col) continue;
      const factor = a[r]![col]! / a[col]![col]!;
      for (let c = col; c <= k; c++) a[r]![c]! -= factor * a[col]![c]!;
    }
  }
  return a.map((row, r) => row[k]! / row[r]! / scale[r]!);
}

export interface LiveOptions {
  /** Total closed-loop clients (over the 3 regions) of each measured run. */
  readonly clients: readonly number[];
  readonly durationMs: number;
  readonly log: (line: string) => void;
}

/**
 * Client counts measured by default: from light load (a few commands per frame, a wake-up every few
 * commands) to heavy (tens per frame), all below the 513 clients at which cpu:validate compares.
 */
export const LIVE_CLIENTS = [15, 60, 150];
export const LIVE_DURATION_MS = 4000;

/** Runs the runtime at each client count and fits the residual of `protocol` over the runs. */
export async function calibrateLive(protocol: ProtocolName, costs: ProtocolCosts, t: TransportCosts, options: LiveOptions): Promise<{ replica: ReplicaCosts; detail: unknown }> {
  const n = 3;
  const regions = localRegions(n);
  const points: Array<{ counts: LiveCounts; replicaModelNs: number; clientModelNs: number }> = [];
  for (const clients of options.clients) {
    const run = await runCluster({
      protocol: protocolByName(protocol),
      config: makeConfig(protocol, { n }),
      cluster: loopbackCluster(regions),
      clientRegions: regions,
      clientsPerRegion: Math.max(1, Math.ceil(clients / n)),
      workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 100_000_000 },
      seed: 1,
      durationMs: options.durationMs,
      workerShards: 0,
      graceMs: 2000,
      statsAtGo: true,
      onLog: () => undefined,
    });
    const counts = liveCounts(run, Math.max(1, Math.ceil(clients / n)) * n);
    const model = modelled(costs, t, counts);
    points.push({ counts, replicaModelNs: model.replicaNs, clientModelNs: model.clientNs });
    options.log(
      `  live ${protocol}, ${counts.clients} clients: ${Math.round(counts.opsPerSec)} ops/s; replica CPU per command ${(counts.replicaCpuNs / counts.ops / 1000).toFixed(2)} µs ` +
        `(calibrated parts ${(model.replicaNs / counts.ops / 1000).toFixed(2)}), client ${(counts.clientCpuNs / counts.ops / 1000).toFixed(2)} µs (parts ${(model.clientNs / counts.ops / 1000).toFixed(2)})`,
    );
  }
  // Replica side: every wire input (peer message or client submit), every frame read, every wake-up.
  const replicaFit = fitNonNegative(
    points.map((p) => ({ x: [p.counts.messages + p.counts.submitted, p.counts.peerFrames + p.counts.replyFrames, p.counts.sleeps], y: p.counts.replicaCpuNs - p.replicaModelNs })),
    3,
  );
  // Client side: every command, every reply frame, every wake-up.
  const clientFit = fitNonNegative(points.map((p) => ({ x: [p.counts.ops, p.counts.replyFrames, p.counts.clientSleeps], y: p.counts.clientCpuNs - p.clientModelNs })), 3);
  const replica: ReplicaCosts = {
    inputNs: Math.round(replicaFit[0]!),
    frameNs: Math.round(replicaFit[1]!),
    wakeNs: Math.round(replicaFit[2]!),
    clientCommandNs: Math.round(clientFit[0]!),
    clientFrameNs: Math.round(clientFit[1]!),
    clientWakeNs: Math.round(clientFit[2]!),
  };
  options.log(
    `  live ${protocol}: residual ${replica.inputNs} ns per input + ${replica.frameNs} ns per frame + ${replica.wakeNs} ns per wake-up (replicas); ` +
      `${replica.clientCommandNs} ns per command + ${replica.clientFrameNs} ns per reply frame + ${replica.clientWakeNs} ns per wake-up (client)`,
  );
  const detail = {
    method: 'live runtime on loopback (n = 3, executors inline), CPU after go; residual = measured − calibrated parts × the run’s counts, least squares',
    durationMs: options.durationMs,
    points: points.map(({ counts: c, replicaModelNs, clientModelNs }) => ({
      clients: c.clients,
      ops: c.ops,
      opsPerSec: Math.round(c.opsPerSec),
      inputs: c.messages + c.submitted,
      frames: c.peerFrames + c.replyFrames,
      replyFrames: c.replyFrames,
      sleeps: c.sleeps,
      replicaCpuUsPerOp: round2(c.replicaCpuNs / c.ops / 1000),
      replicaPartsUsPerOp: round2(replicaModelNs / c.ops / 1000),
      replicaFittedUsPerOp: round2((replicaModelNs + replica.inputNs * (c.messages + c.submitted) + replica.frameNs * (c.peerFrames + c.replyFrames) + replica.wakeNs! * c.sleeps) / c.ops / 1000),
      clientSleeps: c.clientSleeps,
      clientCpuUsPerOp: round2(c.clientCpuNs / c.ops / 1000),
      clientPartsUsPerOp: round2(clientModelNs / c.ops / 1000),
    })),
  };
  return { replica, detail };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
