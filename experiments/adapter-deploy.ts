/**
 * Experiments of the adapter-deploy scenario (sim/adapter-deploy/): a second kind of experiment
 * beside the simulation of a workload (definition.ts). A definition names protocols, strategies,
 * bad fractions and seeds on one deployment shape (validators, fleet, versions, poll interval); its
 * points are their product, in that order, and each runs exactly `orrery app adapter-register` with
 * the flags it records. A point's output is the figures of `--json`; the tidy CSV has one row per
 * point; `summary.md` has the definition's tables (the same pivot tables as the simulation kind).
 */
import { PROTOCOL_NAMES, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { appOptionsFromFlags } from '../cli/app-command.js';
import { VERSIONS_MAX } from '../sim/adapter-deploy/artifacts.js';
import { FLEET_MAX, runAdapterDeploy, STRATEGIES, VALIDATOR_REGIONS, type AdapterDeployFigures, type Strategy } from '../sim/adapter-deploy/scenario.js';
import { MAX_POINTS, type TableSpec } from './definition.js';
import { renderTable, summaryPage, type Provenance, type TidyRow } from './output.js';

/** The columns of the tidy CSV a table may group by. */
export const ADAPTER_GROUP_FIELDS = ['protocol', 'strategy', 'bad_fraction', 'seed'] as const;
/** The numeric columns a table may show. */
export const ADAPTER_VALUE_FIELDS = [
  'bad_versions',
  'requests',
  'bad_version_requests',
  'mixed_version_ms',
  'released',
  'rejected',
  'converged_median_ms',
  'refused_downloads',
  'commit_p50_ms',
  'finished_ms',
] as const;
type AdapterField = (typeof ADAPTER_GROUP_FIELDS)[number] | (typeof ADAPTER_VALUE_FIELDS)[number];

/** A table of the tidy rows: `rows` and `columns` name group fields, `value` a value field. */
export interface AdapterTableSpec {
  readonly title: string;
  readonly rows: readonly (typeof ADAPTER_GROUP_FIELDS)[number][];
  readonly columns: (typeof ADAPTER_GROUP_FIELDS)[number];
  readonly value: (typeof ADAPTER_VALUE_FIELDS)[number];
  readonly where?: Readonly<Partial<Record<(typeof ADAPTER_GROUP_FIELDS)[number], string | number | ReadonlyArray<string | number>>>>;
}

/** An adapter-deploy experiment. */
export interface AdapterDeployDefinition {
  readonly kind: 'adapter-deploy';
  readonly name: string;
  readonly description: string;
  readonly protocols: readonly ProtocolName[];
  readonly strategies: readonly Strategy[];
  readonly badFractions: readonly number[];
  readonly seeds: readonly number[];
  readonly validators: number;
  readonly fleet: number;
  readonly versions: number;
  readonly pollMs: number;
  readonly tables?: readonly AdapterTableSpec[];
}

/** One run of `orrery app adapter-register`. */
export interface AdapterDeployPoint {
  readonly kind: 'adapter-deploy';
  readonly id: string;
  readonly experiment: string;
  readonly protocol: ProtocolName;
  readonly strategy: Strategy;
  readonly badFraction: number;
  readonly seed: number;
  readonly validators: number;
  readonly fleet: number;
  readonly versions: number;
  readonly pollMs: number;
}

export interface AdapterDeployPointResult {
  readonly point: AdapterDeployPoint;
  readonly figures: AdapterDeployFigures;
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const KEYS = ['kind', 'name', 'description', 'protocols', 'strategies', 'badFractions', 'seeds', 'validators', 'fleet', 'versions', 'pollMs', 'tables'];

function fail(where: string, message: string): never {
  throw new UsageError(`experiment ${where}: ${message}`);
}

function nonEmpty(where: string, field: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, `${field} must be a non-empty list`);
  return value;
}

function integer(where: string, field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(where, `${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
}

/** Checks an adapter-deploy definition; errors name the field, the bad value and what is accepted. */
export function validateAdapterDefinition(input: Record<string, unknown>): AdapterDeployDefinition {
  const name = input['name'];
  if (typeof name !== 'string' || !NAME.test(name)) fail('definition', `name must be lower-case words joined by '-' (got ${JSON.stringify(name)})`);
  const where = `'${name}'`;
  for (const key of Object.keys(input)) if (!KEYS.includes(key)) fail(where, `unknown field '${key}'; accepted for kind adapter-deploy: ${KEYS.join(', ')}`);
  if (typeof input['description'] !== 'string' || input['description'].trim() === '') fail(where, 'description must be a non-empty string');
  nonEmpty(where, 'protocols', input['protocols']).forEach((p, i) => {
    if (typeof p !== 'string' || !(PROTOCOL_NAMES as readonly string[]).includes(p)) fail(where, `protocols[${i}] must be one of ${PROTOCOL_NAMES.join(', ')} (got ${JSON.stringify(p)})`);
  });
  nonEmpty(where, 'strategies', input['strategies']).forEach((s, i) => {
    if (typeof s !== 'string' || !(STRATEGIES as readonly string[]).includes(s)) fail(where, `strategies[${i}] must be one of ${STRATEGIES.join(', ')} (got ${JSON.stringify(s)})`);
  });
  nonEmpty(where, 'badFractions', input['badFractions']).forEach((b, i) => {
    if (typeof b !== 'number' || !(b >= 0 && b <= 1)) fail(where, `badFractions[${i}] must be a number from 0 to 1 (got ${JSON.stringify(b)})`);
  });
  nonEmpty(where, 'seeds', input['seeds']).forEach((s, i) => integer(where, `seeds[${i}]`, s, 0, 2 ** 31));
  integer(where, 'validators', input['validators'], 3, VALIDATOR_REGIONS.length);
  integer(where, 'fleet', input['fleet'], 1, FLEET_MAX);
  integer(where, 'versions', input['versions'], 1, VERSIONS_MAX);
  const poll = input['pollMs'];
  if (typeof poll !== 'number' || !(poll >= 1 && poll <= 600_000)) fail(where, `pollMs must be a number from 1 to 600000 (got ${JSON.stringify(poll)})`);
  if (input['tables'] !== undefined) {
    nonEmpty(where, 'tables', input['tables']).forEach((raw, i) => {
      const t = raw as Record<string, unknown>;
      const group = (field: string, value: unknown) => {
        if (typeof value !== 'string' || !(ADAPTER_GROUP_FIELDS as readonly string[]).includes(value)) fail(where, `tables[${i}].${field} must be one of ${ADAPTER_GROUP_FIELDS.join(', ')} (got ${JSON.stringify(value)})`);
      };
      if (typeof t['title'] !== 'string') fail(where, `tables[${i}].title must be a string`);
      nonEmpty(where, `tables[${i}].rows`, t['rows']).forEach((r, j) => group(`rows[${j}]`, r));
      group('columns', t['columns']);
      if (typeof t['value'] !== 'string' || !(ADAPTER_VALUE_FIELDS as readonly string[]).includes(t['value'])) {
        fail(where, `tables[${i}].value must be one of ${ADAPTER_VALUE_FIELDS.join(', ')} (got ${JSON.stringify(t['value'])})`);
      }
      for (const key of Object.keys(t['where'] ?? {})) group('where key', key);
    });
  }
  const definition = input as unknown as AdapterDeployDefinition;
  const points = expandAdapterDefinition(definition).length;
  if (points > MAX_POINTS) fail(where, `expands to ${points} points; the limit is ${MAX_POINTS}`);
  return definition;
}

/** The points, in the order protocol × strategy × bad fraction × seed. */
export function expandAdapterDefinition(definition: AdapterDeployDefinition): AdapterDeployPoint[] {
  const combos: Omit<AdapterDeployPoint, 'id'>[] = [];
  for (const protocol of definition.protocols) {
    for (const strategy of definition.strategies) {
      for (const badFraction of definition.badFractions) {
        for (const seed of definition.seeds) {
          const { validators, fleet, versions, pollMs } = definition;
          combos.push({ kind: 'adapter-deploy', experiment: definition.name, protocol, strategy, badFraction, seed, validators, fleet, versions, pollMs });
        }
      }
    }
  }
  const width = String(Math.max(0, combos.length - 1)).length;
  return combos.map((combo, i) => ({ ...combo, id: String(i).padStart(width, '0') }));
}

/** The flags of `orrery app adapter-register` that run a point. */
export function appFlagsOf(point: AdapterDeployPoint): Record<string, string> {
  return {
    protocol: point.protocol,
    strategy: point.strategy,
    validators: String(point.validators),
    fleet: String(point.fleet),
    versions: String(point.versions),
    'bad-fraction': String(point.badFraction),
    'poll-ms': String(point.pollMs),
    seed: String(point.seed),
  };
}

/** The command line that reruns a point on its own. */
export function appCommandOf(point: AdapterDeployPoint): string {
  return ['orrery app adapter-register', ...Object.entries(appFlagsOf(point)).map(([flag, value]) => `--${flag} ${value}`)].join(' ');
}

/** Runs one point: its flags go through the CLI's own mapping, so the point is its recorded command. */
export function runAdapterPoint(point: AdapterDeployPoint): AdapterDeployPointResult {
  const { options } = appOptionsFromFlags(appFlagsOf(point));
  return { point, figures: runAdapterDeploy({ ...options, strategy: point.strategy }) };
}

/** The raw JSON of one point. */
export function adapterPointJson(result: AdapterDeployPointResult, provenance: Provenance): string {
  const { point, figures } = result;
  const body = { format: 'orrery-experiment-point', version: 1, ...provenance, experiment: point.experiment, seed: point.seed, point, command: appCommandOf(point), figures };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** The CSV columns, in order. */
export const ADAPTER_CSV_COLUMNS = ['experiment', 'point', ...ADAPTER_GROUP_FIELDS, 'validators', 'fleet', 'versions', 'poll_ms', ...ADAPTER_VALUE_FIELDS, 'properties_failed'] as const;

export type AdapterRow = Readonly<Record<(typeof ADAPTER_CSV_COLUMNS)[number], string | number | null>>;

/** One tidy row per point. */
export function adapterTidyRows(results: readonly AdapterDeployPointResult[]): AdapterRow[] {
  return results.map(({ point, figures }) => {
    const register = figures.strategy === 'register';
    const count = (outcome: string) => figures.versionFigures.filter((version) => version.outcome === outcome).length;
    const converged = figures.versionFigures.filter((version) => version.convergedMs !== null).map((version) => version.convergedMs!).sort((a, b) => a - b);
    return {
      experiment: point.experiment,
      point: point.id,
      protocol: point.protocol,
      strategy: point.strategy,
      bad_fraction: point.badFraction,
      seed: point.seed,
      validators: point.validators,
      fleet: point.fleet,
      versions: point.versions,
      poll_ms: point.pollMs,
      bad_versions: figures.badVersions,
      requests: figures.requests,
      bad_version_requests: figures.badVersionRequests,
      mixed_version_ms: figures.mixedVersionMs,
      released: count(register ? 'released' : 'known-good'),
      rejected: count(register ? 'rejected' : 'rolled-back'),
      converged_median_ms: converged.length === 0 ? null : converged[Math.ceil(converged.length / 2) - 1]!,
      refused_downloads: figures.refusedDownloads,
      commit_p50_ms: figures.commitMs?.p50 ?? null,
      finished_ms: figures.finishedMs,
      // The rolling update fails safety by design; only the register's failures are defects.
      properties_failed: figures.properties.filter((property) => property.holds === false).map((property) => property.property).join(' '),
    };
  });
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The tidy CSV, header first. */
export function adapterTidyCsv(rows: readonly AdapterRow[]): string {
  return `${[ADAPTER_CSV_COLUMNS.join(','), ...rows.map((row) => ADAPTER_CSV_COLUMNS.map((column) => csvCell(row[column])).join(','))].join('\n')}\n`;
}

/** `summary.md`: the description, the command, and the tables (values averaged over seeds). */
export function adapterSummaryMarkdown(definition: AdapterDeployDefinition, rows: readonly AdapterRow[], command: string, provenance: Provenance): string {
  // renderTable pivots rows by field name whatever the fields are; the simulation kind's types name
  // its own fields, so the adapter kind's specs and rows pass through them unchanged.
  const tables = (definition.tables ?? []).map((spec) => renderTable(spec as unknown as TableSpec, rows as unknown as readonly TidyRow[]));
  return summaryPage(definition, tables, command, provenance, 'Raw results: `points/*.json`; tidy table: `results.csv`. Each point reruns alone with the `command` in its JSON.');
}

/** `orrery exp --list`'s paragraph. */
export function describeAdapterDefinition(definition: AdapterDeployDefinition): string {
  return [
    `${definition.name}: ${definition.description}`,
    `  ${expandAdapterDefinition(definition).length} points; ${definition.protocols.join(', ')} × ${definition.strategies.join(', ')} × bad fractions ${definition.badFractions.join(', ')} × seeds ${definition.seeds.join(', ')}; ` +
      `${definition.validators} validators, fleet ${definition.fleet}, ${definition.versions} versions, poll ${definition.pollMs} ms`,
    `  run: orrery exp ${definition.name}`,
  ].join('\n');
}

/** Whether a parsed definition is of this kind. */
export function isAdapterDefinition(input: unknown): input is Record<string, unknown> & { kind: 'adapter-deploy' } {
  return typeof input === 'object' && input !== null && (input as Record<string, unknown>)['kind'] === 'adapter-deploy';
}

export type { AdapterField };
