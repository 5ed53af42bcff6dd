/**
 * `npm run bench:codec`: the wire codec candidates on frames the runtime really sends — batches of
 * Tempo and FPaxos messages as they come out of a simulation — encode + decode round trips per second
 * and bytes per message (after the first frame for the per-connection codec, whose later frames refer
 * to structures defined earlier). The runtime's codec (runtime/codec.ts) was picked from these figures.
 *
 * Options: --json.
 */
import { availableParallelism, loadavg } from 'node:os';
import { makeConfig } from '../core/config.js';
import type { Message } from '../core/process.js';
import { protocolByName } from '../protocols/index.js';
import { connectionCodec, JSON_CODEC, MSGPACK_CODEC, type Codec } from '../runtime/codec.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

/** Messages a short simulation sends, in send order (captured through the strict-mode hook's input). */
function capture(protocol: 'fpaxos' | 'tempo'): Message[] {
  const messages: Message[] = [];
  const definition = protocolByName(protocol);
  const wrapped = {
    ...definition,
    createProcess: (id: number, config: Parameters<typeof definition.createProcess>[1]) => {
      const process = definition.createProcess(id, config);
      const drain = process.drain.bind(process);
      process.drain = () => {
        const outputs = drain();
        for (const output of outputs) if (output.kind === 'send') messages.push(output.msg as Message);
        return outputs;
      };
      return process;
    },
  };
  const regions = ['us-east1', 'europe-west2', 'asia-southeast1'];
  new Simulation({
    protocol: wrapped,
    config: makeConfig(protocol, { n: 3 }),
    planet: builtInPlanet('gcp'),
    processRegions: regions,
    clientRegions: regions,
    clientsPerRegion: 20,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 100, conflictRate: 10, readRatio: 20 },
    seed: 1,
  }).run();
  return messages;
}

/** An encoder and a decoder: the same object for stateless codecs, two instances for per-connection ones. */
interface CodecPair {
  readonly name: string;
  readonly encoder: Codec;
  readonly decoder: Codec;
}
const stateless = (codec: Codec): CodecPair => ({ name: codec.name, encoder: codec, decoder: codec });
/** A fresh pair per measurement, as a fresh connection would have. */
const CODECS: Array<() => CodecPair> = [
  () => stateless(MSGPACK_CODEC),
  () => ({ name: 'msgpackr-records', encoder: connectionCodec(), decoder: connectionCodec() }),
  () => stateless(JSON_CODEC),
];

interface Row {
  protocol: string;
  codec: string;
  batch: number;
  framesPerSec: number;
  messagesPerSec: number;
  bytesPerMessage: number;
}

function measure(makePair: () => CodecPair, batches: readonly Message[][], protocol: string, batch: number): Row {
  let bytes = 0;
  let messages = 0;
  const warm = makePair();
  for (const b of batches) warm.decoder.decode(warm.encoder.encode({ k: 'msgs', msgs: b }));
  const sized = makePair();
  for (const b of batches) bytes += sized.encoder.encode({ k: 'msgs', msgs: b }).length;
  for (const b of batches) messages += b.length;
  const { name, encoder, decoder } = makePair();
  let frames = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < 1000) {
    for (const b of batches) {
      const decoded = decoder.decode(encoder.encode({ k: 'msgs', msgs: b })) as { msgs: unknown[] };
      if (decoded.msgs.length !== b.length) throw new Error('round trip lost messages');
      frames++;
    }
    elapsed = performance.now() - start;
  }
  const rounds = frames / batches.length;
  return {
    protocol,
    codec: name,
    batch,
    framesPerSec: Math.round((frames / elapsed) * 1000),
    messagesPerSec: Math.round(((rounds * messages) / elapsed) * 1000),
    bytesPerMessage: Math.round((bytes / messages) * 10) / 10,
  };
}

const rows: Row[] = [];
for (const protocol of ['fpaxos', 'tempo'] as const) {
  const messages = capture(protocol);
  for (const batch of [1, 16]) {
    const batches: Message[][] = [];
    for (let i = 0; i + batch <= Math.min(messages.length, 20_000); i += batch) batches.push(messages.slice(i, i + batch));
    for (const codec of CODECS) rows.push(measure(codec, batches, protocol, batch));
  }
}
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ cpus: availableParallelism(), loadavg: loadavg(), rows }, null, 2)}\n`);
else {
  process.stdout.write(`codec round trips (encode + decode), ${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(1)}\n`);
  process.stdout.write(`${'protocol'.padEnd(8)}${'codec'.padEnd(18)}${'batch'.padStart(6)}${'frames/s'.padStart(11)}${'msgs/s'.padStart(11)}${'B/msg'.padStart(8)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.protocol.padEnd(8)}${r.codec.padEnd(18)}${String(r.batch).padStart(6)}${String(r.framesPerSec).padStart(11)}${String(r.messagesPerSec).padStart(11)}${r.bytesPerMessage.toFixed(1).padStart(8)}\n`);
  }
}
