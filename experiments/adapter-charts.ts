/**
 * The charts of an adapter-deploy experiment (register vs rolling update), as chart models: the same
 * models draw the PNGs and the charts of report.html, as for the simulation kind (experiments/charts.ts).
 * Bars per fraction of regressed versions, one series per protocol × strategy, the mean over seeds with
 * the worst seed as the whisker, and the page around them. No I/O; the same rows give the same bytes.
 */
import type { ChartDataset, ChartModel } from './charts.js';
import { adapterTidyRows, appCommandOf, type AdapterDeployDefinition, type AdapterDeployPointResult, type AdapterRow } from './adapter-deploy.js';
import type { TableSpec } from './definition.js';
import { tableData, type Provenance, type TidyRow } from './output.js';
import { reportPage } from './report.js';

/** Register in the protocol's colour, the rolling update in a lighter shade of it. */
const COLORS: Readonly<Record<string, readonly [string, string]>> = {
  tempo: ['#1f5fa8', '#6fa3dc'],
  atlas: ['#d9661f', '#f0a060'],
  epaxos: ['#2e8b3e', '#7cc48a'],
  fpaxos: ['#b3283a', '#e0707f'],
};

function distinct<T>(values: readonly T[]): T[] {
  return values.filter((value, i) => values.indexOf(value) === i);
}

function numbers(rows: readonly AdapterRow[], field: keyof AdapterRow, scale: number): number[] {
  return rows.map((row) => row[field]).filter((v): v is number => typeof v === 'number').map((v) => v / scale);
}

/** One bar chart of `field` (divided by `scale`) per bad fraction, series protocol × strategy. */
function bars(rows: readonly AdapterRow[], file: string, title: string, field: keyof AdapterRow, yTitle: string, scale: number, strategies: readonly string[]): ChartModel {
  const fractions = distinct(rows.map((row) => Number(row.bad_fraction))).sort((a, b) => a - b);
  const datasets: ChartDataset[] = [];
  for (const protocol of distinct(rows.map((row) => String(row.protocol)))) {
    for (const strategy of strategies) {
      const own = rows.filter((row) => row.protocol === protocol && row.strategy === strategy);
      if (own.length === 0) continue;
      const at = (fraction: number) => numbers(own.filter((row) => Number(row.bad_fraction) === fraction), field, scale);
      const color = (COLORS[protocol] ?? ['#5f6b73', '#a0a8ae'])[strategy === 'register' ? 0 : 1];
      datasets.push({
        label: `${protocol} ${strategy}`,
        color,
        data: fractions.map((fraction) => {
          const values = at(fraction);
          return values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
        }),
        whiskers: fractions.map((fraction) => {
          const values = at(fraction);
          return values.length === 0 ? null : Math.max(...values);
        }),
      });
    }
  }
  return {
    file,
    title,
    type: 'bar',
    xType: 'category',
    labels: fractions.map((fraction) => `${Math.round(fraction * 100)}%`),
    xTitle: 'versions that are regressed',
    yTitle: `${yTitle} (bar: mean over seeds, whisker: worst seed)`,
    cdf: false,
    datasets,
  };
}

/**
 * The experiment's charts. Requests served by regressed versions: when the register served none on
 * every point (its safety property), the chart shows the rolling update alone and says so in its
 * title, since a bar of height zero draws nothing; otherwise both.
 */
export function adapterChartModels(rows: readonly AdapterRow[]): ChartModel[] {
  const strategies = distinct(rows.map((row) => String(row.strategy)));
  const register = rows.filter((row) => row.strategy === 'register');
  const registerClean = register.length > 0 && register.every((row) => row.bad_version_requests === 0);
  const badStrategies = registerClean ? strategies.filter((s) => s !== 'register') : strategies;
  const models: ChartModel[] = [];
  if (badStrategies.length > 0) {
    models.push(
      bars(
        rows,
        'bad-version-requests',
        registerClean
          ? `Requests served by regressed versions: rolling update (the register: 0 on all ${register.length} of its points)`
          : 'Requests served by regressed versions',
        'bad_version_requests',
        'requests',
        1,
        badStrategies,
      ),
    );
  }
  models.push(bars(rows, 'mixed-version-window', 'Time the fleet served more than one version', 'mixed_version_ms', 'mixed-version window (s)', 1000, strategies));
  models.push(bars(rows, 'convergence', 'Publication to the whole fleet serving a version (median over versions)', 'converged_median_ms', 'time to converge (s)', 1000, strategies));
  return models.map((model) => ({ ...model, datasets: model.datasets.filter((d) => d.data.some((v) => v !== null)) }));
}

/** The report page of an adapter-deploy experiment (experiments/report.ts draws it). */
export function adapterReportHtml(input: {
  readonly definition: AdapterDeployDefinition;
  readonly provenance: Provenance;
  readonly command: string;
  readonly results: readonly AdapterDeployPointResult[];
  readonly chartJs: string;
  readonly chartJsVersion: string;
}): string {
  const { definition, results } = input;
  const rows = adapterTidyRows(results);
  const ms = (value: number | string | null) => (typeof value === 'number' ? (value / 1000).toFixed(1) : '');
  return reportPage({
    name: definition.name,
    description: definition.description,
    provenance: input.provenance,
    command: input.command,
    points: results.length,
    seeds: definition.seeds,
    charts: adapterChartModels(rows),
    skipped: [],
    // The pivot tables group by field name whatever the fields are (as summary.md does).
    tables: (definition.tables ?? []).map((spec) => tableData(spec as unknown as TableSpec, rows as unknown as readonly TidyRow[])),
    pointTable: {
      header: ['id', 'protocol', 'strategy', 'regressed', 'seed', 'requests', 'bad-version requests', 'mixed-version s', 'released', 'rejected', 'command'],
      body: results.map((result, i) => {
        const row = rows[i]!;
        return [
          result.point.id,
          result.point.protocol,
          result.point.strategy,
          String(result.point.badFraction),
          String(result.point.seed),
          String(row.requests),
          String(row.bad_version_requests),
          ms(row.mixed_version_ms),
          String(row.released),
          String(row.rejected),
          appCommandOf(result.point),
        ];
      }),
    },
    definition,
    chartJs: input.chartJs,
    chartJsVersion: input.chartJsVersion,
  });
}
