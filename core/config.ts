/**
 * Protocol-independent configuration and its validation. Every rejection is one sentence that says
 * what is wrong and what is allowed, e.g. `f=3 needs at least 7 processes (got n=5)`.
 */
import type { ProcessId } from './ids.js';
import { UsageError } from './invariant.js';

/** The protocols Orrery implements. */
export const PROTOCOL_NAMES = ['fpaxos', 'epaxos', 'atlas', 'tempo'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** The replicated applications an executor can run (apps/index.ts builds them). */
export const APP_NAMES = ['kv', 'adapter-register'] as const;
export type AppName = (typeof APP_NAMES)[number];

/** Upper bound on the number of replicas: every quorum and vote table is sized from it. */
export const MAX_PROCESSES = 64;

export interface Config {
  /** Number of replicas, 3..MAX_PROCESSES. */
  readonly n: number;
  /** Tolerated failures, 1 ≤ f ≤ ⌊(n−1)/2⌋ (EPaxos ignores it and tolerates ⌊n/2⌋). */
  readonly f: number;
  /** FPaxos's initial leader. */
  readonly leader: ProcessId;
  /** Period of garbage-collection gossip (committed frontiers), in milliseconds. */
  readonly gcIntervalMs: number;
  /** Tempo: period of the MDetached vote broadcast, in milliseconds. */
  readonly tempoDetachedIntervalMs: number;
  /** Number of executor shards the host may split a key-partitioned executor into. */
  readonly executorShards: number;
  /**
   * Recovery: how long a process waits without progress before it acts (FPaxos: a follower with
   * pending commands that hears nothing from the leader this long starts a leader change; the
   * leader resends phase-2 messages unanswered this long). Milliseconds.
   */
  readonly recoveryTimeoutMs: number;
  /**
   * EPaxos's fast quorum: `simple` = 2F, whose recovery (explicit prepare, rules 1–5) Orrery can
   * defend; `optimized` = F + ⌊(F+1)/2⌋, the paper's smaller quorum, for fault-free studies only —
   * recovery with it needs TryPreAccept, which Orrery does not implement (docs/epaxos-recovery.md).
   */
  readonly epaxosFastQuorum: EPaxosFastQuorum;
  /**
   * The application every executor applies commands to; absent means `kv`, the key-value store
   * (absent rather than defaulted so that reports of kv runs stay byte-for-byte what they were).
   * `adapter-register` runs the adapter register with the n processes as its validator group.
   */
  readonly app?: AppName;
}

/** The EPaxos fast-quorum variants. */
export const EPAXOS_FAST_QUORUMS = ['simple', 'optimized'] as const;
export type EPaxosFastQuorum = (typeof EPAXOS_FAST_QUORUMS)[number];

/** Defaults for every field but n. */
export const CONFIG_DEFAULTS = {
  f: 1,
  leader: 1,
  gcIntervalMs: 50,
  tempoDetachedIntervalMs: 5,
  executorShards: 1,
  recoveryTimeoutMs: 1000,
  epaxosFastQuorum: 'simple',
} as const satisfies Omit<Config, 'n'>;

/** A configuration mistake; hosts print the message alone and exit with code 2. */
export class ConfigError extends UsageError {
  override name = 'ConfigError';
}

function integerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got ${value})`);
  }
}

/** Fills in defaults and validates; throws {@link ConfigError} with one clear sentence. */
export function makeConfig(protocol: ProtocolName, partial: Partial<Config> & { n: number }): Config {
  const config: Config = { ...CONFIG_DEFAULTS, ...partial };
  validateConfig(protocol, config);
  return config;
}

/** Throws {@link ConfigError} when `config` is impossible for `protocol`. */
export function validateConfig(protocol: ProtocolName, config: Config): void {
  integerIn('n', config.n, 3, MAX_PROCESSES);
  if (protocol !== 'epaxos') {
    if (!Number.isInteger(config.f) || config.f < 1) {
      throw new ConfigError(`f must be an integer of at least 1 (got f=${config.f})`);
    }
    const nMin = 2 * config.f + 1;
    if (config.n < nMin) {
      throw new ConfigError(`f=${config.f} needs at least ${nMin} processes (got n=${config.n})`);
    }
  }
  if (protocol === 'fpaxos' && (!Number.isInteger(config.leader) || config.leader < 1 || config.leader > config.n)) {
    throw new ConfigError(`leader must be a process id from 1 to ${config.n} (got ${config.leader})`);
  }
  if (!(config.gcIntervalMs > 0)) throw new ConfigError(`gcIntervalMs must be positive (got ${config.gcIntervalMs})`);
  if (!(config.tempoDetachedIntervalMs > 0)) {
    throw new ConfigError(`tempo detached interval must be positive milliseconds (got ${config.tempoDetachedIntervalMs})`);
  }
  integerIn('executor shards', config.executorShards, 1, 256);
  if (config.app !== undefined && !(APP_NAMES as readonly string[]).includes(config.app)) {
    throw new ConfigError(`unknown application '${String(config.app)}'; accepted: ${APP_NAMES.join(', ')}`);
  }
  if (!(config.recoveryTimeoutMs > 0 && config.recoveryTimeoutMs <= 3_600_000)) {
    throw new ConfigError(`recovery timeout must be positive milliseconds up to 3600000 (got ${config.recoveryTimeoutMs})`);
  }
  if (!(EPAXOS_FAST_QUORUMS as readonly string[]).includes(config.epaxosFastQuorum)) {
    throw new ConfigError(`EPaxos fast quorum must be one of ${EPAXOS_FAST_QUORUMS.join(', ')} (got ${String(config.epaxosFastQuorum)})`);
  }
}
