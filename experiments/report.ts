/**
 * `report.html`: one self-contained page per experiment. The chart.js UMD bundle, the charts'
 * configurations and the plugins are inlined, so it opens from disk with no network; the summary
 * tables, every point (configuration, headline numbers, the `orrery sim` command) and the provenance
 * are written as HTML. No wall-clock figure: the same results give the same bytes.
 */
import type { ExperimentDefinition } from './definition.js';
import { chartConfig, orreryChartPlugins, type ChartModel } from './charts.js';
import { tableData, type Provenance, type TidyRow } from './output.js';
import { simCommandOf, type PointResult } from './point.js';

export interface ReportInput {
  readonly definition: ExperimentDefinition;
  readonly provenance: Provenance;
  /** The command that produced the results, e.g. `orrery exp f1-vs-f2`. */
  readonly command: string;
  readonly rows: readonly TidyRow[];
  readonly results: readonly PointResult[];
  readonly charts: readonly ChartModel[];
  /** Plots that could not be drawn from these results, with why. */
  readonly skipped: readonly string[];
  /** The source of chart.js's UMD bundle (`chart.js/dist/chart.umd.min.js`). */
  readonly chartJs: string;
  /** The chart.js version, shown in the provenance. */
  readonly chartJsVersion: string;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Text for inside a <script>: nothing can close the element early. */
function scriptSafe(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON for inside a <script>: `<` escaped, which JSON allows. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function htmlTable(header: readonly string[], body: ReadonlyArray<readonly string[]>, className = ''): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = body.map((cells) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${className === '' ? '' : ` class="${className}"`}>\n<thead>${head}</thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}figure{margin:1.5rem 0}.chart{position:relative;width:100%;max-width:1000px}
figcaption{color:#666;font-size:.85rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.points td{text-align:left;white-space:nowrap}.points td.command{white-space:normal;font-family:monospace;font-size:.8rem}
code,pre{background:#f6f6f6}pre{padding:.5rem;overflow:auto;font-size:.8rem}.note{color:#a33}`;

/** What one page shows, whatever the kind of experiment. */
export interface PageInput {
  readonly name: string;
  readonly description: string;
  readonly provenance: Provenance;
  readonly command: string;
  readonly points: number;
  readonly seeds: readonly number[];
  readonly charts: readonly ChartModel[];
  readonly skipped: readonly string[];
  readonly tables: ReadonlyArray<{ readonly title: string; readonly caption: string; readonly header: readonly string[]; readonly body: ReadonlyArray<readonly string[]> }>;
  /** One row per point; the last column is the command that reruns it. */
  readonly pointTable: { readonly header: readonly string[]; readonly body: ReadonlyArray<readonly string[]> };
  readonly definition: unknown;
  readonly chartJs: string;
  readonly chartJsVersion: string;
}

/** The page of a simulation experiment. */
export function reportHtml(input: ReportInput): string {
  const { definition, results, rows } = input;
  const fmt = (value: number | null) => (value === null ? '' : value.toFixed(1));
  return reportPage({
    name: definition.name,
    description: definition.description,
    provenance: input.provenance,
    command: input.command,
    points: results.length,
    seeds: definition.seeds,
    charts: input.charts,
    skipped: input.skipped,
    tables: (definition.tables ?? []).map((spec) => tableData(spec, rows)),
    pointTable: {
      header: ['id', 'site set', 'protocol', 'conflict %', 'clients/region', 'seed', 'commands', 'mean ms', 'p99 ms', 'fast path', 'command'],
      body: results.map(({ point, report, stuck }) => [
        point.id,
        point.siteSet,
        point.fault === undefined ? point.label : `${point.label}, ${point.fault}`,
        String(point.conflictPct),
        String(point.clientsPerRegion),
        String(point.seed),
        stuck === undefined ? String(report.commands) : `${report.commands} (lost liveness: ${stuck})`,
        fmt(report.latencyMs.all.mean),
        fmt(report.latencyMs.all.p99),
        report.paths.fastRatio === null ? '' : `${(report.paths.fastRatio * 100).toFixed(1)}%`,
        simCommandOf(point),
      ]),
    },
    definition,
    chartJs: input.chartJs,
    chartJsVersion: input.chartJsVersion,
  });
}

/** The page. */
export function reportPage(input: PageInput): string {
  const { provenance, command, charts } = input;
  const parts: string[] = [];
  parts.push('<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">');
  parts.push(`<title>Orrery experiment: ${escapeHtml(input.name)}</title>`, `<style>\n${STYLE}\n</style>`, '</head>', '<body>');
  parts.push(`<h1>${escapeHtml(input.name)}</h1>`, `<p>${escapeHtml(input.description)}</p>`);
  parts.push(
    `<p>Produced by <code>${escapeHtml(command)}</code>; orrery ${escapeHtml(provenance.orreryVersion)}, commit <code>${escapeHtml(provenance.commit)}</code>` +
      `${provenance.dirty ? ' (with uncommitted changes)' : ''}; ${input.points} points; seeds ${escapeHtml(input.seeds.join(', '))}; ` +
      `charts drawn with chart.js ${escapeHtml(input.chartJsVersion)}.</p>`,
  );
  if (charts.length > 0) parts.push('<h2>Charts</h2>');
  charts.forEach((chart, i) => {
    parts.push(
      `<figure id="plot-${escapeHtml(chart.file)}"><div class="chart"><canvas id="chart-${i}" data-file="${escapeHtml(chart.file)}" role="img" aria-label="${escapeHtml(chart.title)}"></canvas></div>` +
        `<figcaption>${escapeHtml(chart.title)} (also <a href="${escapeHtml(chart.file)}.png">${escapeHtml(chart.file)}.png</a>)</figcaption></figure>`,
    );
  });
  for (const note of input.skipped) parts.push(`<p class="note">Not drawn: ${escapeHtml(note)}</p>`);
  if (input.tables.length > 0) parts.push('<h2>Tables</h2>');
  for (const table of input.tables) {
    parts.push(`<h3>${escapeHtml(table.title)}</h3>`, `<p>${escapeHtml(table.caption)}</p>`, htmlTable(table.header, table.body));
  }
  parts.push('<h2>Points</h2>', '<p>Each point reruns on its own with the command shown; raw results in <code>points/&lt;id&gt;.json</code>, tidy rows in <code>results.csv</code>.</p>');
  parts.push(htmlTable(input.pointTable.header, input.pointTable.body, 'points').replace(/<td>(orrery [^<]*)<\/td>/g, '<td class="command">$1</td>'));
  parts.push('<h2>Definition</h2>', `<pre>${escapeHtml(JSON.stringify(input.definition, null, 2))}</pre>`);
  parts.push(`<script>\n${scriptSafe(input.chartJs)}\n</script>`);
  const configs = charts.map((chart) => chartConfig(chart, { responsive: true }));
  parts.push(
    '<script>',
    `const ORRERY_CHARTS = ${jsonForScript(configs)};`,
    `const orreryChartPlugins = ${scriptSafe(orreryChartPlugins.toString())};`,
    'ORRERY_CHARTS.forEach((config, i) => {',
    '  new Chart(document.getElementById(`chart-${i}`), { ...config, plugins: orreryChartPlugins() });',
    '});',
    '</script>',
    '</body>',
    '</html>',
  );
  return `${parts.join('\n')}\n`;
}
