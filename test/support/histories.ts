/**
 * Test support for history checkers: a small language for hand-written histories, and a
 * deliberately naive reference checker (every permutation) to test the real search against.
 */
import type { Op, OpResult } from '../../core/command.js';
import { makeRifl, type Rifl } from '../../core/ids.js';
import { precedes, type History, type KeyOperation, type Operation } from '../../check/history.js';

export const get: Op = { op: 'get' };
export const del: Op = { op: 'delete' };
export function put(value: string): Op {
  return { op: 'put', value };
}

/** One operation on one key; `completeMs` null makes it pending (and its results are dropped). */
export function single(
  client: number,
  seq: number,
  invokeMs: number,
  completeMs: number | null,
  ops: readonly Op[],
  results: readonly OpResult[],
  key = 'x',
): Operation {
  return { client, rifl: makeRifl(client, seq), invokeMs, completeMs, keys: [{ key, ops, results: completeMs === null ? null : results }] };
}

/** A put of `value` on key x by `client`, that returned null. */
export function w(client: number, seq: number, invokeMs: number, completeMs: number | null, value: string, key = 'x'): Operation {
  return single(client, seq, invokeMs, completeMs, [put(value)], [null], key);
}

/** A get on key x by `client` that returned `result`. */
export function r(client: number, seq: number, invokeMs: number, completeMs: number | null, result: OpResult, key = 'x'): Operation {
  return single(client, seq, invokeMs, completeMs, [get], [result], key);
}

/** A delete on key x by `client` that returned `result`. */
export function d(client: number, seq: number, invokeMs: number, completeMs: number | null, result: OpResult, key = 'x'): Operation {
  return single(client, seq, invokeMs, completeMs, [del], [result], key);
}

/** Replays `ops` on a register holding `value`; the new value and the results. */
export function replay(value: string | null, ops: readonly Op[]): { value: string | null; results: OpResult[] } {
  let current = value;
  const results: OpResult[] = [];
  for (const op of ops) {
    if (op.op === 'get') results.push(current);
    else if (op.op === 'put') {
      results.push(null);
      current = op.value;
    } else {
      results.push(current);
      current = null;
    }
  }
  return { value: current, results };
}

/**
 * Checks a witness independently of the search: it lists every completed operation once (pending
 * ones optionally), respects real-time order, and replays to every recorded result. Returns the
 * first problem, or undefined.
 */
export function witnessProblem(operations: readonly KeyOperation[], order: readonly Rifl[]): string | undefined {
  const byRifl = new Map(operations.map((o) => [o.rifl, o]));
  const position = new Map<Rifl, number>();
  order.forEach((rifl, i) => position.set(rifl, i));
  if (position.size !== order.length) return 'a rifl twice in the witness';
  for (const o of operations) if (o.completeMs !== null && !position.has(o.rifl)) return `completed ${o.rifl} missing`;
  for (const a of operations) {
    for (const b of operations) {
      if (!position.has(a.rifl) || !position.has(b.rifl)) continue;
      if (precedes(a, b) && position.get(a.rifl)! > position.get(b.rifl)!) return `${a.rifl} precedes ${b.rifl} in real time`;
    }
  }
  let value: string | null = null;
  for (const rifl of order) {
    const o = byRifl.get(rifl);
    if (o === undefined) return `unknown ${rifl}`;
    const step = replay(value, o.ops);
    if (o.results !== null && JSON.stringify(step.results) !== JSON.stringify(o.results)) return `${rifl} results differ`;
    value = step.value;
  }
  return undefined;
}

/** Naive reference: tries every permutation of every subset that contains all completed operations. */
export function bruteForceLinearizable(operations: readonly KeyOperation[]): boolean {
  const n = operations.length;
  if (n > 8) throw new Error('the brute-force reference handles at most 8 operations');
  const used = new Array<boolean>(n).fill(false);
  const order: Rifl[] = [];
  const completed = operations.filter((o) => o.completeMs !== null).length;
  const search = (placedCompleted: number): boolean => {
    if (placedCompleted === completed && witnessProblem(operations, order) === undefined) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      used[i] = true;
      order.push(operations[i]!.rifl);
      const found = search(placedCompleted + (operations[i]!.completeMs === null ? 0 : 1));
      order.pop();
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(0);
}

/** The history's operations on one key, as the checkers see them. */
export function onKey(history: History, key = 'x'): KeyOperation[] {
  const found: KeyOperation[] = [];
  for (const o of history) {
    for (const record of o.keys) {
      if (record.key === key) found.push({ client: o.client, rifl: o.rifl, invokeMs: o.invokeMs, completeMs: o.completeMs, ops: record.ops, results: record.results });
    }
  }
  return found;
}

/** One step of a generated closed-loop client: how long it takes and where it takes effect. */
export interface GeneratedStep {
  readonly client: number;
  readonly key: string;
  readonly kind: 'get' | 'put' | 'delete' | 'put-get';
  /** Interval length in ms (≥ 1). */
  readonly durationMs: number;
  /** Where in the interval the operation takes effect, in (0, 1). */
  readonly pointFraction: number;
  /** The reply never arrives (the client stops there); `tookEffect` says whether the op ran anyway. */
  readonly pending?: { readonly tookEffect: boolean };
}

/**
 * A history that is linearizable by construction: every client runs its steps back to back, each
 * step takes effect at a point inside its interval, the points define a sequential execution, and
 * every recorded result is that execution's. `valueOf` names the value a put writes.
 */
export function linearizableHistory(steps: readonly GeneratedStep[], valueOf = (client: number, seq: number) => `${client}.${seq}`): History {
  const cursor = new Map<number, number>();
  const seqOf = new Map<number, number>();
  const stopped = new Set<number>();
  const planned: Array<{ step: GeneratedStep; seq: number; invokeMs: number; completeMs: number; pointMs: number }> = [];
  for (const step of steps) {
    if (stopped.has(step.client)) continue;
    const invokeMs = cursor.get(step.client) ?? 0;
    const seq = (seqOf.get(step.client) ?? 0) + 1;
    seqOf.set(step.client, seq);
    const completeMs = invokeMs + step.durationMs;
    cursor.set(step.client, completeMs);
    if (step.pending !== undefined) stopped.add(step.client);
    planned.push({ step, seq, invokeMs, completeMs, pointMs: invokeMs + step.pointFraction * step.durationMs });
  }
  const byPoint = planned.map((p, i) => ({ p, i })).sort((a, b) => a.p.pointMs - b.p.pointMs || a.i - b.i);
  const values = new Map<string, string | null>();
  const operations: Operation[] = new Array(planned.length);
  for (const { p, i } of byPoint) {
    const { step } = p;
    const value = valueOf(step.client, p.seq);
    const ops: Op[] = step.kind === 'get' ? [get] : step.kind === 'put' ? [put(value)] : step.kind === 'delete' ? [del] : [put(value), get];
    const pending = step.pending !== undefined;
    let results: OpResult[] | null = null;
    if (!pending || step.pending.tookEffect) {
      const executed = replay(values.get(step.key) ?? null, ops);
      values.set(step.key, executed.value);
      results = executed.results;
    }
    operations[i] = {
      client: step.client,
      rifl: makeRifl(step.client, p.seq),
      invokeMs: p.invokeMs,
      completeMs: pending ? null : p.completeMs,
      keys: [{ key: step.key, ops, results: pending ? null : results }],
    };
  }
  return operations;
}

/** A deterministic generator for tests that need many numbers without fast-check (xorshift32). */
export function numbers(seed: number): () => number {
  let state = seed | 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

/** `count` closed-loop steps for `clients` clients on `keys` keys, half reads, some deletes. */
export function randomSteps(seed: number, count: number, clients: number, keys: readonly string[]): GeneratedStep[] {
  const next = numbers(seed);
  const steps: GeneratedStep[] = [];
  for (let i = 0; i < count; i++) {
    const roll = next();
    steps.push({
      client: 1 + Math.floor(next() * clients),
      key: keys[Math.floor(next() * keys.length)]!,
      kind: roll < 0.5 ? 'get' : roll < 0.9 ? 'put' : roll < 0.95 ? 'delete' : 'put-get',
      durationMs: 1 + Math.floor(next() * 100),
      pointFraction: 0.001 + next() * 0.998,
    });
  }
  return steps;
}
