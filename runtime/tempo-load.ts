/**
 * A synthetic, executor-bound Tempo load: committed commands fed straight to table executors, with
 * no protocol in front. Used by `npm run bench:executor` and by the shard-equivalence test.
 *
 * Command i gets the unique timestamp i+1 and a dot and rifl of its own; its keys are drawn from
 * `keys` keys. Each Committed info carries, on its key, the votes of all n processes from the key's
 * previous timestamp up to its own, so a command is stable as soon as it is committed, exactly as
 * in a run where every process voted; every `multiKeyEvery`-th command touches two keys, which makes
 * the shards exchange StableAtKey infos.
 */
import { makeDot, makeRifl } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import type { Committed, TempoInfo, Vote } from '../protocols/tempo/messages.js';

export interface TempoLoadOptions {
  readonly commands: number;
  readonly keys: number;
  readonly n: number;
  /** Every this-many-th command touches two keys (0: never). */
  readonly multiKeyEvery: number;
  readonly seed: string | number;
  /** Infos per yielded chunk. */
  readonly chunk: number;
}

/**
 * The random part of a load, drawn up front: each command's key index (and second key index, or −1),
 * so that building the infos while feeding them costs little next to executing them.
 */
export interface TempoLoadPlan {
  readonly options: TempoLoadOptions;
  readonly firstKey: Int32Array;
  readonly secondKey: Int32Array;
  readonly keyNames: readonly string[];
}

export function planTempoLoad(options: TempoLoadOptions): TempoLoadPlan {
  const rng = new Rng(options.seed);
  const firstKey = new Int32Array(options.commands);
  const secondKey = new Int32Array(options.commands).fill(-1);
  for (let i = 0; i < options.commands; i++) {
    firstKey[i] = rng.int(options.keys);
    if (options.multiKeyEvery > 0 && i % options.multiKeyEvery === options.multiKeyEvery - 1) {
      const second = rng.int(options.keys);
      if (second !== firstKey[i]) secondKey[i] = second;
    }
  }
  const keyNames = Array.from({ length: options.keys }, (_, k) => `k${k}`);
  return { options, firstKey, secondKey, keyNames };
}

/** The infos, in chunks, in the order the executors must receive them. */
export function* tempoLoad(options: TempoLoadOptions | TempoLoadPlan): Generator<TempoInfo[]> {
  const plan = 'firstKey' in options ? options : planTempoLoad(options);
  // By key index, not by name: a Map of 100,000 names would cost this generator more than the
  // benchmarked path's own per-command work on the main thread.
  const lastClock = new Float64Array(plan.options.keys);
  let chunk: TempoInfo[] = [];
  const { keyNames } = plan;
  for (let i = 0; i < plan.options.commands; i++) {
    const clock = i + 1;
    const firstIndex = plan.firstKey[i]!;
    const secondIndex = plan.secondKey[i]!;
    const first = keyNames[firstIndex]!;
    let keys = [first];
    let indices = [firstIndex];
    if (secondIndex >= 0) {
      const second = keyNames[secondIndex]!;
      keys = first < second ? [first, second] : [second, first];
      indices = first < second ? [firstIndex, secondIndex] : [secondIndex, firstIndex];
    }
    const { n, chunk: chunkSize } = plan.options;
    const dot = makeDot(1 + (i % n), Math.floor(i / n) + 1);
    const rifl = makeRifl(1 + (i % 1000), Math.floor(i / 1000) + 1);
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const start = lastClock[indices[k]!]! + 1;
      lastClock[indices[k]!] = clock;
      const votes: Vote[] = [];
      for (let by = 1; by <= n; by++) votes.push({ key, by, start, end: clock });
      const info: Committed = { type: 'Committed', key, dot, clock, rifl, ops: [{ op: 'put', value: `v${i}` }], keys, votes };
      chunk.push(info);
      if (chunk.length >= chunkSize) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}
