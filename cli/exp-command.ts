/**
 * `orrery exp`: run a named experiment (or a definition file) and write `results/<experiment>/`.
 * This layer owns what the deterministic core must not do: git, the package version, files, threads,
 * the clock (only for the progress bar and the closing line, never in a written file).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/invariant.js';
import {
  adapterPointJson,
  adapterSummaryMarkdown,
  adapterTidyCsv,
  adapterTidyRows,
  describeAdapterDefinition,
  expandAdapterDefinition,
  isAdapterDefinition,
  validateAdapterDefinition,
  type AdapterDeployDefinition,
} from '../experiments/adapter-deploy.js';
import { ADAPTER_EXPERIMENTS, EXPERIMENTS } from '../experiments/catalog.js';
import { expandDefinition, validateDefinition, type ExperimentDefinition } from '../experiments/definition.js';
import { experimentJson, pointJson, summaryMarkdown, tidyCsv, tidyRows, timelineCsv, type Provenance } from '../experiments/output.js';
import { simFlagsOf } from '../experiments/point.js';
import { runPoints } from '../experiments/runner.js';
import { intFlag, stringFlag } from './options.js';
import { describeFigures, writeAdapterFigures, writeFigures, type Figures } from './plot-command.js';
import { simulationFromFlags } from './sim-command.js';

type Argv = Record<string, unknown>;

/** The options of `orrery exp`, described for yargs. */
export const EXP_FLAGS = {
  list: { type: 'boolean', describe: 'describe every built-in experiment and exit' },
  out: { type: 'string', describe: 'output directory [default: results/<experiment>]' },
  workers: { type: 'string', describe: 'worker threads running points; 1 runs them in the main thread [default: the available cores]' },
} as const;

/** The package version and the git commit of the working directory (`unknown` outside a repository). */
export function provenance(): Provenance {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = git('rev-parse', 'HEAD');
    // Results themselves do not make a run dirty: re-running rewrites them.
    dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)results') !== '';
  } catch {
    // Not a git checkout: keep 'unknown'.
  }
  return { orreryVersion: pkg.version, commit, dirty };
}

/** `orrery exp --list`: one paragraph per experiment. */
export function describeExperiments(): string {
  const blocks: string[] = [];
  for (const definition of EXPERIMENTS.values()) {
    const points = expandDefinition(definition).length;
    const sites = definition.siteSets.map((s) => `${s.name} (${s.regions.length})`).join(', ');
    blocks.push(
      [
        `${definition.name}: ${definition.description}`,
        `  ${points} points; sites ${sites}; conflict ${definition.conflictPct.join(', ')}%; ` +
          `${definition.clientsPerRegion.join('/')} clients/region × ${definition.commandsPerClient === undefined ? '' : `${definition.commandsPerClient} commands`}` +
          `${definition.commandsPerClient !== undefined && definition.durationMs !== undefined ? ' or ' : ''}` +
          `${definition.durationMs === undefined ? '' : `${definition.durationMs / 1000} s of simulated time`}; seeds ${definition.seeds.join(', ')}` +
          `${definition.cpuProfile === undefined ? '' : `; CPU model ${definition.cpuProfile}`}` +
          `${definition.faults === undefined ? '' : `; faults ${definition.faults.map((c) => c.name).join(', ')}`}`,
        `  run: orrery exp ${definition.name}`,
      ].join('\n'),
    );
  }
  for (const definition of ADAPTER_EXPERIMENTS.values()) blocks.push(describeAdapterDefinition(definition));
  return blocks.join('\n\n');
}

/** Every built-in experiment's name, in `--list` order. */
function experimentNames(): string[] {
  return [...EXPERIMENTS.keys(), ...ADAPTER_EXPERIMENTS.keys()];
}

function loadDefinition(name: string): ExperimentDefinition | AdapterDeployDefinition {
  if (name.endsWith('.json')) {
    let text: string;
    try {
      text = readFileSync(name, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read experiment file '${name}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`experiment file '${name}' is not JSON: ${(error as Error).message}`);
    }
    return isAdapterDefinition(parsed) ? validateAdapterDefinition(parsed) : validateDefinition(parsed);
  }
  const found = EXPERIMENTS.get(name) ?? ADAPTER_EXPERIMENTS.get(name);
  if (found === undefined) throw new UsageError(`unknown experiment '${name}'; accepted: ${experimentNames().join(', ')}, or a definition file ending in .json`);
  return found;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A one-line progress bar with an ETA, redrawn in place; nothing when stdout is not a terminal. */
function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (process.stdout.isTTY !== true) return undefined;
  const start = Date.now();
  return (done, total) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const elapsed = Date.now() - start;
    const eta = done === 0 ? '?' : formatDuration((elapsed / done) * (total - done));
    process.stdout.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ETA ${eta} `);
    if (done === total) process.stdout.write('\n');
  };
}

/** Runs `orrery exp`. */
export async function runExpCommand(argv: Argv, print: (text: string) => void): Promise<void> {
  if (argv['list'] === true) {
    print(describeExperiments());
    return;
  }
  const name = stringFlag(argv, 'experiment', undefined);
  if (name === undefined) {
    throw new UsageError(`name one experiment: ${experimentNames().join(', ')}, or a definition file ending in .json (see orrery exp --list)`);
  }
  const definition = loadDefinition(name);
  const out = stringFlag(argv, 'out', join('results', definition.name));
  const workers = intFlag(argv, 'workers', 0, 1, 1024);
  if ('kind' in definition) return runAdapterExperiment(definition, name, out, workers, print);
  const points = expandDefinition(definition);
  // Build every point's simulation options here, in the main thread, so that a user mistake a
  // definition cannot catch (a missing CPU profile) is a one-line usage error, not a worker's crash.
  for (const point of points) simulationFromFlags(simFlagsOf(point));
  const started = Date.now();
  const results = await runPoints(points, runOptions(definition.name, workers));
  const origin = provenance();
  const command = `orrery exp ${name}`;
  const figures = await writeResults(out, async () => {
    for (const result of results) writeFileSync(join(out, 'points', `${result.point.id}.json`), pointJson(result, origin));
    const rows = tidyRows(results);
    writeFileSync(join(out, 'results.csv'), tidyCsv(rows));
    const timeline = timelineCsv(results);
    if (timeline !== null) writeFileSync(join(out, 'timeline.csv'), timeline);
    writeFileSync(join(out, 'experiment.json'), experimentJson(definition, points, origin, command));
    writeFileSync(join(out, 'summary.md'), summaryMarkdown(definition, rows, command, origin, results));
    return writeFigures(out, definition, results, origin, command);
  });
  print(written(definition.name, points.length, started, out, figures));
}

/** How to run the points: `workers` threads (0: the pool's default), a progress bar on a terminal. */
function runOptions(name: string, workers: number): NonNullable<Parameters<typeof runPoints>[1]> {
  const onProgress = progressBar(name);
  return { ...(workers === 0 ? {} : { workers }), ...(onProgress === undefined ? {} : { onProgress }) };
}

/**
 * Writes an experiment's files into `out` (its points/ emptied first) with `write`; a file-system
 * failure is a one-line usage error naming the directory.
 */
async function writeResults(out: string, write: () => Promise<Figures>): Promise<Figures> {
  try {
    rmSync(join(out, 'points'), { recursive: true, force: true });
    mkdirSync(join(out, 'points'), { recursive: true });
    return await write();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined || error instanceof UsageError) throw error;
    throw new UsageError(`cannot write results to '${out}' (${code})`);
  }
}

/** The closing line of `orrery exp`. */
function written(name: string, points: number, started: number, out: string, figures: Figures): string {
  return (
    `${name}: ${points} points in ${formatDuration(Date.now() - started)}; wrote ${join(out, 'results.csv')}, ${join(out, 'summary.md')}, ` +
    `${points} files in ${join(out, 'points')}, ${describeFigures(figures)}`
  );
}

/** `orrery exp` for an adapter-deploy experiment: the same files, with the figures of `orrery app`. */
async function runAdapterExperiment(definition: AdapterDeployDefinition, name: string, out: string, workers: number, print: (text: string) => void): Promise<void> {
  const points = expandAdapterDefinition(definition);
  const started = Date.now();
  const results = await runPoints(points, runOptions(definition.name, workers));
  const origin = provenance();
  const command = `orrery exp ${name}`;
  const figures = await writeResults(out, async () => {
    for (const result of results) writeFileSync(join(out, 'points', `${result.point.id}.json`), adapterPointJson(result, origin));
    const rows = adapterTidyRows(results);
    writeFileSync(join(out, 'results.csv'), adapterTidyCsv(rows));
    writeFileSync(join(out, 'experiment.json'), `${JSON.stringify({ format: 'orrery-experiment', version: 1, ...origin, command, definition, points: points.length }, null, 2)}\n`);
    writeFileSync(join(out, 'summary.md'), adapterSummaryMarkdown(definition, rows, command, origin));
    return writeAdapterFigures(out, definition, results, origin, command);
  });
  print(written(definition.name, points.length, started, out, figures));
}
