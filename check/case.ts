/**
 * A check case: everything one checked run depends on, as plain data (TigerBeetle's VOPR model: a
 * seed expands into a logged options object, and the options object into a world). A case prints as
 * JSON, travels as base64url in a replay command, and {@link simulationOptionsOf} turns it into the
 * simulation it stands for, so the same case always replays the same run, bit for bit.
 */
import { makeConfig, PROTOCOL_NAMES, type Config, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import type { ProtocolDefinition } from '../core/process.js';
import { validateFaults, type FaultSchedule } from '../sim/faults.js';
import { builtInPlanet } from '../sim/planet.js';
import type { SimulationObserver, SimulationOptions } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS } from '../sim/workload.js';

/** One checked run. Regions are GCP regions, one process each; every region hosts clients. */
export interface CheckCase {
  readonly protocol: ProtocolName;
  /** The simulation's seed (workload draws, jitter, fault draws). */
  readonly seed: number;
  readonly n: number;
  readonly f: number;
  readonly regions: readonly string[];
  readonly clientsPerRegion: number;
  readonly commandsPerClient: number;
  readonly conflictRate: number;
  readonly sharedKeys: number;
  readonly readRatio: number;
  readonly keysPerCommand: number;
  readonly recoveryTimeoutMs: number;
  readonly faults: FaultSchedule;
  /**
   * Optional: every live process suspects a crashed one this long after the crash
   * (SimulationOptions.failureDetectionMs), so the protocols' suspicion hooks are checked too.
   */
  readonly failureDetectionMs?: number;
  /** Optional: the garbage-collection period (Config.gcIntervalMs); the default when absent. */
  readonly gcIntervalMs?: number;
}

const CASE_FIELDS = [
  'protocol',
  'seed',
  'n',
  'f',
  'regions',
  'clientsPerRegion',
  'commandsPerClient',
  'conflictRate',
  'sharedKeys',
  'readRatio',
  'keysPerCommand',
  'recoveryTimeoutMs',
  'faults',
] as const;
/** Fields a case may leave out (older cases have none of them). */
const OPTIONAL_CASE_FIELDS = ['failureDetectionMs', 'gcIntervalMs'] as const;

/**
 * The liveness phase: after the last fault heals, a run that executes nothing and completes no
 * command for this much simulated time is stuck.
 */
export const LIVENESS_PHASE_MS = 30_000;

/** The configuration a case runs with. */
export function configOf(c: CheckCase): Config {
  return makeConfig(c.protocol, { n: c.n, f: c.f, recoveryTimeoutMs: c.recoveryTimeoutMs, ...(c.gcIntervalMs === undefined ? {} : { gcIntervalMs: c.gcIntervalMs }) });
}

/** The simulation a case stands for; `observer` watches it from outside. */
export function simulationOptionsOf(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: ProtocolDefinition<any, any>,
  c: CheckCase,
  maxSimTimeMs: number,
  observer?: SimulationObserver,
): SimulationOptions {
  return {
    protocol: definition,
    config: configOf(c),
    planet: builtInPlanet('gcp'),
    processRegions: c.regions,
    clientRegions: c.regions,
    clientsPerRegion: c.clientsPerRegion,
    workload: {
      ...WORKLOAD_DEFAULTS,
      commandsPerClient: c.commandsPerClient,
      conflictRate: c.conflictRate,
      sharedKeys: c.sharedKeys,
      readRatio: c.readRatio,
      keysPerCommand: c.keysPerCommand,
    },
    seed: c.seed,
    recordHistory: true,
    maxSimTimeMs,
    stallLimitMs: LIVENESS_PHASE_MS,
    faults: c.faults,
    ...(c.failureDetectionMs === undefined ? {} : { failureDetectionMs: c.failureDetectionMs }),
    ...(observer === undefined ? {} : { observer }),
  };
}

/** Throws a {@link UsageError} naming the first impossible field of a case. */
export function validateCase(value: unknown, where = 'case'): asserts value is CheckCase {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where} must be a JSON object with fields ${CASE_FIELDS.join(', ')}`);
  const c = value as Record<string, unknown>;
  const accepted: readonly string[] = [...CASE_FIELDS, ...OPTIONAL_CASE_FIELDS];
  for (const field of Object.keys(c)) {
    if (!accepted.includes(field)) throw new UsageError(`${where} has unknown field '${field}'; accepted: ${accepted.join(', ')}`);
  }
  for (const field of CASE_FIELDS) if (c[field] === undefined) throw new UsageError(`${where} lacks field '${field}'`);
  if (!(PROTOCOL_NAMES as readonly string[]).includes(c['protocol'] as string)) {
    throw new UsageError(`${where}.protocol must be one of ${PROTOCOL_NAMES.join(', ')} (got ${JSON.stringify(c['protocol'])})`);
  }
  const integer = (field: string, min: number, max: number) => {
    const v = c[field];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw new UsageError(`${where}.${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  };
  integer('seed', -(2 ** 31), 2 ** 31);
  integer('n', 3, 64);
  integer('f', 1, 32);
  integer('clientsPerRegion', 1, 100);
  integer('commandsPerClient', 1, 100_000);
  integer('sharedKeys', 1, 1_000_000);
  integer('keysPerCommand', 1, 64);
  for (const field of ['conflictRate', 'readRatio']) {
    const v = c[field];
    if (typeof v !== 'number' || !(v >= 0 && v <= 100)) throw new UsageError(`${where}.${field} must be a percentage from 0 to 100 (got ${JSON.stringify(v)})`);
  }
  const detection = c['failureDetectionMs'];
  if (detection !== undefined && (typeof detection !== 'number' || !(detection >= 0 && detection <= 3_600_000))) {
    throw new UsageError(`${where}.failureDetectionMs must be 0 to 3600000 milliseconds (got ${JSON.stringify(detection)})`);
  }
  const gc = c['gcIntervalMs'];
  if (gc !== undefined && (typeof gc !== 'number' || !(gc > 0 && gc <= 60_000))) {
    throw new UsageError(`${where}.gcIntervalMs must be a positive number of milliseconds up to 60000 (got ${JSON.stringify(gc)})`);
  }
  const timeout = c['recoveryTimeoutMs'];
  if (typeof timeout !== 'number' || !(timeout > 0)) throw new UsageError(`${where}.recoveryTimeoutMs must be positive milliseconds (got ${JSON.stringify(timeout)})`);
  const regions = c['regions'];
  if (!Array.isArray(regions) || regions.length !== c['n']) throw new UsageError(`${where}.regions must list ${String(c['n'])} GCP regions, one per process`);
  const planet = builtInPlanet('gcp');
  for (const region of regions) planet.regionIndex(String(region));
  makeConfig(c['protocol'] as ProtocolName, { n: c['n'] as number, f: c['f'] as number, recoveryTimeoutMs: timeout });
  validateFaults(c['faults'] as FaultSchedule, c['n'] as number);
}

/** The case as base64url JSON, safe to paste into a shell command. */
export function encodeCase(c: CheckCase): string {
  return Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');
}

/** Parses a case from base64url JSON or from plain JSON text; errors say what is wrong. */
export function decodeCase(text: string): CheckCase {
  const trimmed = text.trim();
  let json = trimmed;
  if (!trimmed.startsWith('{')) {
    if (!/^[A-Za-z0-9_-]+$/.test(trimmed)) throw new UsageError('--replay takes a case as printed by orrery check: base64url or JSON');
    json = Buffer.from(trimmed, 'base64url').toString('utf8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new UsageError('--replay: the case is not valid JSON; copy it exactly as orrery check printed it');
  }
  validateCase(parsed, 'replay case');
  return parsed;
}
