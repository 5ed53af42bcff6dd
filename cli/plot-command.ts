/**
 * `orrery plot <results-dir>`: redraw an experiment's PNGs and report.html from its raw results
 * (`experiment.json` and `points/*.json`) without running anything. `orrery exp` draws them the same
 * way after a run ({@link writeFigures}).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/invariant.js';
import { chartModels, type ChartModel } from '../experiments/charts.js';
import { adapterTidyRows, isAdapterDefinition, validateAdapterDefinition, type AdapterDeployDefinition, type AdapterDeployPointResult } from '../experiments/adapter-deploy.js';
import { adapterReportHtml, adapterChartModels } from '../experiments/adapter-charts.js';
import { validateDefinition, type ExperimentDefinition } from '../experiments/definition.js';
import { pointResultOf, tidyRows, type Provenance } from '../experiments/output.js';
import type { PointResult } from '../experiments/point.js';
import { reportHtml } from '../experiments/report.js';

type Argv = Record<string, unknown>;

/** The options of `orrery plot`, described for yargs. */
export const PLOT_FLAGS = {} as const;

/** chart.js's UMD bundle and version, read from the installed package. */
function chartJsBundle(): { source: string; version: string } {
  const require = createRequire(import.meta.url);
  // The package exports no package.json; its main file sits in dist/ next to the UMD bundle.
  const dist = dirname(require.resolve('chart.js'));
  const version = (JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string }).version;
  return { source: readFileSync(join(dist, 'chart.umd.min.js'), 'utf8'), version };
}

/** What {@link writeFigures} wrote, and the plots it could not draw. */
export interface Figures {
  readonly pngs: readonly string[];
  readonly report: string;
  readonly notes: readonly string[];
}

/**
 * Writes `<file>.png` for each of the definition's plots and `report.html` into `out`. Without the
 * native canvas (@napi-rs/canvas has no build for this platform) the PNGs are skipped with a note; the
 * page, drawn by the browser, is still written.
 */
export async function writeFigures(
  out: string,
  definition: ExperimentDefinition,
  results: readonly PointResult[],
  provenance: Provenance,
  command: string,
): Promise<Figures> {
  const rows = tidyRows(results);
  const charts = chartModels(definition.plots ?? [], rows, results);
  const notes = [...charts.skipped];
  const pngs = await writePngs(out, charts.models, notes);
  const chartJs = chartJsBundle();
  const report = join(out, 'report.html');
  writeFileSync(
    report,
    reportHtml({ definition, provenance, command, rows, results, charts: charts.models, skipped: charts.skipped, chartJs: chartJs.source, chartJsVersion: chartJs.version }),
  );
  return { pngs, report, notes };
}

/** `<file>.png` per model into `out`; without the native canvas, a note instead. */
async function writePngs(out: string, models: readonly ChartModel[], notes: string[]): Promise<string[]> {
  const pngs: string[] = [];
  if (models.length === 0) return pngs;
  let render: ((model: ChartModel) => Buffer) | undefined;
  try {
    render = (await import('../experiments/render-png.js')).renderPng;
  } catch (error) {
    notes.push(`PNGs not drawn: the native canvas (@napi-rs/canvas) did not load here (${(error as Error).message.split('\n')[0]}); report.html has the charts`);
  }
  if (render !== undefined) {
    for (const model of models) {
      const file = join(out, `${model.file}.png`);
      writeFileSync(file, render(model));
      pngs.push(file);
    }
  }
  return pngs;
}

/** The PNGs and report.html of an adapter-deploy experiment (register vs rolling update). */
export async function writeAdapterFigures(
  out: string,
  definition: AdapterDeployDefinition,
  results: readonly AdapterDeployPointResult[],
  provenance: Provenance,
  command: string,
): Promise<Figures> {
  const notes: string[] = [];
  const pngs = await writePngs(out, adapterChartModels(adapterTidyRows(results)), notes);
  const chartJs = chartJsBundle();
  const report = join(out, 'report.html');
  writeFileSync(report, adapterReportHtml({ definition, provenance, command, results, chartJs: chartJs.source, chartJsVersion: chartJs.version }));
  return { pngs, report, notes };
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${what} '${file}' is not readable JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** An experiment's raw results read back from its directory, checked; either kind. */
export type LoadedResults =
  | { readonly kind: 'simulation'; definition: ExperimentDefinition; provenance: Provenance; command: string; results: PointResult[] }
  | { readonly kind: 'adapter-deploy'; definition: AdapterDeployDefinition; provenance: Provenance; command: string; results: AdapterDeployPointResult[] };

/** An experiment's raw results read back from its directory, checked. */
export function loadResults(dir: string): LoadedResults {
  if (!existsSync(dir)) throw new UsageError(`results directory '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`'${dir}' is not a directory; give an experiment's results directory, e.g. results/f1-vs-f2`);
  const experimentFile = join(dir, 'experiment.json');
  if (!existsSync(experimentFile)) {
    throw new UsageError(`'${dir}' is not an experiment's results directory: it has no experiment.json (orrery exp <name> writes one)`);
  }
  const experiment = readJson(experimentFile, 'experiment file') as Record<string, unknown>;
  if (experiment['format'] !== 'orrery-experiment') throw new UsageError(`'${experimentFile}' is not an orrery experiment file (format ${JSON.stringify(experiment['format'])})`);
  const adapter = isAdapterDefinition(experiment['definition']);
  const definition = adapter ? validateAdapterDefinition(experiment['definition'] as Record<string, unknown>) : validateDefinition(experiment['definition']);
  const pointsDir = join(dir, 'points');
  const files = existsSync(pointsDir) ? readdirSync(pointsDir).filter((name) => name.endsWith('.json')).sort() : [];
  if (files.length !== experiment['points']) {
    throw new UsageError(`'${pointsDir}' holds ${files.length} point files; experiment.json says ${String(experiment['points'])}`);
  }
  const raws = files.map((name) => {
    const file = join(pointsDir, name);
    const raw = readJson(file, 'point file') as Record<string, unknown>;
    if (raw['format'] !== 'orrery-experiment-point') throw new UsageError(`'${file}' is not an orrery point file (format ${JSON.stringify(raw['format'])})`);
    if (adapter && (typeof raw['figures'] !== 'object' || raw['figures'] === null)) throw new UsageError(`'${file}' is not an adapter-deploy point file (no figures)`);
    return raw;
  });
  const provenance: Provenance = {
    orreryVersion: String(experiment['orreryVersion']),
    commit: String(experiment['commit']),
    dirty: experiment['dirty'] === true,
  };
  const command = typeof experiment['command'] === 'string' ? experiment['command'] : `orrery exp ${definition.name}`;
  if (adapter) {
    const results = raws.map((raw) => ({ point: raw['point'], figures: raw['figures'] }) as unknown as AdapterDeployPointResult);
    return { kind: 'adapter-deploy', definition: definition as AdapterDeployDefinition, provenance, command, results };
  }
  const results = raws.map((raw) => pointResultOf(raw as unknown as Parameters<typeof pointResultOf>[0]));
  return { kind: 'simulation', definition: definition as ExperimentDefinition, provenance, command, results };
}

/** The closing line of `orrery exp` and `orrery plot`, and any notes. */
export function describeFigures(figures: Figures): string {
  const lines = [`${figures.pngs.length === 0 ? 'no PNG' : `${figures.pngs.length} PNG${figures.pngs.length === 1 ? '' : 's'}`} and ${figures.report}`];
  for (const note of figures.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

/** Runs `orrery plot`. */
export async function runPlotCommand(argv: Argv, print: (text: string) => void): Promise<void> {
  const dir = argv['results-dir'];
  if (typeof dir !== 'string' || dir === '') throw new UsageError("name an experiment's results directory, e.g. orrery plot results/f1-vs-f2");
  const loaded = loadResults(dir);
  const { definition } = loaded;
  let figures: Figures;
  try {
    figures =
      loaded.kind === 'adapter-deploy'
        ? await writeAdapterFigures(dir, loaded.definition, loaded.results, loaded.provenance, loaded.command)
        : await writeFigures(dir, loaded.definition, loaded.results, loaded.provenance, loaded.command);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || error instanceof UsageError) throw error;
    throw new UsageError(`cannot write plots to '${dir}' (${code})`);
  }
  print(`${definition.name}: redrew ${describeFigures(figures)}`);
}
