/**
 * Faults of the adapter-deploy scenario. A faults file is one JSON object: the simulator's own kinds
 * (sim/faults.ts: crashes, partitions, slowLinks, messageFaults, clientTimeoutMs, acting between the
 * validators' consensus processes) and two kinds of the deployment itself:
 * - `slowValidators`: `{ validator, factor }` multiplies that validator's validation time by factor;
 * - `corruptDownloads`: `{ probability, fromMs, untilMs }`: a download started in the window delivers
 *   corrupted bytes with that probability (entries combine as independent events), for validators
 *   and inference nodes alike. Draws are keyed by (who, artifact, n-th download of it), so both strategies of a
 *   comparison see the same corruptions.
 * A validator crash is a crash of its process (`crashes`): validator ids are process ids.
 */
import type { ProcessId } from '../../core/ids.js';
import { UsageError } from '../../core/invariant.js';
import { FAULT_KINDS, validateFaults, type FaultSchedule } from '../faults.js';

export interface SlowValidator {
  readonly validator: ProcessId;
  /** Multiplies its validation time; ≥ 1. */
  readonly factor: number;
}

export interface CorruptDownloads {
  readonly probability: number;
  readonly fromMs: number;
  readonly untilMs: number;
}

export interface AdapterFaults {
  readonly slowValidators?: readonly SlowValidator[];
  readonly corruptDownloads?: readonly CorruptDownloads[];
}

/** Every fault of a deployment run. */
export interface DeployFaults {
  readonly network: FaultSchedule;
  readonly adapter: AdapterFaults;
}

export const ADAPTER_FAULT_KINDS = ['slowValidators', 'corruptDownloads'] as const;
const ALL_KINDS = [...FAULT_KINDS, ...ADAPTER_FAULT_KINDS];
/** Largest slow-down factor of a slow validator. */
export const SLOW_FACTOR_MAX = 1000;

/** Throws a {@link UsageError} naming the first impossible adapter-fault entry, for `n` validators. */
export function validateAdapterFaults(faults: AdapterFaults, n: number): void {
  const entries = (kind: string, value: unknown, fields: readonly string[]): Record<string, unknown>[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new UsageError(`faults.${kind} must be an array (got ${JSON.stringify(value)})`);
    if (value.length > 1000) throw new UsageError(`faults.${kind} has ${value.length} entries; the limit is 1000`);
    return value.map((entry: unknown, i) => {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`faults.${kind}[${i}] must be an object { ${fields.join(', ')} }`);
      for (const field of Object.keys(entry)) {
        if (!fields.includes(field)) throw new UsageError(`faults.${kind}[${i}] has unknown field '${field}'; accepted: ${fields.join(', ')}`);
      }
      return entry as Record<string, unknown>;
    });
  };
  const seen = new Set<unknown>();
  entries('slowValidators', faults.slowValidators, ['validator', 'factor']).forEach((entry, i) => {
    const where = `faults.slowValidators[${i}]`;
    const validator = entry['validator'];
    if (!Number.isInteger(validator) || (validator as number) < 1 || (validator as number) > n) {
      throw new UsageError(`${where}.validator must be a validator (process) id from 1 to ${n} (got ${JSON.stringify(validator)})`);
    }
    if (seen.has(validator)) throw new UsageError(`${where}: validator ${String(validator)} is listed twice`);
    seen.add(validator);
    const factor = entry['factor'];
    if (typeof factor !== 'number' || !(factor >= 1 && factor <= SLOW_FACTOR_MAX)) {
      throw new UsageError(`${where}.factor must be a number from 1 to ${SLOW_FACTOR_MAX} (got ${JSON.stringify(factor)})`);
    }
  });
  entries('corruptDownloads', faults.corruptDownloads, ['probability', 'fromMs', 'untilMs']).forEach((entry, i) => {
    const where = `faults.corruptDownloads[${i}]`;
    const p = entry['probability'];
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new UsageError(`${where}.probability must be a probability from 0 to 1 (got ${JSON.stringify(p)})`);
    for (const field of ['fromMs', 'untilMs']) {
      const value = entry[field];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new UsageError(`${where}.${field} must be a finite number of milliseconds ≥ 0 (got ${JSON.stringify(value)})`);
      }
    }
    if (!((entry['untilMs'] as number) > (entry['fromMs'] as number))) throw new UsageError(`${where}: untilMs must be after fromMs`);
  });
}

/** Splits and validates one faults object (network kinds and adapter kinds) for `n` validators. */
export function validateDeployFaults(input: unknown, n: number): DeployFaults {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UsageError(`faults must be a JSON object such as { "crashes": [...] } (got ${JSON.stringify(input)}); accepted keys: ${ALL_KINDS.join(', ')}`);
  }
  const network: Record<string, unknown> = {};
  const adapter: Record<string, unknown> = {};
  for (const [kind, value] of Object.entries(input)) {
    if ((ADAPTER_FAULT_KINDS as readonly string[]).includes(kind)) adapter[kind] = value;
    else if ((FAULT_KINDS as readonly string[]).includes(kind)) network[kind] = value;
    else throw new UsageError(`unknown fault kind '${kind}'; accepted: ${ALL_KINDS.join(', ')}`);
  }
  validateFaults(network as FaultSchedule, n);
  validateAdapterFaults(adapter as AdapterFaults, n);
  return { network: network as FaultSchedule, adapter: adapter as AdapterFaults };
}

/** Parses a faults file's text; errors name the file. */
export function parseDeployFaults(text: string, file: string, n: number): DeployFaults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message}); a faults file is one JSON object with keys ${ALL_KINDS.join(', ')}`);
  }
  try {
    return validateDeployFaults(parsed, n);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** The probability that a download started at `nowMs` is corrupted. */
export function corruptionProbability(faults: AdapterFaults, nowMs: number): number {
  let intact = 1;
  for (const entry of faults.corruptDownloads ?? []) {
    if (nowMs >= entry.fromMs && nowMs < entry.untilMs) intact *= 1 - entry.probability;
  }
  return 1 - intact;
}

/** The slow-down factor of `validator` (1 when not slow). */
export function slowFactor(faults: AdapterFaults, validator: ProcessId): number {
  return faults.slowValidators?.find((entry) => entry.validator === validator)?.factor ?? 1;
}
