/**
 * `npm run bench:runtime`: the runtime on loopback without injected delay. For each protocol, n = 3
 * and n = 5, closed-loop clients at increasing counts until throughput stops growing: saturated
 * ops/s with the median and p99 latency at that point. In the same run, the raw transport ceiling:
 * messages per second one sender pushes through the same writer, codec, sockets and shape checks to
 * a sink that does no protocol work — so protocol overhead reads as a ratio.
 *
 * Options: --duration S (seconds per point, default 4), --clients a,b,c (default 64,256,512),
 * --protocols p,q, --executors k (Tempo worker shards, default inline), --json.
 */
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { makeConfig, type ProtocolName } from '../core/config.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { localRegions, loopbackCluster } from '../runtime/cluster.js';
import { runCluster } from '../runtime/launcher.js';
import { runtimeEntry } from '../runtime/paths.js';
import { BatchWriter } from '../runtime/transport.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? undefined : args[at + 1];
};
const durationMs = Number(option('duration') ?? 4) * 1000;
const clientCounts = (option('clients') ?? '64,256,512').split(',').map(Number);
const protocols = (option('protocols')?.split(',') ?? availableProtocols()) as ProtocolName[];
const workerShards = Number(option('executors') ?? 0);
const json = args.includes('--json');

interface Point {
  protocol: string;
  n: number;
  clients: number;
  opsPerSec: number;
  latencyMsP50: number;
  latencyMsP99: number;
  messagesPerSec: number;
  cpuMsPerOp: number;
  /** CPU per command of the client process(es), and the replicas' peer messages per frame. */
  clientCpuMsPerOp: number;
  messagesPerFrame: number;
}

async function point(protocol: ProtocolName, n: number, clients: number): Promise<Point> {
  const regions = localRegions(n);
  const run = await runCluster({
    protocol: protocolByName(protocol),
    config: makeConfig(protocol, { n }),
    cluster: loopbackCluster(regions),
    clientRegions: regions,
    clientsPerRegion: Math.ceil(clients / n),
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 100_000_000 },
    seed: 1,
    durationMs,
    workerShards,
    graceMs: 2000,
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
  const summary = run.result.latencyNs.summary((ns) => ns / 1e6);
  const replicaCpuMs = run.cpu.filter((c) => c.name.startsWith('replica')).reduce((sum, c) => sum + c.cpuUserMs + c.cpuSystemMs, 0);
  const clientCpuMs = run.cpu.filter((c) => c.name.startsWith('client')).reduce((sum, c) => sum + c.cpuUserMs + c.cpuSystemMs, 0);
  const peerFrames = [...run.replicas.values()].reduce((sum, s) => sum + s.peerFramesSent, 0);
  return {
    protocol,
    n,
    clients: Math.ceil(clients / n) * n,
    opsPerSec: Math.round(run.opsPerSec),
    latencyMsP50: Math.round(summary.p50 * 100) / 100,
    latencyMsP99: Math.round(summary.p99 * 100) / 100,
    messagesPerSec: Math.round((run.result.messagesTotal / run.wallMs) * 1000),
    cpuMsPerOp: Math.round((replicaCpuMs / Math.max(1, run.result.commandsCompleted)) * 1000) / 1000,
    clientCpuMsPerOp: Math.round((clientCpuMs / Math.max(1, run.result.commandsCompleted)) * 1000) / 1000,
    messagesPerFrame: Math.round((run.result.messagesTotal / Math.max(1, peerFrames)) * 100) / 100,
  };
}

/** Messages per second through one writer → socket → reader (codec and shape checks), `batch` per turn. */
async function ceiling(batch: number): Promise<{ batch: number; messagesPerSec: number; framesPerSec: number }> {
  const probe = fork(runtimeEntry('transport-probe'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(t: string, send?: unknown) =>
    new Promise<T>((resolve) => {
      const on = (m: { t: string }) => {
        if (m.t === t) {
          probe.off('message', on);
          resolve(m as T);
        }
      };
      probe.on('message', on);
      if (send !== undefined) probe.send(send as object);
    });
  const { port } = await ask<{ port: number }>('listening');
  const socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once('connect', resolve));
  let blocked = false;
  let resume: () => void = () => undefined;
  const writer = new BatchWriter({
    socket,
    kind: 'msgs',
    field: 'msgs',
    describe: () => 'probe',
    log: (line) => process.stderr.write(`${line}\n`),
    onBlocked: (b) => {
      blocked = b;
      if (!b) resume();
    },
  });
  writer.sendFrame({ k: 'hello', role: 'peer', id: 2 });
  // A typical Tempo message: a commit with its votes.
  const msg = { type: 'MCommit', dot: 4294967297, clock: 12, votes: [{ key: 'c12-0', by: 1, start: 11, end: 12 }, { key: 'c12-0', by: 2, start: 12, end: 12 }] };
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    if (blocked) await new Promise<void>((resolve) => (resume = resolve));
    for (let i = 0; i < batch; i++) writer.send(msg);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const before = await ask<{ messages: number; frames: number }>('count', { t: 'count' });
  const elapsed = performance.now() - start;
  socket.destroy();
  probe.kill('SIGTERM');
  await new Promise((resolve) => probe.once('close', resolve));
  return { batch, messagesPerSec: Math.round((before.messages / elapsed) * 1000), framesPerSec: Math.round((before.frames / elapsed) * 1000) };
}

const load = loadavg()[0]!;
const ceilings = [await ceiling(1), await ceiling(64)];
const best: Point[] = [];
const all: Point[] = [];
for (const protocol of protocols) {
  for (const n of [3, 5]) {
    let top: Point | undefined;
    for (const clients of clientCounts) {
      const p = await point(protocol, n, clients);
      all.push(p);
      if (top === undefined || p.opsPerSec > top.opsPerSec) top = p;
      else if (p.opsPerSec < top.opsPerSec * 1.05) break; // saturated
    }
    best.push(top!);
  }
}
const ceilingMsgs = Math.max(...ceilings.map((c) => c.messagesPerSec));
if (json) process.stdout.write(`${JSON.stringify({ cpus: availableParallelism(), loadavgBefore: load, loadavgAfter: loadavg()[0], durationMs, workerShards, ceilings, points: all, saturated: best }, null, 2)}\n`);
else {
  process.stdout.write(`runtime on loopback, ${availableParallelism()} CPUs, load average ${load.toFixed(1)} before / ${loadavg()[0]!.toFixed(1)} after, ${durationMs / 1000} s per point\n`);
  process.stdout.write(`transport ceiling (one link, no protocol work): ${ceilings.map((c) => `batch ${c.batch}: ${c.messagesPerSec} msgs/s in ${c.framesPerSec} frames/s`).join('; ')}\n`);
  process.stdout.write(`${'protocol'.padEnd(9)}${'n'.padStart(3)}${'clients'.padStart(9)}${'ops/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'msgs/s'.padStart(10)}${'ceiling/msgs'.padStart(14)}${'cpu ms/op'.padStart(11)}\n`);
  for (const p of all) {
    const mark = best.includes(p) ? ' *' : '';
    process.stdout.write(
      `${p.protocol.padEnd(9)}${String(p.n).padStart(3)}${String(p.clients).padStart(9)}${String(p.opsPerSec).padStart(9)}${p.latencyMsP50.toFixed(2).padStart(9)}${p.latencyMsP99.toFixed(2).padStart(9)}${String(p.messagesPerSec).padStart(10)}${(ceilingMsgs / Math.max(1, p.messagesPerSec)).toFixed(1).padStart(14)}${p.cpuMsPerOp.toFixed(3).padStart(11)}${mark}\n`,
    );
  }
  process.stdout.write('* saturated point (highest ops/s) per protocol and n\n');
}
