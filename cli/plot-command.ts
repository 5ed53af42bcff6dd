/**
 * `orrery plot <results-dir>`: redraw an experiment's PNGs and report.html from its raw results
 * (`experiment.json` and `points/*.json`) without running anything. `orrery exp` draws them the same
 * way after a run ({@link writeFigures}).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/invariant.js';
import { chartModels } from '../experiments/charts.js';
import { isAdapterDefinition } from '../experiments/adapter-deploy.js';
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
  const pngs: string[] = [];
  if (charts.models.length > 0) {
    let render: ((model: (typeof charts.models)[number]) => Buffer) | undefined;
    try {
      render = (await import('../experiments/render-png.js')).renderPng;
    } catch (error) {
      notes.push(`PNGs not drawn: the native canvas (@napi-rs/canvas) did not load here (${(error as Error).message.split('\n')[0]}); report.html has the charts`);
    }
    if (render !== undefined) {
      for (const model of charts.models) {
        const file = join(out, `${model.file}.png`);
        writeFileSync(file, render(model));
        pngs.push(file);
      }
    }
  }
  const chartJs = chartJsBundle();
  const report = join(out, 'report.html');
  writeFileSync(
    report,
    reportHtml({ definition, provenance, command, rows, results, charts: charts.models, skipped: charts.skipped, chartJs: chartJs.source, chartJsVersion: chartJs.version }),
  );
  return { pngs, report, notes };
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${what} '${file}' is not readable JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** An experiment's raw results read back from its directory, checked. */
export function loadResults(dir: string): { definition: ExperimentDefinition; provenance: Provenance; command: string; results: PointResult[] } {
  if (!existsSync(dir)) throw new UsageError(`results directory '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new UsageError(`'${dir}' is not a directory; give an experiment's results directory, e.g. results/f1-vs-f2`);
  const experimentFile = join(dir, 'experiment.json');
  if (!existsSync(experimentFile)) {
    throw new UsageError(`'${dir}' is not an experiment's results directory: it has no experiment.json (orrery exp <name> writes one)`);
  }
  const experiment = readJson(experimentFile, 'experiment file') as Record<string, unknown>;
  if (experiment['format'] !== 'orrery-experiment') throw new UsageError(`'${experimentFile}' is not an orrery experiment file (format ${JSON.stringify(experiment['format'])})`);
  if (isAdapterDefinition(experiment['definition'])) {
    throw new UsageError(`'${dir}' holds an adapter-deploy experiment, which has no plots yet (its tables are in summary.md)`);
  }
  const definition = validateDefinition(experiment['definition']);
  const pointsDir = join(dir, 'points');
  const files = existsSync(pointsDir) ? readdirSync(pointsDir).filter((name) => name.endsWith('.json')).sort() : [];
  if (files.length !== experiment['points']) {
    throw new UsageError(`'${pointsDir}' holds ${files.length} point files; experiment.json says ${String(experiment['points'])}`);
  }
  const results = files.map((name) => {
    const file = join(pointsDir, name);
    const raw = readJson(file, 'point file') as Record<string, unknown>;
    if (raw['format'] !== 'orrery-experiment-point') throw new UsageError(`'${file}' is not an orrery point file (format ${JSON.stringify(raw['format'])})`);
    return pointResultOf(raw as unknown as Parameters<typeof pointResultOf>[0]);
  });
  const provenance: Provenance = {
    orreryVersion: String(experiment['orreryVersion']),
    commit: String(experiment['commit']),
    dirty: experiment['dirty'] === true,
  };
  const command = typeof experiment['command'] === 'string' ? experiment['command'] : `orrery exp ${definition.name}`;
  return { definition, provenance, command, results };
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
  const { definition, provenance, command, results } = loadResults(dir);
  let figures: Figures;
  try {
    figures = await writeFigures(dir, definition, results, provenance, command);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || error instanceof UsageError) throw error;
    throw new UsageError(`cannot write plots to '${dir}' (${code})`);
  }
  print(`${definition.name}: redrew ${describeFigures(figures)}`);
}
