/**
 * Experiment definitions: plain data naming the protocols, site sets, f values, conflict rates,
 * clients, commands, seeds and whether the CPU model is on, and their validation. A definition
 * expands into points (one simulation configuration and seed each) in a fixed order, so the same
 * definition always gives the same points with the same ids.
 */
import { PROTOCOL_NAMES, type ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { validateFaults, type FaultSchedule } from '../sim/faults.js';
import { builtInPlanet, BUILT_IN_PLANETS } from '../sim/planet.js';
import { validateTimelineMs } from '../sim/timeline.js';
import { COMMANDS_PER_CLIENT_MAX } from '../sim/workload.js';

/** A set of sites: one process per region, and the regions hosting clients. */
export interface SiteSet {
  /** A short name used in file names and tables, e.g. `aws-5`. */
  readonly name: string;
  /** A built-in planet: `gcp` or `aws`. */
  readonly planet: string;
  /** Process regions, one process each. */
  readonly regions: readonly string[];
  /** Regions hosting clients; the process regions when absent. */
  readonly clientRegions?: readonly string[];
}

/** A protocol and the f values to run it with; EPaxos has no f (it tolerates ⌊n/2⌋). */
export interface ProtocolRun {
  readonly protocol: string;
  /** f values; ignored for EPaxos. A value too large for a site set skips that site set. */
  readonly f?: readonly number[];
}

/**
 * A fault schedule (sim/faults.ts) that points run under: a dimension like seeds, one point per case.
 * The schedule is plain data validated by the simulator's own rules, so a new kind of fault entry
 * there is accepted here unchanged.
 */
export interface FaultCase {
  /** Lower-case words joined by `-`; names the case in tables, charts and the CSV's `fault` column. */
  readonly name: string;
  /** The schedule, e.g. `{ "crashes": [{ "process": 1, "atMs": 10000 }], "clientTimeoutMs": 1000 }`. */
  readonly schedule: FaultSchedule;
  /** Run this case with these protocols only (e.g. a follower crash for FPaxos); all when absent. */
  readonly protocols?: readonly string[];
}

/** A named experiment: every list is a dimension, and the points are their product. */
export interface ExperimentDefinition {
  /** Lower-case words joined by `-`; the results go to `results/<name>/`. */
  readonly name: string;
  /** One sentence for `orrery exp --list`. */
  readonly description: string;
  readonly siteSets: readonly SiteSet[];
  readonly protocols: readonly ProtocolRun[];
  /** Conflict rates in percent (0–100). */
  readonly conflictPct: readonly number[];
  /** Closed-loop clients per client region. */
  readonly clientsPerRegion: readonly number[];
  /** Commands each client issues; may be left out with `durationMs` (clients then stop by time alone). */
  readonly commandsPerClient?: number;
  readonly seeds: readonly number[];
  /** Fault schedules, one point per case (after clients, before seeds); fault-free when absent. */
  readonly faults?: readonly FaultCase[];
  /** With `faults`: live processes suspect a crashed one this long after the crash (`--failure-detection-ms`). */
  readonly failureDetectionMs?: number;
  /** Clients issue commands for this many ms of simulated time, then stop (`--duration-ms`). */
  readonly durationMs?: number;
  /** Record a timeline with buckets of this many ms of simulated time (`--timeline-ms`); timeline plots need it. */
  readonly timelineMs?: number;
  /** A CPU profile (a path from the repository root) turns the CPU model on; off when absent. */
  readonly cpuProfile?: string;
  /** CPU model: cores per process (needs `cpuProfile`). */
  readonly cores?: number;
  /** Also compute the closed-form (bote) estimate of every point's client regions. */
  readonly bote?: boolean;
  /** Tables written to `summary.md`, computed from the tidy rows. */
  readonly tables?: readonly TableSpec[];
  /** Charts written to `<file>.png` and into `report.html`, computed from the tidy rows. */
  readonly plots?: readonly PlotSpec[];
}

/** The columns of the tidy CSV a table may group by (`fault`: the fault case's name, empty without one). */
export const GROUP_FIELDS = ['site_set', 'n', 'protocol', 'f', 'label', 'conflict_pct', 'clients_per_region', 'fault', 'seed', 'region'] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

/**
 * A point's figures around its first crash, from its timeline (experiments/recovery-figures.ts); null
 * without a timeline or a crash. Whole-point figures: every region row of a point carries the same.
 */
export const RECOVERY_FIELDS = ['ops_per_sec_before', 'ops_per_sec_min_after', 'ops_per_sec_end', 'settled_after_s', 'p99_ms_max_after'] as const;
export type RecoveryField = (typeof RECOVERY_FIELDS)[number];

/** The numeric columns a table may show. */
export const VALUE_FIELDS = [
  'mean_ms',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'p999_ms',
  'max_ms',
  'fast_ratio',
  'throughput_ops_per_sec',
  'bote_ms',
  'commands',
  ...RECOVERY_FIELDS,
] as const;
export type ValueField = (typeof VALUE_FIELDS)[number];

/**
 * A pivot table of the tidy rows: one line per distinct value of `rows`, and either one column per
 * distinct value of `columns` with cells = `value`, or (with `values`) one column per value field side
 * by side. Cells are averaged over seeds when several rows fall in one.
 */
export type TableSpec = PivotTable | SideBySideTable;

/** Keep only the rows whose fields equal these values, or one of them when a list (compared as text). */
export type RowFilter = Readonly<Partial<Record<GroupField, string | number | ReadonlyArray<string | number>>>>;

interface TableCommon {
  readonly title: string;
  readonly rows: readonly GroupField[];
  readonly where?: RowFilter;
  /** With exactly two columns: add `Δ` (second − first) and `Δ%` columns. */
  readonly delta?: boolean;
}

/** One column per distinct value of `columns`. */
export interface PivotTable extends TableCommon {
  readonly columns: GroupField;
  readonly value: ValueField;
}

/** One column per value field, e.g. the bote estimate next to the simulated mean. */
export interface SideBySideTable extends TableCommon {
  readonly values: readonly ValueField[];
}

/**
 * A chart of the tidy rows. Cells are averaged over seeds, like table cells.
 * - `bars`: one group of bars per distinct `x` (e.g. `region`), one bar per distinct `series` value
 *   with height `value` (or, with `values`, one bar per value field), and an optional whisker up to
 *   `whisker` (e.g. p99 over a mean).
 * - `lines`: one line per distinct `series` value through (`x`, `y`); `x` is a group field (`n`,
 *   `conflict_pct`, …) or a value field (`throughput_ops_per_sec` for a throughput–latency curve,
 *   where each line is ordered by clients per region).
 * - `cdf`: the latency distribution over all client regions of each selected point, one line per
 *   point, named by `series`.
 * - `timeline`: each selected point's timeline (the definition needs `timelineMs`), x = simulated time
 *   in seconds, one line per point and `y` field (commands/s, or latency percentiles: p99 dashed), with
 *   a vertical marker at each crash of the points' fault schedules.
 */
export type PlotSpec = BarPlot | LinePlot | CdfPlot | TimelinePlot;

interface PlotCommon {
  /** The PNG's file name without `.png`: lower-case words joined by `-`, unique in the experiment. */
  readonly file: string;
  readonly title: string;
  readonly where?: RowFilter;
}

export interface BarPlot extends PlotCommon {
  readonly kind: 'bars';
  readonly x: GroupField;
  /** One bar per distinct value of this field (default `label`), height `value`… */
  readonly series?: GroupField;
  readonly value?: ValueField;
  /** …or one bar per value field, side by side. */
  readonly values?: readonly ValueField[];
  /** Draw a whisker from the top of each bar to this value (with `value` only). */
  readonly whisker?: ValueField;
}

export interface LinePlot extends PlotCommon {
  readonly kind: 'lines';
  readonly x: GroupField | ValueField;
  readonly y: ValueField;
  /** One line per distinct value of this field; default `label`. */
  readonly series?: GroupField;
  /** Draw a whisker from each point up to this value. */
  readonly whisker?: ValueField;
}

export interface CdfPlot extends PlotCommon {
  readonly kind: 'cdf';
  /** Names each point's line; default `label`. */
  readonly series?: GroupField;
}

/** What a timeline plot can draw per bucket. */
export const TIMELINE_FIELDS = ['ops_per_sec', 'mean_ms', 'p50_ms', 'p99_ms'] as const;
export type TimelineField = (typeof TIMELINE_FIELDS)[number];

export interface TimelinePlot extends PlotCommon {
  readonly kind: 'timeline';
  /** `['ops_per_sec']`, or latency fields such as `['p50_ms', 'p99_ms']` (not both kinds in one chart). */
  readonly y: readonly TimelineField[];
  /** Names each point's line; default `label` (with the fault case appended where two points share a name). */
  readonly series?: GroupField;
}

/** The kinds of plot and the fields each accepts. */
export const PLOT_KINDS = {
  bars: ['kind', 'file', 'title', 'where', 'x', 'series', 'value', 'values', 'whisker'],
  lines: ['kind', 'file', 'title', 'where', 'x', 'y', 'series', 'whisker'],
  cdf: ['kind', 'file', 'title', 'where', 'series'],
  timeline: ['kind', 'file', 'title', 'where', 'y', 'series'],
} as const;

/** One simulation to run: everything needed to reproduce it. */
export interface Point {
  /** Zero-padded position in the expansion, e.g. `007`. */
  readonly id: string;
  readonly experiment: string;
  readonly siteSet: string;
  readonly planet: string;
  readonly regions: readonly string[];
  readonly clientRegions: readonly string[];
  readonly protocol: ProtocolName;
  /** f for FPaxos, Atlas and Tempo; ⌊n/2⌋ for EPaxos (what it tolerates). */
  readonly f: number;
  /** `tempo f=1`, `epaxos`: the protocol as tables name it. */
  readonly label: string;
  readonly conflictPct: number;
  readonly clientsPerRegion: number;
  readonly commandsPerClient: number;
  readonly seed: number;
  readonly cpuProfile: string | null;
  readonly cores: number | null;
  readonly bote: boolean;
  /** The fault case's name and schedule (absent in fault-free points, so their files are as before). */
  readonly fault?: string;
  readonly faults?: FaultSchedule;
  readonly failureDetectionMs?: number;
  readonly durationMs?: number;
  readonly timelineMs?: number;
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const KEYS = new Set([
  'name',
  'description',
  'siteSets',
  'protocols',
  'conflictPct',
  'clientsPerRegion',
  'commandsPerClient',
  'seeds',
  'cpuProfile',
  'cores',
  'bote',
  'faults',
  'failureDetectionMs',
  'durationMs',
  'timelineMs',
  'tables',
  'plots',
]);
/** Caps that keep one experiment to a size a laptop finishes. */
export const MAX_POINTS = 5000;
const MAX_CLIENTS = 100_000;
const MAX_COMMANDS = 1_000_000;

function fail(where: string, message: string): never {
  throw new UsageError(`experiment ${where}: ${message}`);
}

function list(where: string, field: string, value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, `${field} must be a non-empty list`);
  return value;
}

function integer(where: string, field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(where, `${field} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/**
 * Checks a definition (parsed JSON or a TS object) and returns it typed. Errors are
 * {@link UsageError}s naming the field, the bad value and what is accepted.
 */
export function validateDefinition(input: unknown): ExperimentDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('definition', 'must be an object');
  const d = input as Record<string, unknown>;
  const name = d['name'];
  if (typeof name !== 'string' || !NAME.test(name)) fail('definition', `name must be lower-case words joined by '-' (got ${JSON.stringify(name)})`);
  const where = `'${name}'`;
  for (const key of Object.keys(d)) {
    if (!KEYS.has(key)) fail(where, `unknown field '${key}'; accepted: ${[...KEYS].join(', ')}`);
  }
  if (typeof d['description'] !== 'string' || d['description'].trim() === '') fail(where, 'description must be a non-empty string');
  const siteNames = new Set<string>();
  list(where, 'siteSets', d['siteSets']).forEach((raw, i) => {
    const field = `siteSets[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(where, `${field} must be an object with name, planet and regions`);
    const s = raw as Record<string, unknown>;
    if (typeof s['name'] !== 'string' || !NAME.test(s['name'])) fail(where, `${field}.name must be lower-case words joined by '-'`);
    if (siteNames.has(s['name'])) fail(where, `${field}.name '${s['name']}' is used twice`);
    siteNames.add(s['name']);
    if (typeof s['planet'] !== 'string' || !(BUILT_IN_PLANETS as readonly string[]).includes(s['planet'])) {
      fail(where, `${field}.planet must be one of ${BUILT_IN_PLANETS.join(', ')} (got ${JSON.stringify(s['planet'])})`);
    }
    const planet = builtInPlanet(s['planet']);
    const check = (key: string) => {
      const regions = list(where, `${field}.${key}`, s[key]);
      for (const region of regions) {
        if (typeof region !== 'string' || !planet.regions.includes(region)) {
          fail(where, `${field}.${key}: unknown region ${JSON.stringify(region)} on planet ${planet.name}; known regions: ${planet.regions.join(', ')}`);
        }
      }
      if (new Set(regions).size !== regions.length) fail(where, `${field}.${key} lists a region twice`);
    };
    check('regions');
    if ((s['regions'] as unknown[]).length < 3) fail(where, `${field}.regions needs at least 3 regions`);
    if (s['clientRegions'] !== undefined) check('clientRegions');
  });
  list(where, 'protocols', d['protocols']).forEach((raw, i) => {
    const field = `protocols[${i}]`;
    if (typeof raw !== 'object' || raw === null) fail(where, `${field} must be an object like {"protocol": "tempo", "f": [1, 2]}`);
    const p = raw as Record<string, unknown>;
    if (typeof p['protocol'] !== 'string' || !(PROTOCOL_NAMES as readonly string[]).includes(p['protocol'])) {
      fail(where, `${field}.protocol must be one of ${PROTOCOL_NAMES.join(', ')} (got ${JSON.stringify(p['protocol'])})`);
    }
    if (p['protocol'] === 'epaxos') {
      if (p['f'] !== undefined) fail(where, `${field}: EPaxos takes no f (it always tolerates ⌊n/2⌋ failures); remove f`);
    } else {
      list(where, `${field}.f`, p['f']).forEach((f, j) => integer(where, `${field}.f[${j}]`, f, 1, 31));
    }
  });
  list(where, 'conflictPct', d['conflictPct']).forEach((c, i) => {
    if (typeof c !== 'number' || !Number.isFinite(c) || c < 0 || c > 100) fail(where, `conflictPct[${i}] must be a number from 0 to 100 (got ${JSON.stringify(c)})`);
  });
  list(where, 'clientsPerRegion', d['clientsPerRegion']).forEach((c, i) => integer(where, `clientsPerRegion[${i}]`, c, 1, MAX_CLIENTS));
  if (d['durationMs'] !== undefined) integer(where, 'durationMs', d['durationMs'], 1, 3_600_000);
  if (d['commandsPerClient'] !== undefined || d['durationMs'] === undefined) integer(where, 'commandsPerClient', d['commandsPerClient'], 1, MAX_COMMANDS);
  list(where, 'seeds', d['seeds']).forEach((s, i) => integer(where, `seeds[${i}]`, s, 0, 2 ** 31));
  if (d['timelineMs'] !== undefined) {
    integer(where, 'timelineMs', d['timelineMs'], 1, 3_600_000);
    validateTimelineMs(d['timelineMs'] as number);
  }
  if (d['faults'] !== undefined) validateFaultCases(where, d['faults'], d['siteSets'] as SiteSet[], d['protocols'] as ProtocolRun[]);
  if (d['failureDetectionMs'] !== undefined) {
    if (d['faults'] === undefined) fail(where, 'failureDetectionMs needs faults: without crashes nothing is ever suspected');
    integer(where, 'failureDetectionMs', d['failureDetectionMs'], 0, 3_600_000);
  }
  if (d['cpuProfile'] !== undefined && (typeof d['cpuProfile'] !== 'string' || d['cpuProfile'] === '')) fail(where, 'cpuProfile must be a file path');
  if (d['cores'] !== undefined) {
    if (d['cpuProfile'] === undefined) fail(where, 'cores needs the CPU model: give cpuProfile (e.g. "results/cpu-profile.json")');
    integer(where, 'cores', d['cores'], 1, 256);
  }
  if (d['bote'] !== undefined && typeof d['bote'] !== 'boolean') fail(where, 'bote must be true or false');
  if (d['tables'] !== undefined) {
    list(where, 'tables', d['tables']).forEach((raw, i) => validateTable(where, `tables[${i}]`, raw));
  }
  if (d['plots'] !== undefined) {
    const files = new Set<string>();
    list(where, 'plots', d['plots']).forEach((raw, i) => {
      const file = validatePlot(where, `plots[${i}]`, raw, d['timelineMs']);
      if (files.has(file)) fail(where, `plots[${i}].file '${file}' is used twice`);
      files.add(file);
    });
  }
  const definition = input as unknown as ExperimentDefinition;
  const points = expandDefinition(definition);
  if (points.length === 0) fail(where, 'expands to no points: every f is too large for every site set');
  if (points.length > MAX_POINTS) fail(where, `expands to ${points.length} points; the limit is ${MAX_POINTS}`);
  return definition;
}

/** Checks the fault cases: unique names, known protocols, schedules valid for every site set's n. */
function validateFaultCases(where: string, raw: unknown, siteSets: readonly SiteSet[], runs: readonly ProtocolRun[]): void {
  const names = new Set<string>();
  const protocols = runs.map((run) => run.protocol);
  list(where, 'faults', raw).forEach((entry, i) => {
    const field = `faults[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(where, `${field} must be an object with name and schedule`);
    const c = entry as Record<string, unknown>;
    for (const key of Object.keys(c)) {
      if (!['name', 'schedule', 'protocols'].includes(key)) fail(where, `${field}: unknown field '${key}'; accepted: name, schedule, protocols`);
    }
    if (typeof c['name'] !== 'string' || !NAME.test(c['name'])) fail(where, `${field}.name must be lower-case words joined by '-' (got ${JSON.stringify(c['name'])})`);
    if (names.has(c['name'])) fail(where, `${field}.name '${c['name']}' is used twice`);
    names.add(c['name']);
    if (c['protocols'] !== undefined) {
      list(where, `${field}.protocols`, c['protocols']).forEach((p, j) => {
        if (typeof p !== 'string' || !protocols.includes(p)) fail(where, `${field}.protocols[${j}] must be one of the experiment's protocols ${protocols.join(', ')} (got ${JSON.stringify(p)})`);
      });
    }
    for (const siteSet of siteSets) {
      try {
        validateFaults(c['schedule'] as FaultSchedule, siteSet.regions.length);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        fail(where, `${field}.schedule with site set ${siteSet.name} (n=${siteSet.regions.length}): ${error.message}`);
      }
    }
  });
}

function validateTable(where: string, field: string, raw: unknown): void {
  if (typeof raw !== 'object' || raw === null) fail(where, `${field} must be an object with title, rows, columns and value`);
  const t = raw as Record<string, unknown>;
  const group = (name: string, value: unknown) => {
    if (typeof value !== 'string' || !(GROUP_FIELDS as readonly string[]).includes(value)) {
      fail(where, `${name} must be one of ${GROUP_FIELDS.join(', ')} (got ${JSON.stringify(value)})`);
    }
  };
  const valueField = (name: string, value: unknown) => {
    if (typeof value !== 'string' || !(VALUE_FIELDS as readonly string[]).includes(value)) {
      fail(where, `${name} must be one of ${VALUE_FIELDS.join(', ')} (got ${JSON.stringify(value)})`);
    }
  };
  for (const key of Object.keys(t)) {
    if (!['title', 'rows', 'columns', 'value', 'values', 'where', 'delta'].includes(key)) {
      fail(where, `${field}: unknown field '${key}'; accepted: title, rows, columns, value, values, where, delta`);
    }
  }
  if (typeof t['title'] !== 'string') fail(where, `${field}.title must be a string`);
  list(where, `${field}.rows`, t['rows']).forEach((r, j) => group(`${field}.rows[${j}]`, r));
  if (t['values'] !== undefined) {
    if (t['columns'] !== undefined || t['value'] !== undefined) fail(where, `${field}: give either values, or columns and value`);
    list(where, `${field}.values`, t['values']).forEach((v, j) => valueField(`${field}.values[${j}]`, v));
  } else {
    group(`${field}.columns`, t['columns']);
    valueField(`${field}.value`, t['value']);
  }
  if (t['where'] !== undefined) validateFilter(where, `${field}.where`, t['where']);
  if (t['delta'] !== undefined && typeof t['delta'] !== 'boolean') fail(where, `${field}.delta must be true or false`);
}

function validateFilter(where: string, field: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `${field} must be an object of field: value`);
  for (const [key, accepted] of Object.entries(value)) {
    if (!(GROUP_FIELDS as readonly string[]).includes(key)) fail(where, `${field} key must be one of ${GROUP_FIELDS.join(', ')} (got ${JSON.stringify(key)})`);
    const values: unknown[] = Array.isArray(accepted) ? accepted : [accepted];
    if (values.length === 0 || values.some((v) => typeof v !== 'string' && typeof v !== 'number')) {
      fail(where, `${field}.${key} must be a string, a number or a non-empty list of them`);
    }
  }
}

/** Checks one plot spec and returns its file name. */
function validatePlot(where: string, field: string, raw: unknown, timelineMs: unknown): string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(where, `${field} must be an object with kind, file and title`);
  const p = raw as Record<string, unknown>;
  const kinds = Object.keys(PLOT_KINDS);
  const kind = p['kind'];
  if (typeof kind !== 'string' || !kinds.includes(kind)) fail(where, `${field}.kind must be one of ${kinds.join(', ')} (got ${JSON.stringify(kind)})`);
  const accepted: readonly string[] = PLOT_KINDS[kind as keyof typeof PLOT_KINDS];
  for (const key of Object.keys(p)) {
    if (!accepted.includes(key)) fail(where, `${field}: unknown field '${key}' for a ${kind} plot; accepted: ${accepted.join(', ')}`);
  }
  const file = p['file'];
  if (typeof file !== 'string' || !NAME.test(file)) fail(where, `${field}.file must be lower-case words joined by '-' (got ${JSON.stringify(file)})`);
  if (file === 'report') fail(where, `${field}.file must not be 'report' (report.html is the experiment's page)`);
  if (typeof p['title'] !== 'string' || p['title'].trim() === '') fail(where, `${field}.title must be a non-empty string`);
  const oneOf = (name: string, value: unknown, fields: readonly string[]) => {
    if (typeof value !== 'string' || !fields.includes(value)) fail(where, `${field}.${name} must be one of ${fields.join(', ')} (got ${JSON.stringify(value)})`);
  };
  const optional = (name: string, fields: readonly string[]) => {
    if (p[name] !== undefined) oneOf(name, p[name], fields);
  };
  if (p['where'] !== undefined) validateFilter(where, `${field}.where`, p['where']);
  optional('series', GROUP_FIELDS);
  optional('whisker', VALUE_FIELDS);
  if (kind === 'bars') {
    oneOf('x', p['x'], GROUP_FIELDS);
    if (p['values'] !== undefined) {
      if (p['value'] !== undefined || p['series'] !== undefined || p['whisker'] !== undefined) {
        fail(where, `${field}: give either values, or value (with optional series and whisker)`);
      }
      list(where, `${field}.values`, p['values']).forEach((v, j) => oneOf(`values[${j}]`, v, VALUE_FIELDS));
    } else {
      oneOf('value', p['value'], VALUE_FIELDS);
    }
  } else if (kind === 'lines') {
    oneOf('x', p['x'], [...GROUP_FIELDS, ...VALUE_FIELDS]);
    oneOf('y', p['y'], VALUE_FIELDS);
  } else if (kind === 'timeline') {
    const ys = list(where, `${field}.y`, p['y']);
    ys.forEach((y, j) => oneOf(`y[${j}]`, y, TIMELINE_FIELDS));
    if (new Set(ys).size !== ys.length) fail(where, `${field}.y lists a field twice`);
    if (ys.includes('ops_per_sec') && ys.length > 1) fail(where, `${field}.y: draw ops_per_sec alone (latency fields share another axis); give a second plot for latency`);
    if (timelineMs === undefined) fail(where, `${field}: a timeline plot needs the definition's timelineMs (the bucket width, e.g. 1000)`);
  }
  return file;
}

/** The largest f a protocol supports with n processes (EPaxos: what it tolerates). */
function maxF(protocol: ProtocolName, n: number): number {
  return protocol === 'epaxos' ? Math.floor(n / 2) : Math.floor((n - 1) / 2);
}

/**
 * The points of a definition, in the order site set × protocol × f × conflict × clients × fault case ×
 * seed. An f larger than a site set supports (f ≤ ⌊(n−1)/2⌋) is left out for that site set, and a
 * fault case restricted to some protocols is left out for the others.
 */
export function expandDefinition(definition: ExperimentDefinition): Point[] {
  const combos: Array<Omit<Point, 'id'>> = [];
  for (const siteSet of definition.siteSets) {
    const n = siteSet.regions.length;
    for (const run of definition.protocols) {
      const protocol = run.protocol as ProtocolName;
      const fs = protocol === 'epaxos' ? [maxF(protocol, n)] : (run.f ?? []).filter((f) => f <= maxF(protocol, n));
      for (const f of fs) {
        for (const conflictPct of definition.conflictPct) {
          for (const clientsPerRegion of definition.clientsPerRegion) {
            const cases = (definition.faults ?? [undefined]).filter((c) => c?.protocols === undefined || c.protocols.includes(protocol));
            for (const faultCase of cases) {
            for (const seed of definition.seeds) {
              combos.push({
                experiment: definition.name,
                siteSet: siteSet.name,
                planet: siteSet.planet,
                regions: [...siteSet.regions],
                clientRegions: [...(siteSet.clientRegions ?? siteSet.regions)],
                protocol,
                f,
                label: protocol === 'epaxos' ? 'epaxos' : `${protocol} f=${f}`,
                conflictPct,
                clientsPerRegion,
                commandsPerClient: definition.commandsPerClient ?? COMMANDS_PER_CLIENT_MAX,
                seed,
                cpuProfile: definition.cpuProfile ?? null,
                cores: definition.cpuProfile === undefined ? null : (definition.cores ?? 1),
                bote: definition.bote === true,
                ...(faultCase === undefined ? {} : { fault: faultCase.name, faults: faultCase.schedule }),
                ...(definition.failureDetectionMs === undefined ? {} : { failureDetectionMs: definition.failureDetectionMs }),
                ...(definition.durationMs === undefined ? {} : { durationMs: definition.durationMs }),
                ...(definition.timelineMs === undefined ? {} : { timelineMs: definition.timelineMs }),
              });
            }
            }
          }
        }
      }
    }
  }
  const width = String(Math.max(0, combos.length - 1)).length;
  return combos.map((combo, i) => ({ id: String(i).padStart(width, '0'), ...combo }));
}
