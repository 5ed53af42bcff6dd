/**
 * Option parsing shared by the subcommands: numbers, planets, regions and the leader, each checked
 * with an error that names the flag, the bad value and what is accepted.
 */
import { readFileSync } from 'node:fs';
import { CONFIG_DEFAULTS, EPAXOS_FAST_QUORUMS, type EPaxosFastQuorum } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { builtInPlanet, BUILT_IN_PLANETS, parsePlanetTsv, type Planet } from '../sim/planet.js';

/** The process regions used when --regions is not given. */
export const DEFAULT_REGIONS: Readonly<Record<string, readonly string[]>> = {
  gcp: ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'],
  aws: ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1'],
};

type Argv = Record<string, unknown>;

function raw(argv: Argv, flag: string): unknown {
  const value = argv[flag];
  if (Array.isArray(value)) throw new UsageError(`--${flag} was given more than once; give it once`);
  return value;
}

/** An integer flag in [min, max], or `fallback` when absent. */
export function intFlag(argv: Argv, flag: string, fallback: number, min: number, max: number): number {
  const value = raw(argv, flag);
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const parsed = Number(text);
  if (text === '' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max} (got '${String(value)}')`);
  }
  return parsed;
}

/** A number flag in [min, max], or `fallback` when absent. */
export function numberFlag(argv: Argv, flag: string, fallback: number, min: number, max: number): number;
export function numberFlag(argv: Argv, flag: string, fallback: undefined, min: number, max: number): number | undefined;
export function numberFlag(argv: Argv, flag: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const value = raw(argv, flag);
  if (value === undefined) return fallback;
  const text = String(value).trim();
  const parsed = Number(text);
  if (text === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${flag} must be a number from ${min} to ${max} (got '${String(value)}')`);
  }
  return parsed;
}

/** A string flag, or `fallback` when absent. */
export function stringFlag(argv: Argv, flag: string, fallback: string): string;
export function stringFlag(argv: Argv, flag: string, fallback: undefined): string | undefined;
export function stringFlag(argv: Argv, flag: string, fallback: string | undefined): string | undefined {
  const value = raw(argv, flag);
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') throw new UsageError(`--${flag} needs a value`);
  return String(value);
}

/** The planet named by --planet, or read from --planet-file. */
export function planetFrom(argv: Argv): Planet {
  const file = stringFlag(argv, 'planet-file', undefined);
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new UsageError(`cannot read planet file '${file}' (${code}); give a TSV matrix as docs/planet-file.md describes (example: examples/planet-3-regions.tsv)`);
    }
    return parsePlanetTsv(text, file);
  }
  const name = stringFlag(argv, 'planet', 'gcp');
  if (!(BUILT_IN_PLANETS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown planet '${name}'; accepted: ${BUILT_IN_PLANETS.join(', ')}, or a matrix file with --planet-file`);
  }
  return builtInPlanet(name);
}

/** A comma-separated region list, each checked against the planet; `fallback` when absent. */
export function regionsFlag(argv: Argv, flag: string, planet: Planet, fallback: readonly string[] | undefined): string[] {
  const value = stringFlag(argv, flag, undefined);
  if (value === undefined) {
    if (fallback === undefined) {
      throw new UsageError(`--${flag} is required for planet ${planet.name}; known regions: ${planet.regions.join(', ')}`);
    }
    return [...fallback];
  }
  const regions = value
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (regions.length === 0) throw new UsageError(`--${flag} needs at least one region; known regions: ${planet.regions.join(', ')}`);
  for (const region of regions) planet.regionIndex(region);
  return regions;
}

/** The process regions: --regions, or the planet's default set. */
export function processRegionsFrom(argv: Argv, planet: Planet): string[] {
  return regionsFlag(argv, 'regions', planet, DEFAULT_REGIONS[planet.name]);
}

/** --leader as a process id or as the region of a process; defaults to process 1. */
export function leaderFrom(argv: Argv, processRegions: readonly string[]): number {
  const value = stringFlag(argv, 'leader', undefined);
  if (value === undefined) return 1;
  const byRegion = processRegions.indexOf(value);
  if (byRegion >= 0) return byRegion + 1;
  const id = Number(value);
  if (Number.isInteger(id) && id >= 1 && id <= processRegions.length) return id;
  throw new UsageError(
    `--leader '${value}' is neither a process id from 1 to ${processRegions.length} nor a process region (${processRegions.join(', ')})`,
  );
}

/** --epaxos-fast-quorum: `simple` (2F, the default, safe with recovery) or `optimized` (the paper's). */
export function epaxosFastQuorumFrom(argv: Argv): EPaxosFastQuorum {
  const value = stringFlag(argv, 'epaxos-fast-quorum', CONFIG_DEFAULTS.epaxosFastQuorum);
  if (!(EPAXOS_FAST_QUORUMS as readonly string[]).includes(value)) {
    throw new UsageError(`--epaxos-fast-quorum must be one of ${EPAXOS_FAST_QUORUMS.join(', ')} (got '${value}')`);
  }
  return value as EPaxosFastQuorum;
}

/** The flag's description, shared by the subcommands that take it. */
export const EPAXOS_FAST_QUORUM_FLAG = {
  type: 'string',
  describe: "EPaxos fast quorum: simple (2F, recovers safely) or optimized (F+⌊(F+1)/2⌋, the paper's; fault-free runs only) [default: simple]",
} as const;

/** Flags that shape each command (keys, conflicts, reads, payload), shared by `sim` and `run`. */
export const COMMAND_SHAPE_FLAGS = {
  conflict: { type: 'string', describe: 'percentage of keys drawn from the shared pool [default: 2]' },
  'shared-keys': { type: 'string', describe: 'size of the shared key pool [default: 1]' },
  zipf: { type: 'string', describe: 'zipf exponent θ: draw keys by zipf popularity instead of --conflict' },
  'zipf-keys': { type: 'string', describe: 'number of keys under --zipf [default: 1000]' },
  'read-ratio': { type: 'string', describe: 'percentage of read-only commands [default: 0]' },
  'keys-per-command': { type: 'string', describe: 'distinct keys per command [default: 1]' },
  'payload-bytes': { type: 'string', describe: 'opaque payload per command [default: 0]' },
} as const;
