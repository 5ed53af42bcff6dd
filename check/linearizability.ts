/**
 * Linearizability of key-value histories, one key at a time (PROTOCOLS.md §8.6).
 *
 * Each key is a register holding a string or nothing: `get` returns the value (or null), `put`
 * stores a value and returns null, `delete` removes the value and returns the previous one. A
 * command's operations on one key apply in order, atomically. A key's history is linearizable when
 * some total order of its operations (a) respects real-time order ({@link precedes}: an operation
 * that completed before another was invoked comes first), (b) replays every result the clients saw,
 * and (c) contains every completed operation; an operation that never completed may be placed
 * anywhere after its invocation, or left out (it may never have taken effect).
 *
 * The search is Wing & Gong's (1993) depth-first search over "which operation takes effect next",
 * with Lowe's (2017) improvement that keeps a cache of configurations already explored — the set of
 * operations linearized so far (a bitset) and the register value — so that two interleavings
 * reaching the same configuration are searched once. The candidates at each step are the minimal
 * operations: not yet linearized, and invoked no later than the earliest completion among the
 * operations still to place (anything invoked after that completion must come after it).
 *
 * Linearizability checking is NP-complete in general, so the search has a budget: a number of steps
 * (deterministic), and optionally a wall-clock budget measured by a clock the caller passes in
 * (check/ never reads a clock itself). A key whose search runs out of budget gets the verdict
 * `unknown`, never `ok`.
 *
 * Per-key checking is exact for single-key commands and a proxy for multi-key ones (see
 * check/history.ts).
 */
import type { Key, OpResult } from '../core/command.js';
import { formatRifl, type Rifl } from '../core/ids.js';
import { describeKeyOperation, formatValue, projectByKey, validateHistory, type History, type KeyOperation } from './history.js';

/** Search limits. Every field has a default; see {@link LINEARIZABILITY_DEFAULTS}. */
export interface LinearizabilityOptions {
  /** Attempts to place one operation next, per key, before the key's verdict becomes `unknown`. */
  readonly budgetSteps?: number;
  /** A clock supplied by the caller (check/ reads none); used only together with `budgetMs`. */
  readonly now?: () => number;
  /** Wall-clock milliseconds for the whole check, measured with `now`; keys not finished in time are `unknown`. */
  readonly budgetMs?: number;
  /** Operations on one key above which the check refuses to search (an error naming this limit). */
  readonly maxOperationsPerKey?: number;
  /** 32-bit words the explored-configuration cache may hold per key; beyond it the search goes on uncached. */
  readonly maxCacheWords?: number;
}

/** The defaults of {@link LinearizabilityOptions}. */
export const LINEARIZABILITY_DEFAULTS = {
  budgetSteps: 2_000_000,
  maxOperationsPerKey: 100_000,
  maxCacheWords: 1 << 24,
} as const;

/** The verdict for one key. */
export type KeyVerdict = KeyOk | KeyViolation | KeyUnknown;

interface VerdictBase {
  readonly key: Key;
  /** Operations on the key that were searched (a pending read-only operation is dropped: it constrains nothing). */
  readonly operations: number;
  /** Search steps used. */
  readonly steps: number;
}

/** A legal order exists; `linearization` is one (completed operations and the pending ones it needed). */
export interface KeyOk extends VerdictBase {
  readonly verdict: 'ok';
  readonly linearization: readonly Rifl[];
}

/** No legal order exists. */
export interface KeyViolation extends VerdictBase {
  readonly verdict: 'violation';
  /** One or two sentences: what cannot be placed, and why. */
  readonly explanation: string;
  /** The longest legal prefix the search found (empty when the history fails before any search). */
  readonly longestPrefix: readonly Rifl[];
}

/** The budget ran out before the search decided. */
export interface KeyUnknown extends VerdictBase {
  readonly verdict: 'unknown';
  readonly reason: string;
}

/** The verdict of every key, and the counts. */
export interface LinearizabilityReport {
  readonly keysChecked: number;
  readonly ok: number;
  readonly violations: number;
  readonly unknown: number;
  /** Sorted by key. */
  readonly verdicts: readonly KeyVerdict[];
}

/** The search refused a history larger than a configured limit. */
export class LinearizabilityLimitError extends Error {
  override name = 'LinearizabilityLimitError';
}

/**
 * Checks every key of `history` and returns one verdict per key. Throws on a malformed history
 * (see {@link validateHistory}) and when a key exceeds `maxOperationsPerKey`.
 */
export function checkLinearizability(history: History, options: LinearizabilityOptions = {}): LinearizabilityReport {
  validateHistory(history);
  const limits = resolveOptions(options);
  const deadline = limits.clock === undefined ? undefined : { now: limits.clock.now, atMs: limits.clock.now() + limits.clock.budgetMs };
  const verdicts: KeyVerdict[] = [];
  for (const [key, operations] of projectByKey(history)) {
    verdicts.push(searchKey(key, operations, limits, deadline));
  }
  let ok = 0;
  let violations = 0;
  let unknown = 0;
  for (const verdict of verdicts) {
    if (verdict.verdict === 'ok') ok++;
    else if (verdict.verdict === 'violation') violations++;
    else unknown++;
  }
  return { keysChecked: verdicts.length, ok, violations, unknown, verdicts };
}

/**
 * Checks one key's operations (as {@link projectByKey} produces them; any order). The wall-clock
 * budget, when given, starts now.
 */
export function checkKeyLinearizability(key: Key, operations: readonly KeyOperation[], options: LinearizabilityOptions = {}): KeyVerdict {
  const limits = resolveOptions(options);
  const deadline = limits.clock === undefined ? undefined : { now: limits.clock.now, atMs: limits.clock.now() + limits.clock.budgetMs };
  const sorted = [...operations].sort((a, b) => a.invokeMs - b.invokeMs || a.rifl - b.rifl);
  return searchKey(key, sorted, limits, deadline);
}

/** Sentences for every key that is not `ok` (violations and unknowns), for logs and test failures. */
export function describeReport(report: LinearizabilityReport, limit = 20): string[] {
  const lines: string[] = [];
  for (const verdict of report.verdicts) {
    if (lines.length >= limit) break;
    if (verdict.verdict === 'violation') lines.push(`key ${verdict.key}: not linearizable: ${verdict.explanation}`);
    else if (verdict.verdict === 'unknown') lines.push(`key ${verdict.key}: unknown: ${verdict.reason}`);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// The search.

interface Limits {
  readonly budgetSteps: number;
  readonly maxOperationsPerKey: number;
  readonly maxCacheWords: number;
  readonly clock: { readonly now: () => number; readonly budgetMs: number } | undefined;
}

interface Deadline {
  readonly now: () => number;
  readonly atMs: number;
}

function resolveOptions(options: LinearizabilityOptions): Limits {
  const budgetSteps = options.budgetSteps ?? LINEARIZABILITY_DEFAULTS.budgetSteps;
  const maxOperationsPerKey = options.maxOperationsPerKey ?? LINEARIZABILITY_DEFAULTS.maxOperationsPerKey;
  const maxCacheWords = options.maxCacheWords ?? LINEARIZABILITY_DEFAULTS.maxCacheWords;
  if (!(Number.isInteger(budgetSteps) && budgetSteps >= 0)) throw new RangeError(`budgetSteps must be a non-negative integer (got ${budgetSteps})`);
  if (!(Number.isInteger(maxOperationsPerKey) && maxOperationsPerKey >= 1)) {
    throw new RangeError(`maxOperationsPerKey must be a positive integer (got ${maxOperationsPerKey})`);
  }
  if (!(Number.isInteger(maxCacheWords) && maxCacheWords >= 0)) throw new RangeError(`maxCacheWords must be a non-negative integer (got ${maxCacheWords})`);
  if ((options.now === undefined) !== (options.budgetMs === undefined)) {
    throw new RangeError('budgetMs and now go together: pass a clock function with the wall-clock budget');
  }
  let clock: Limits['clock'];
  if (options.now !== undefined && options.budgetMs !== undefined) {
    if (!(options.budgetMs >= 0)) throw new RangeError(`budgetMs must be a non-negative number (got ${options.budgetMs})`);
    clock = { now: options.now, budgetMs: options.budgetMs };
  }
  return { budgetSteps, maxOperationsPerKey, maxCacheWords, clock };
}

const GET = 0;
const PUT = 1;
const DELETE = 2;
/** Register value ids: 0 is "no value"; written strings get 1, 2, … */
const NO_VALUE = 0;
/** An expected result that is not known (the operation never completed). */
const ANY_RESULT = -1;
/** `apply` result when the operation's recorded results cannot happen from this value. */
const IMPOSSIBLE = -1;
/** How often (in steps) the injected clock is read; reading it is the costly part. */
const CLOCK_EVERY_STEPS = 256;

/** One key's operations compiled to integers for the search. */
interface Compiled {
  readonly operations: readonly KeyOperation[];
  readonly count: number;
  readonly invokeMs: Float64Array;
  /** Infinity for pending operations. */
  readonly completeMs: Float64Array;
  /** Dense client index per operation, for program order. */
  readonly clientIndex: Int32Array;
  readonly clients: number;
  /** Operation indices sorted by completion time (pending ones last). */
  readonly byCompletion: Int32Array;
  readonly completedCount: number;
  /** Per operation: [kind, value, expected] triples, flattened. */
  readonly program: readonly Int32Array[];
  /** 1 when every op of the operation is a get (it never changes the value). */
  readonly readOnly: Uint8Array;
  /** Per operation, the distinct value ids it may leave behind: those it puts, and no-value if it deletes. */
  readonly produces: readonly Int32Array[];
  /** Per operation, the value id its first op must observe (a completed get or delete first), or -1. */
  readonly needs: Int32Array;
  readonly values: readonly string[];
}

function searchKey(key: Key, all: readonly KeyOperation[], limits: Limits, deadline: Deadline | undefined): KeyVerdict {
  // A pending read changes nothing and no one saw its result, so it cannot constrain the order.
  const operations = all.filter((operation) => operation.completeMs !== null || operation.ops.some((op) => op.op !== 'get'));
  if (operations.length > limits.maxOperationsPerKey) {
    throw new LinearizabilityLimitError(
      `key ${key} has ${operations.length} operations to search, above maxOperationsPerKey=${limits.maxOperationsPerKey}; raise the limit or check a shorter history`,
    );
  }
  const base = { key, operations: operations.length };
  const early = impossibleResult(key, operations);
  if (early !== undefined) return { ...base, verdict: 'violation', steps: 0, explanation: early, longestPrefix: [] };
  if (deadline !== undefined && deadline.now() > deadline.atMs) {
    return { ...base, verdict: 'unknown', steps: 0, reason: 'the time budget ran out before this key was searched' };
  }
  const compiled = compile(operations);
  return new Search(compiled, limits, deadline).run(base);
}

/**
 * A result no order can explain, found without searching: a read of a value no operation on the
 * key ever wrote, or a put that returned something. Catching these first gives a plain sentence.
 */
function impossibleResult(key: Key, operations: readonly KeyOperation[]): string | undefined {
  const written = new Set<string>();
  for (const operation of operations) for (const op of operation.ops) if (op.op === 'put') written.add(op.value);
  for (const operation of operations) {
    if (operation.results === null) continue;
    for (let i = 0; i < operation.ops.length; i++) {
      const op = operation.ops[i]!;
      const result: OpResult = operation.results[i] ?? null;
      if (op.op === 'put' && result !== null) {
        return `${describeKeyOperation(operation)}: a put returns null, but this one returned ${formatValue(result)}`;
      }
      if (op.op !== 'put' && result !== null && !written.has(result)) {
        return `${describeKeyOperation(operation)}: ${op.op} returned ${formatValue(result)}, which no operation on key ${key} ever wrote`;
      }
    }
  }
  return undefined;
}

function compile(operations: readonly KeyOperation[]): Compiled {
  const count = operations.length;
  const valueIds = new Map<string, number>();
  const values: string[] = [''];
  const idOf = (value: string | null): number => {
    if (value === null) return NO_VALUE;
    let id = valueIds.get(value);
    if (id === undefined) {
      id = values.length;
      values.push(value);
      valueIds.set(value, id);
    }
    return id;
  };
  const invokeMs = new Float64Array(count);
  const completeMs = new Float64Array(count);
  const clientIndex = new Int32Array(count);
  const clientIds = new Map<number, number>();
  const program: Int32Array[] = [];
  const readOnly = new Uint8Array(count);
  const produces: Int32Array[] = [];
  const needs = new Int32Array(count);
  let completedCount = 0;
  for (let i = 0; i < count; i++) {
    const operation = operations[i]!;
    invokeMs[i] = operation.invokeMs;
    completeMs[i] = operation.completeMs ?? Infinity;
    if (operation.completeMs !== null) completedCount++;
    let client = clientIds.get(operation.client);
    if (client === undefined) clientIds.set(operation.client, (client = clientIds.size));
    clientIndex[i] = client;
    const code = new Int32Array(operation.ops.length * 3);
    operation.ops.forEach((op, k) => {
      code[k * 3] = op.op === 'get' ? GET : op.op === 'put' ? PUT : DELETE;
      code[k * 3 + 1] = op.op === 'put' ? idOf(op.value) : NO_VALUE;
      code[k * 3 + 2] = operation.results === null ? ANY_RESULT : idOf(operation.results[k] ?? null);
    });
    program.push(code);
    readOnly[i] = operation.ops.every((op) => op.op === 'get') ? 1 : 0;
    const puts = new Set<number>();
    for (let k = 0; k < code.length; k += 3) puts.add(code[k] === PUT ? code[k + 1]! : code[k] === DELETE ? NO_VALUE : -1);
    puts.delete(-1);
    produces.push(Int32Array.from([...puts].sort((a, b) => a - b)));
    needs[i] = code[0] !== PUT && code[2]! !== ANY_RESULT ? code[2]! : -1;
  }
  const byCompletion = Int32Array.from({ length: count }, (_, i) => i).sort((a, b) => completeMs[a]! - completeMs[b]! || a - b);
  return { operations, count, invokeMs, completeMs, clientIndex, clients: clientIds.size, byCompletion, completedCount, program, readOnly, produces, needs, values };
}

/** The register value after applying operation `index` to `value`, or IMPOSSIBLE when its results disagree. */
function apply(code: Int32Array, value: number): number {
  let current = value;
  for (let k = 0; k < code.length; k += 3) {
    const expected = code[k + 2]!;
    switch (code[k]) {
      case GET:
        if (expected !== ANY_RESULT && expected !== current) return IMPOSSIBLE;
        break;
      case PUT:
        if (expected !== ANY_RESULT && expected !== NO_VALUE) return IMPOSSIBLE;
        current = code[k + 1]!;
        break;
      default:
        if (expected !== ANY_RESULT && expected !== current) return IMPOSSIBLE;
        current = NO_VALUE;
    }
  }
  return current;
}

/** One level of the depth-first search: the operation placed to get here and what is left to try. */
interface Frame {
  /** The operation placed last (-1 at the root). */
  readonly placed: number;
  /** The register value before `placed`. */
  readonly valueBefore: number;
  readonly candidates: readonly number[];
  next: number;
  /** Every operation before this index (invocation order) is placed. */
  readonly firstUnplaced: number;
  /** Every operation before this position of `byCompletion` is placed. */
  readonly firstUnplacedByCompletion: number;
}

class Search {
  private readonly words: number;
  private readonly placed: Uint32Array;
  /** Two independent 32-bit hashes of `placed` (Zobrist: xor of per-operation constants). */
  private hashA = 0;
  private hashB = 0;
  private readonly zobristA: Int32Array;
  private readonly zobristB: Int32Array;
  private readonly cache: ConfigurationCache;
  private placedCompleted = 0;
  /** Per value id: unplaced operations that put it, and unplaced completed operations that must observe it first. */
  private readonly producers: Int32Array;
  private readonly needers: Int32Array;
  /** Values some unplaced operation must observe but no unplaced operation can put any more. */
  private lostValues = 0;
  private steps = 0;
  /** Scratch for candidate computation: per client, the earliest completion among unplaced operations seen. */
  private readonly clientEarliest: Float64Array;

  constructor(
    private readonly c: Compiled,
    private readonly limits: Limits,
    private readonly deadline: Deadline | undefined,
  ) {
    this.words = Math.max(1, Math.ceil(c.count / 32));
    this.placed = new Uint32Array(this.words);
    this.zobristA = new Int32Array(c.count);
    this.zobristB = new Int32Array(c.count);
    // A fixed generator (splitmix32), so that hashes and hence the search are the same every run.
    let seed = 0x9e3779b9;
    const next = (): number => {
      seed = (seed + 0x9e3779b9) | 0;
      let z = seed;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return z ^ (z >>> 16);
    };
    for (let i = 0; i < c.count; i++) {
      this.zobristA[i] = next();
      this.zobristB[i] = next();
    }
    this.cache = new ConfigurationCache(this.words, Math.floor(limits.maxCacheWords / (this.words + 2)));
    this.clientEarliest = new Float64Array(c.clients).fill(Infinity);
    this.producers = new Int32Array(c.values.length);
    this.needers = new Int32Array(c.values.length);
    for (let i = 0; i < c.count; i++) {
      for (const v of c.produces[i]!) this.producers[v]!++;
      if (c.needs[i]! >= 0) this.needers[c.needs[i]!]!++;
    }
    for (let v = 0; v < c.values.length; v++) if (this.isLost(v)) this.lostValues++;
  }

  run(base: { key: Key; operations: number }): KeyVerdict {
    const c = this.c;
    if (c.completedCount === 0) return { ...base, verdict: 'ok', steps: 0, linearization: [] };
    let value = NO_VALUE;
    const root = this.frame(-1, NO_VALUE, NO_VALUE, 0, 0, true);
    const frames: Frame[] = [root];
    let longest: number[] = [];
    for (;;) {
      const frame = frames[frames.length - 1]!;
      if (frame.next === frame.candidates.length) {
        // Every candidate fails from here: undo the operation that led here and try its next sibling.
        frames.pop();
        if (frame.placed < 0) {
          return { ...base, verdict: 'violation', steps: this.steps, explanation: this.explain(longest), longestPrefix: longest.map((i) => c.operations[i]!.rifl) };
        }
        this.toggle(frame.placed);
        value = frame.valueBefore;
        continue;
      }
      const candidate = frame.candidates[frame.next++]!;
      if (this.steps >= this.limits.budgetSteps) return this.unknown(base, `the search used its budget of ${this.limits.budgetSteps} steps (budgetSteps) with at most ${longest.length} of ${c.count} operations placed`);
      this.steps++;
      if (this.deadline !== undefined && this.steps % CLOCK_EVERY_STEPS === 0 && this.deadline.now() > this.deadline.atMs) {
        return this.unknown(base, `the time budget (budgetMs) ran out after ${this.steps} steps with at most ${longest.length} of ${c.count} operations placed`);
      }
      const after = apply(c.program[candidate]!, value);
      if (after === IMPOSSIBLE) continue;
      this.toggle(candidate);
      if (this.lostValues > (this.isLost(after) ? 1 : 0)) {
        // Some unplaced operation must observe a value that is not the register's and that no
        // unplaced operation can put again: it can never be placed, so neither can this order.
        this.toggle(candidate);
        continue;
      }
      if (!this.cache.add(this.placed, this.hashA, this.hashB, after)) {
        // This set of operations already led to this value along another order, and failed there.
        this.toggle(candidate);
        continue;
      }
      if (this.placedCompleted === c.completedCount) {
        const order = frames.slice(1).map((f) => f.placed);
        order.push(candidate);
        return { ...base, verdict: 'ok', steps: this.steps, linearization: order.map((i) => c.operations[i]!.rifl) };
      }
      frames.push(this.frame(candidate, value, after, frame.firstUnplaced, frame.firstUnplacedByCompletion, true));
      value = after;
      if (frames.length - 1 > longest.length) longest = frames.slice(1).map((f) => f.placed);
    }
  }

  private unknown(base: { key: Key; operations: number }, reason: string): KeyUnknown {
    return { ...base, verdict: 'unknown', steps: this.steps, reason };
  }

  /** Places or unplaces operation `index`, keeping the hashes and the completed count in step. */
  private toggle(index: number): void {
    const word = index >>> 5;
    const bit = 1 << (index & 31);
    const wasPlaced = (this.placed[word]! & bit) !== 0;
    this.placed[word] = this.placed[word]! ^ bit;
    this.hashA ^= this.zobristA[index]!;
    this.hashB ^= this.zobristB[index]!;
    const delta = wasPlaced ? 1 : -1;
    if (this.c.completeMs[index]! !== Infinity) this.placedCompleted -= delta;
    for (const v of this.c.produces[index]!) {
      const before = this.isLost(v);
      this.producers[v]! += delta;
      this.lostValues += Number(this.isLost(v)) - Number(before);
    }
    const need = this.c.needs[index]!;
    if (need >= 0) {
      const before = this.isLost(need);
      this.needers[need]! += delta;
      this.lostValues += Number(this.isLost(need)) - Number(before);
    }
  }

  private isLost(value: number): boolean {
    return this.needers[value]! > 0 && this.producers[value] === 0;
  }

  private isPlaced(index: number): boolean {
    return (this.placed[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  /**
   * A new frame after placing `placed`, with its candidates computed from the current placed set
   * and `value`. With `forceReads`, a candidate that only reads and sees `value` becomes the only
   * candidate: if any legal order extends the current prefix, one places that read next (moving a
   * read earlier changes no other result, and a minimal operation has no unplaced predecessor), so
   * branching over it would only multiply configurations, 2^k for k concurrent reads of one value.
   */
  private frame(placed: number, valueBefore: number, value: number, firstUnplacedFrom: number, byCompletionFrom: number, forceReads: boolean): Frame {
    const c = this.c;
    let firstUnplaced = firstUnplacedFrom;
    while (firstUnplaced < c.count && this.isPlaced(firstUnplaced)) firstUnplaced++;
    let firstByCompletion = byCompletionFrom;
    while (firstByCompletion < c.count && this.isPlaced(c.byCompletion[firstByCompletion]!)) firstByCompletion++;
    const earliestCompletion = firstByCompletion < c.count ? c.completeMs[c.byCompletion[firstByCompletion]!]! : Infinity;
    let candidates = this.candidates(firstUnplaced, earliestCompletion);
    if (forceReads) candidates = this.order(candidates, value);
    return {
      placed,
      valueBefore,
      candidates,
      next: 0,
      firstUnplaced,
      firstUnplacedByCompletion: firstByCompletion,
    };
  }

  /**
   * The candidates worth trying, best first. A read that sees `value` goes alone (see
   * {@link frame}). Operations whose results cannot follow `value` are dropped: they cannot come
   * next. The writes follow, first those that produce the value the earliest-completing dropped
   * read saw (it must come before that read, with no other write between), then by completion time, earliest first
   * (it is the deadline that prunes the most). The order changes only how fast the search
   * decides, never what it decides.
   */
  private order(candidates: readonly number[], value: number): number[] {
    const c = this.c;
    let wanted = -1;
    let wantedDeadline = Infinity;
    const writes: number[] = [];
    for (const candidate of candidates) {
      const fits = apply(c.program[candidate]!, value) !== IMPOSSIBLE;
      if (fits && c.readOnly[candidate] === 1) return [candidate];
      if (fits) writes.push(candidate);
      else if (c.readOnly[candidate] === 1 && c.completeMs[candidate]! < wantedDeadline) {
        wantedDeadline = c.completeMs[candidate]!;
        wanted = c.needs[candidate]!;
      }
    }
    const rank = (index: number): number => (wanted >= 0 && apply(c.program[index]!, value) === wanted ? 0 : 1);
    return writes.sort((a, b) => rank(a) - rank(b) || c.completeMs[a]! - c.completeMs[b]! || a - b);
  }

  /**
   * The minimal unplaced operations: invoked no later than the earliest completion among unplaced
   * operations (an operation invoked strictly after another completed must follow it), and not
   * behind an unplaced operation of the same client that completed the instant it was invoked.
   */
  private candidates(firstUnplaced: number, earliestCompletion: number): number[] {
    const c = this.c;
    const found: number[] = [];
    const touched: number[] = [];
    for (let i = firstUnplaced; i < c.count && c.invokeMs[i]! <= earliestCompletion; i++) {
      if (this.isPlaced(i)) continue;
      const client = c.clientIndex[i]!;
      if (this.clientEarliest[client]! > c.invokeMs[i]!) found.push(i);
      if (c.completeMs[i]! < this.clientEarliest[client]!) {
        if (this.clientEarliest[client] === Infinity) touched.push(client);
        this.clientEarliest[client] = c.completeMs[i]!;
      }
    }
    for (const client of touched) this.clientEarliest[client] = Infinity;
    return found;
  }

  /** After placing `candidate` (leaving `after`), a value some unplaced operation still needs but can no longer get, and that operation. */
  private strandedBy(candidate: number, after: number): { value: number; needer: number } | undefined {
    const c = this.c;
    this.toggle(candidate);
    let found: { value: number; needer: number } | undefined;
    for (let i = 0; i < c.count && found === undefined; i++) {
      const need = c.needs[i]!;
      if (need >= 0 && need !== after && !this.isPlaced(i) && this.isLost(need)) found = { value: need, needer: i };
    }
    this.toggle(candidate);
    return found;
  }

  /** Why the longest legal prefix cannot be extended: each candidate's failure, in a sentence or two. */
  private explain(prefix: readonly number[]): string {
    const c = this.c;
    // The search unplaced everything on its way out; replay the prefix with the counters in step.
    let value = NO_VALUE;
    for (const index of prefix) {
      this.toggle(index);
      value = apply(c.program[index]!, value);
    }
    const frame = this.frame(-1, value, value, 0, 0, false);
    const text = (id: number): string => formatValue(id === NO_VALUE ? null : c.values[id]!);
    const state = `the value ${text(value)}`;
    const head =
      prefix.length === 0
        ? 'no operation can take effect first (the register starts empty)'
        : `the longest legal order covers ${prefix.length} of ${c.count} operations, ending with ${describeKeyOperation(c.operations[prefix[prefix.length - 1]!]!)} with ${state}`;
    const reasons: string[] = [];
    const shown = 3;
    for (const candidate of frame.candidates.slice(0, shown)) {
      const operation = c.operations[candidate]!;
      const after = apply(c.program[candidate]!, value);
      if (after === IMPOSSIBLE) {
        reasons.push(`${describeKeyOperation(operation)} cannot see ${state}`);
        continue;
      }
      const stranded = this.strandedBy(candidate, after);
      reasons.push(
        stranded === undefined
          ? `${describeKeyOperation(operation)} fits but leaves the rest unplaceable`
          : `${describeKeyOperation(operation)}, after which nothing could bring ${text(stranded.value)} back for ${describeKeyOperation(c.operations[stranded.needer]!)}`,
      );
    }
    if (frame.candidates.length > shown) reasons.push(`${frame.candidates.length - shown} more`);
    // Say why the other unplaced operations are not candidates: they were invoked after some
    // unplaced operation completed.
    const unplaced = c.count - prefix.length;
    const blocking = frame.firstUnplacedByCompletion < c.count ? c.operations[c.byCompletion[frame.firstUnplacedByCompletion]!]! : undefined;
    const waitNote =
      blocking === undefined || blocking.completeMs === null || unplaced === frame.candidates.length
        ? ''
        : `; ${unplaced - frame.candidates.length} other${unplaced - frame.candidates.length === 1 ? ' was' : 's were'} invoked after ${formatRifl(blocking.rifl)} completed at ${blocking.completeMs} ms`;
    return `${head}; next could come only: ${reasons.join('; ')}${waitNote}`;
  }
}

/**
 * The configurations (placed set, register value) already explored. Entries live in flat typed
 * arrays — bitsets back to back — found through a map from a 32-bit hash to a chain of entries,
 * and compared in full, so a hash collision can never prune a configuration wrongly. When the
 * entry limit is reached new configurations are no longer remembered: the search stays correct,
 * it only loses pruning.
 */
class ConfigurationCache {
  private readonly heads = new Map<number, number>();
  private bits: Uint32Array;
  private values: Int32Array;
  private hashesB: Int32Array;
  private chain: Int32Array;
  private size = 0;

  constructor(
    private readonly words: number,
    private readonly maxEntries: number,
  ) {
    const initial = Math.min(1024, maxEntries);
    this.bits = new Uint32Array(initial * words);
    this.values = new Int32Array(initial);
    this.hashesB = new Int32Array(initial);
    this.chain = new Int32Array(initial);
  }

  /** Remembers the configuration; false when it was already there. */
  add(placed: Uint32Array, hashA: number, hashB: number, value: number): boolean {
    const slot = (hashA ^ Math.imul(value, 0x9e3779b1)) | 0;
    const head = this.heads.get(slot);
    for (let entry = head ?? -1; entry >= 0; entry = this.chain[entry]!) {
      if (this.values[entry] === value && this.hashesB[entry] === hashB && this.same(entry, placed)) return false;
    }
    if (this.size >= this.maxEntries) return true;
    if (this.size === this.values.length) this.grow();
    const entry = this.size++;
    this.bits.set(placed, entry * this.words);
    this.values[entry] = value;
    this.hashesB[entry] = hashB;
    this.chain[entry] = head ?? -1;
    this.heads.set(slot, entry);
    return true;
  }

  private same(entry: number, placed: Uint32Array): boolean {
    const offset = entry * this.words;
    for (let w = 0; w < this.words; w++) if (this.bits[offset + w] !== placed[w]) return false;
    return true;
  }

  private grow(): void {
    const capacity = Math.min(this.maxEntries, Math.max(1024, this.values.length * 2));
    const bits = new Uint32Array(capacity * this.words);
    bits.set(this.bits);
    this.bits = bits;
    const values = new Int32Array(capacity);
    values.set(this.values);
    this.values = values;
    const hashesB = new Int32Array(capacity);
    hashesB.set(this.hashesB);
    this.hashesB = hashesB;
    const chain = new Int32Array(capacity);
    chain.set(this.chain);
    this.chain = chain;
  }
}
