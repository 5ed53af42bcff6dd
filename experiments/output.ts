/**
 * The files of `results/<experiment>/`: raw JSON per point (`points/<id>.json`), one tidy CSV
 * (`results.csv`, one row per point × client region plus an `all` row per point), `summary.md` with
 * the definition's tables, and `experiment.json` (the definition and the provenance). None holds a
 * wall-clock figure, so re-running a definition rewrites the same bytes, except the commit when it
 * changed.
 */
import { RECOVERY_FIELDS, type ExperimentDefinition, type GroupField, type Point, type RowFilter, type TableSpec, type ValueField } from './definition.js';
import { simCommandOf, type PointResult } from './point.js';
import { recoveryFigures, wholeBuckets } from './recovery-figures.js';

/** Where and from what a result was produced; the CLI layer fills it (the core never calls git). */
export interface Provenance {
  readonly orreryVersion: string;
  /** `git rev-parse HEAD`, or `unknown` outside a repository. */
  readonly commit: string;
  /** Whether tracked files outside results/ differed from the commit. */
  readonly dirty: boolean;
}

/** A tidy row: one point × one client region (or `all`). */
export type TidyRow = Readonly<Record<GroupField | ValueField | 'experiment' | 'point' | 'planet' | 'cpu', string | number | null>>;

/** The raw JSON of one point: provenance, seed, the full configuration, the command and the report. */
export function pointJson(result: PointResult, provenance: Provenance): string {
  const { point, report, boteMs, latencyCdf, stuck } = result;
  return `${compactNumberLists(JSON.stringify(
    {
      format: 'orrery-experiment-point',
      version: 1,
      orreryVersion: provenance.orreryVersion,
      commit: provenance.commit,
      dirty: provenance.dirty,
      experiment: point.experiment,
      seed: point.seed,
      point,
      command: simCommandOf(point),
      report,
      boteMs,
      latencyCdf,
      ...(stuck === undefined ? {} : { stuck }),
    },
    null,
    2,
  ))}\n`;
}

/** Puts every list of plain numbers on one line, so a 102-value distribution is one line, not 104. */
function compactNumberLists(json: string): string {
  return json.replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`);
}

/** Reads back what {@link pointJson} wrote (the CLI checks the format first). */
export function pointResultOf(raw: {
  point: Point;
  report: PointResult['report'];
  boteMs?: PointResult['boteMs'];
  latencyCdf?: PointResult['latencyCdf'];
  stuck?: string;
}): PointResult {
  return { point: raw.point, report: raw.report, boteMs: raw.boteMs ?? null, latencyCdf: raw.latencyCdf ?? null, ...(raw.stuck === undefined ? {} : { stuck: raw.stuck }) };
}

/** The experiment-level file: the command that ran it, the definition, the number of points and provenance. */
export function experimentJson(definition: ExperimentDefinition, points: readonly Point[], provenance: Provenance, command: string): string {
  return `${JSON.stringify({ format: 'orrery-experiment', version: 1, ...provenance, command, definition, points: points.length }, null, 2)}\n`;
}

/** The tidy rows of every result, in point order, regions in client-region order, then `all`. */
export function tidyRows(results: readonly PointResult[]): TidyRow[] {
  const rows: TidyRow[] = [];
  for (const { point, report, boteMs } of results) {
    const recovery = recoveryFigures(point, report.timeline);
    for (const latency of [...report.latencyMs.byRegion, report.latencyMs.all]) {
      rows.push({
        experiment: point.experiment,
        point: point.id,
        site_set: point.siteSet,
        planet: point.planet,
        n: point.regions.length,
        protocol: point.protocol,
        f: point.f,
        label: point.label,
        conflict_pct: point.conflictPct,
        clients_per_region: point.clientsPerRegion,
        fault: point.fault ?? null,
        seed: point.seed,
        cpu: point.cpuProfile === null ? 'off' : `${point.cores ?? 1} core`,
        region: latency.region,
        commands: latency.count,
        mean_ms: latency.mean,
        p50_ms: latency.p50,
        p95_ms: latency.p95,
        p99_ms: latency.p99,
        p999_ms: latency.p999,
        max_ms: latency.max,
        fast_ratio: report.paths.fastRatio,
        throughput_ops_per_sec: report.throughputOpsPerSec,
        bote_ms: boteMs?.[latency.region] ?? null,
        ...recovery,
      });
    }
  }
  return rows;
}

/** The CSV columns, in order. */
export const CSV_COLUMNS = [
  'experiment',
  'point',
  'site_set',
  'planet',
  'n',
  'protocol',
  'f',
  'label',
  'conflict_pct',
  'clients_per_region',
  'seed',
  'cpu',
  'region',
  'commands',
  'mean_ms',
  'p50_ms',
  'p95_ms',
  'p99_ms',
  'p999_ms',
  'max_ms',
  'fast_ratio',
  'throughput_ops_per_sec',
  'bote_ms',
] as const;

/**
 * The CSV columns of these rows: {@link CSV_COLUMNS}, and, when some point ran under a fault case,
 * its name after `clients_per_region`; when some point has a timeline, the recovery figures last.
 * Experiments without either keep the columns (and bytes) they always had.
 */
export function csvColumns(rows: readonly TidyRow[]): string[] {
  const columns: string[] = [...CSV_COLUMNS];
  if (rows.some((row) => row['fault'] !== null)) columns.splice(columns.indexOf('clients_per_region') + 1, 0, 'fault');
  if (rows.some((row) => RECOVERY_FIELDS.some((field) => row[field] !== null))) columns.push(...RECOVERY_FIELDS);
  return columns;
}

function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The tidy CSV, header first. */
export function tidyCsv(rows: readonly TidyRow[]): string {
  const columns = csvColumns(rows) as Array<keyof TidyRow>;
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column])).join(','));
  return `${lines.join('\n')}\n`;
}

/** The columns of `timeline.csv`. */
export const TIMELINE_CSV_COLUMNS = ['experiment', 'point', 'label', 'fault', 'seed', 't_s', 'commands', 'ops_per_sec', 'mean_ms', 'p50_ms', 'p99_ms'] as const;

/**
 * `timeline.csv`: one row per point × whole bucket of its timeline (see recovery-figures.ts), `t_s`
 * the bucket's start in seconds of simulated time; null when no point has a timeline.
 */
export function timelineCsv(results: readonly PointResult[]): string | null {
  if (results.every((r) => r.report.timeline === undefined)) return null;
  const lines = [TIMELINE_CSV_COLUMNS.join(',')];
  for (const { point, report } of results) {
    if (report.timeline === undefined) continue;
    for (const bucket of wholeBuckets(report.timeline, point.durationMs)) {
      const cells = [point.experiment, point.id, point.label, point.fault ?? '', point.seed, bucket.startMs / 1000, bucket.commands, bucket.opsPerSec, bucket.meanMs, bucket.p50Ms, bucket.p99Ms];
      lines.push(cells.map(csvCell).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatNumber(value: number, field: ValueField): string {
  if (field === 'fast_ratio') return `${(value * 100).toFixed(1)}%`;
  if (field === 'commands' || field === 'throughput_ops_per_sec' || field.startsWith('ops_per_sec')) return value.toFixed(0);
  return value.toFixed(1);
}

/** The rows a `where` keeps: each named field equals the value, or one of the list (compared as text). */
export function filterRows(rows: readonly TidyRow[], where: RowFilter | undefined): TidyRow[] {
  return rows.filter((row) =>
    Object.entries(where ?? {}).every(([key, value]) => {
      const accepted = (Array.isArray(value) ? value : [value]).map(String);
      return accepted.includes(String(row[key as GroupField]));
    }),
  );
}

/** A table ready to print: its title, a caption, the header and the formatted cells. */
export interface TableData {
  readonly title: string;
  readonly caption: string;
  readonly header: readonly string[];
  readonly body: ReadonlyArray<readonly string[]>;
}

/** A table spec rendered as Markdown from the tidy rows; values averaged over seeds. */
export function renderTable(spec: TableSpec, rows: readonly TidyRow[]): string {
  const { title, caption, header, body } = tableData(spec, rows);
  const lines = [`### ${title}`, '', caption, '', `| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const cells of body) lines.push(`| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

/** A table spec computed from the tidy rows; values averaged over seeds. */
export function tableData(spec: TableSpec, rows: readonly TidyRow[]): TableData {
  const kept = filterRows(rows, spec.where);
  // Each row of the table gathers (column, field, value) triples; a pivot has one field and many
  // columns, a side-by-side table one column per field.
  const columns: Array<{ name: string; field: ValueField; match: (row: TidyRow) => boolean }> = [];
  if ('values' in spec) {
    for (const field of spec.values) columns.push({ name: field, field, match: () => true });
  } else {
    const distinct: Array<string | number> = [];
    for (const row of kept) {
      const value = row[spec.columns] as string | number;
      if (!distinct.includes(value)) distinct.push(value);
    }
    if (distinct.every((v) => typeof v === 'number')) distinct.sort((a, b) => (a as number) - (b as number));
    for (const value of distinct) {
      columns.push({ name: `${spec.columns}=${String(value)}`, field: spec.value, match: (row) => row[spec.columns] === value });
    }
  }
  // Table rows in order of first appearance, which is the expansion order.
  const rowKeys: string[] = [];
  const rowLabels = new Map<string, string[]>();
  const cells = new Map<string, { sum: number; count: number }>();
  for (const row of kept) {
    const labels = spec.rows.map((field) => String(row[field]));
    const key = labels.join('\u0000');
    if (!rowLabels.has(key)) {
      rowLabels.set(key, labels);
      rowKeys.push(key);
    }
    columns.forEach((column, i) => {
      const value = row[column.field];
      if (!column.match(row) || typeof value !== 'number') return;
      const cellKey = `${key}\u0001${i}`;
      const cell = cells.get(cellKey) ?? { sum: 0, count: 0 };
      cell.sum += value;
      cell.count += 1;
      cells.set(cellKey, cell);
    });
  }
  // A protocol's f values sit together (tempo f=1, tempo f=2, atlas f=1, …) even where an f first
  // appears in a later site set; otherwise the order of first appearance stands (the sort is stable).
  if (spec.rows.includes('label')) {
    const protocolRank = new Map<string, number>();
    const labelOrder = new Map<string, [number, number]>();
    for (const row of kept) {
      const protocol = String(row['protocol']);
      if (!protocolRank.has(protocol)) protocolRank.set(protocol, protocolRank.size);
      labelOrder.set(String(row['label']), [protocolRank.get(protocol)!, Number(row['f'])]);
    }
    const at = spec.rows.indexOf('label');
    const rank = (key: string) => labelOrder.get(rowLabels.get(key)![at]!) ?? [0, 0];
    const others = (key: string) => rowLabels.get(key)!.filter((_, i) => i < at);
    const firstSeen = new Map(rowKeys.map((key, i) => [key, i]));
    const groupSeen = new Map<string, number>();
    for (const key of rowKeys) {
      const group = others(key).join('\u0000');
      if (!groupSeen.has(group)) groupSeen.set(group, firstSeen.get(key)!);
    }
    rowKeys.sort((a, b) => {
      const byGroup = groupSeen.get(others(a).join('\u0000'))! - groupSeen.get(others(b).join('\u0000'))!;
      if (byGroup !== 0) return byGroup;
      const [pa, fa] = rank(a);
      const [pb, fb] = rank(b);
      return pa - pb || fa - fb || firstSeen.get(a)! - firstSeen.get(b)!;
    });
  }
  const withDelta = spec.delta === true && columns.length === 2;
  const header = [...spec.rows, ...columns.map((c) => c.name), ...(withDelta ? ['Δ', 'Δ%'] : [])];
  const caption = 'values' in spec ? `${spec.rows.join(' × ')}` : `${spec.value}; ${spec.rows.join(' × ')} by ${spec.columns}`;
  const body: string[][] = [];
  for (const key of rowKeys) {
    const values = columns.map((_, i) => {
      const cell = cells.get(`${key}\u0001${i}`);
      return cell === undefined ? null : cell.sum / cell.count;
    });
    const shown = values.map((v, i) => (v === null ? '' : formatNumber(v, columns[i]!.field)));
    if (withDelta) {
      const [first, second] = values;
      if (first !== null && first !== undefined && second !== null && second !== undefined) {
        shown.push(formatNumber(second - first, columns[1]!.field), first === 0 ? '' : `${(((second - first) / first) * 100).toFixed(1)}%`);
      } else shown.push('', '');
    }
    body.push([...rowLabels.get(key)!, ...shown]);
  }
  return { title: spec.title, caption, header, body };
}

/**
 * `summary.md` of either kind of experiment: its name and description, the command that made it, a
 * line on the raw files, and its tables (pivoted by field name, whatever the fields are).
 */
export function summaryPage(
  experiment: { readonly name: string; readonly description: string },
  tables: readonly string[],
  command: string,
  provenance: Provenance,
  rawFiles = 'Raw results: `points/*.json`; tidy table: `results.csv`.',
): string {
  const parts = [
    `# ${experiment.name}`,
    '',
    experiment.description,
    '',
    `Produced by \`${command}\` (orrery ${provenance.orreryVersion}, commit ${provenance.commit}${provenance.dirty ? ', with uncommitted changes' : ''}).`,
    rawFiles,
  ];
  for (const table of tables) parts.push('', table);
  return `${parts.join('\n')}\n`;
}

/** `summary.md`: the experiment's description, the command that made it, and its tables. */
export function summaryMarkdown(definition: ExperimentDefinition, rows: readonly TidyRow[], command: string, provenance: Provenance, results: readonly PointResult[] = []): string {
  const tables = (definition.tables ?? []).map((spec) => renderTable(spec, rows));
  const stuck = results.filter((r) => r.stuck !== undefined);
  if (stuck.length > 0) {
    tables.push(
      ['### Points that lost liveness', '', 'Their figures cover the run until it stalled.', '', ...stuck.map((r) => `- point ${r.point.id} (${r.point.label}${r.point.fault === undefined ? '' : `, ${r.point.fault}`}): ${r.stuck!}`)].join('\n'),
    );
  }
  return summaryPage(definition, tables, command, provenance);
}
