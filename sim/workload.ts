/**
 * Workloads: what each client submits. A command's keys are drawn either by conflict rate (with
 * probability c% from a shared pool of `sharedKeys` keys, otherwise a key private to the client) or
 * by a zipf(θ) popularity over `zipfKeys` keys. Each client draws from its own generator forked from
 * the run's seed, so the same seed gives every client the same commands whatever the protocol.
 */
import { makeCommand, type Command, type KeyOps, type Op } from '../core/command.js';
import { makeRifl, type ClientId } from '../core/ids.js';
import { UsageError } from '../core/invariant.js';
import type { Rng } from '../core/rng.js';

export interface WorkloadOptions {
  /** Commands each client submits (closed loop: one outstanding at a time). */
  readonly commandsPerClient: number;
  /** Percentage (0..100) of keys drawn from the shared pool (ignored with zipf). */
  readonly conflictRate: number;
  /** Size of the shared key pool. */
  readonly sharedKeys: number;
  /** Zipf exponent θ; when set, keys follow zipf(θ) over `zipfKeys` keys instead of the conflict rate. */
  readonly zipfTheta?: number;
  /** Number of keys under zipf. */
  readonly zipfKeys: number;
  /** Percentage (0..100) of commands that are read-only (gets); the rest write (puts). */
  readonly readRatio: number;
  /** Distinct keys per command. */
  readonly keysPerCommand: number;
  /** Opaque payload bytes per command. */
  readonly payloadBytes: number;
}

/** Largest `commandsPerClient`; hosts that stop clients by time instead pass it to mean "no limit". */
export const COMMANDS_PER_CLIENT_MAX = 100_000_000;

export const WORKLOAD_DEFAULTS: WorkloadOptions = {
  commandsPerClient: 100,
  conflictRate: 2,
  sharedKeys: 1,
  zipfKeys: 1000,
  readRatio: 0,
  keysPerCommand: 1,
  payloadBytes: 0,
};

/** Throws a {@link UsageError} for impossible workload options. */
export function validateWorkload(w: WorkloadOptions): void {
  const checkInt = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${value})`);
    }
  };
  checkInt('commands per client', w.commandsPerClient, 1, COMMANDS_PER_CLIENT_MAX);
  if (!(w.conflictRate >= 0 && w.conflictRate <= 100)) throw new UsageError(`conflict rate must be a percentage from 0 to 100 (got ${w.conflictRate})`);
  if (!(w.readRatio >= 0 && w.readRatio <= 100)) throw new UsageError(`read ratio must be a percentage from 0 to 100 (got ${w.readRatio})`);
  checkInt('shared keys', w.sharedKeys, 1, 100_000_000);
  checkInt('zipf keys', w.zipfKeys, 1, 100_000_000);
  checkInt('keys per command', w.keysPerCommand, 1, 64);
  checkInt('payload bytes', w.payloadBytes, 0, 64 * 1024 * 1024);
  if (w.zipfTheta !== undefined && !(w.zipfTheta > 0 && Number.isFinite(w.zipfTheta))) {
    throw new UsageError(`zipf theta must be a positive number (got ${w.zipfTheta})`);
  }
  if (w.zipfTheta !== undefined && w.keysPerCommand > w.zipfKeys) {
    throw new UsageError(`keys per command (${w.keysPerCommand}) cannot exceed zipf keys (${w.zipfKeys})`);
  }
}

/** Cumulative zipf(θ) distribution over ranks 1..keys, shared by all clients. */
export class ZipfTable {
  private readonly cdf: Float64Array;

  constructor(readonly theta: number, readonly keys: number) {
    this.cdf = new Float64Array(keys);
    let sum = 0;
    for (let rank = 1; rank <= keys; rank++) {
      sum += 1 / Math.pow(rank, theta);
      this.cdf[rank - 1] = sum;
    }
    for (let i = 0; i < keys; i++) this.cdf[i] = this.cdf[i]! / sum;
  }

  /** A rank index in [0, keys), for a uniform draw `u` in [0, 1). */
  sample(u: number): number {
    let lo = 0;
    let hi = this.keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Generates one client's commands. */
export class ClientWorkload {
  private seq = 0;

  constructor(
    readonly client: ClientId,
    private readonly options: WorkloadOptions,
    private readonly rng: Rng,
    private readonly zipf: ZipfTable | undefined,
  ) {}

  get issued(): number {
    return this.seq;
  }

  get finished(): boolean {
    return this.seq >= this.options.commandsPerClient;
  }

  /** The next command, or undefined once `commandsPerClient` have been issued. */
  next(): Command | undefined {
    if (this.finished) return undefined;
    this.seq++;
    const rifl = makeRifl(this.client, this.seq);
    const keys = this.drawKeys();
    const readOnly = this.rng.next() * 100 < this.options.readRatio;
    const value = `${this.client}.${this.seq}`;
    const op: Op = readOnly ? GET : { op: 'put', value };
    const keyOps: KeyOps[] = keys.map((key) => ({ key, ops: [op] }));
    return makeCommand(rifl, keyOps, this.options.payloadBytes);
  }

  private drawKeys(): string[] {
    const { keysPerCommand } = this.options;
    const keys: string[] = [];
    if (this.zipf !== undefined) {
      while (keys.length < keysPerCommand) {
        const key = `z${this.zipf.sample(this.rng.next())}`;
        if (!keys.includes(key)) keys.push(key);
      }
      return keys;
    }
    for (let i = 0; i < keysPerCommand; i++) {
      const shared = this.rng.next() * 100 < this.options.conflictRate;
      let key: string | undefined;
      if (shared) {
        // Draw without replacement; when the pool is exhausted the key falls back to a private one.
        for (let attempt = 0; attempt < 8 && key === undefined; attempt++) {
          const candidate = `s${this.rng.int(this.options.sharedKeys)}`;
          if (!keys.includes(candidate)) key = candidate;
        }
      }
      keys.push(key ?? `c${this.client}-${i}`);
    }
    return keys;
  }
}

const GET: Op = { op: 'get' };
