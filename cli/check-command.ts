/**
 * `orrery check`: random fault schedules per protocol, each run checked for safety and, once the
 * faults heal, liveness; a failure is shrunk to a minimal case and printed with the command that
 * replays it. `--replay CASE` runs one printed case again. Wall-clock time enters only here: the
 * linearizability budget (`--budget-ms`) and, with `--soak`, schedules per second.
 */
import { readFileSync } from 'node:fs';
import { decodeCase, type CheckCase } from '../check/case.js';
import { checkProtocol, replayCase, type CheckSummary } from '../check/runner.js';
import type { RunCaseOptions } from '../check/run-case.js';
import { UsageError } from '../core/invariant.js';
import type { ProtocolDefinition } from '../core/process.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { parseFaults, type FaultSchedule } from '../sim/faults.js';
import { intFlag, numberFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Resolve = (name: string) => ProtocolDefinition<any, any>;

export const CHECK_FLAGS = {
  protocol: { type: 'string', describe: `the protocol to check, or all: ${availableProtocols().join(', ')} [default: all]` },
  runs: { type: 'string', describe: 'random cases (configuration, workload, fault schedule) per protocol [default: 200]' },
  seed: { type: 'string', describe: 'seed of the case generator; same seed, same cases [default: 1]' },
  faults: { type: 'string', describe: 'check every case under the fault schedule in this JSON file instead of generated ones' },
  'budget-ms': { type: 'string', describe: 'wall-clock budget of the linearizability check per case; undecided keys count as unknown' },
  replay: { type: 'string', describe: 'run one case again, as printed by a failed check (base64url or JSON)' },
  soak: { type: 'boolean', describe: 'also print wall-clock time and schedules per second' },
} as const;

/** The largest n a check case uses; a faults file is validated against it. */
const CHECK_N_MAX = 7;

function readFaults(file: string): FaultSchedule {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`cannot read faults file '${file}' (${code})`);
  }
  return parseFaults(text, file, CHECK_N_MAX);
}

function caseLine(c: CheckCase): string {
  const kinds: string[] = [];
  const f = c.faults;
  if ((f.crashes ?? []).length > 0) kinds.push(`crashes ${f.crashes!.map((x) => `${x.process}@${x.atMs}ms`).join(' ')}`);
  if ((f.partitions ?? []).length > 0) kinds.push(`partitions ${f.partitions!.length}`);
  if ((f.messageFaults ?? []).length > 0) kinds.push(`message faults ${f.messageFaults!.length}`);
  if ((f.slowLinks ?? []).length > 0) kinds.push(`slow links ${f.slowLinks!.length}`);
  if ((f.removals ?? []).length > 0) kinds.push(`removals ${f.removals!.map((x) => `${x.process}@${x.atMs}ms`).join(' ')}`);
  if (f.removeAfterMs !== undefined) kinds.push(`removal after ${f.removeAfterMs} ms suspected`);
  return (
    `n=${c.n} f=${c.f} regions ${c.regions.join(',')}; ${c.clientsPerRegion} client(s)/region × ${c.commandsPerClient} commands, ` +
    `conflict ${c.conflictRate}% over ${c.sharedKeys} key(s); faults: ${kinds.length === 0 ? 'none' : kinds.join(', ')}`
  );
}

function summaryLines(summary: CheckSummary, wallMs: number | undefined): string[] {
  const lines: string[] = [];
  if (summary.note !== undefined) lines.push(summary.note);
  let line =
    `${summary.protocol}: ${summary.runs} runs checked; schedules with crashes ${summary.withCrashes}, partitions ${summary.withPartitions}, ` +
    `drops ${summary.withDrops}, removals ${summary.withRemovals}; runs with recoveries ${summary.withRecoveries}, configuration changes ${summary.withReconfigurations}; ${summary.commands} commands; ` +
    `linearizability unknown keys ${summary.unknownKeys}; violations ${summary.violations}`;
  if (wallMs !== undefined) line += `; ${(wallMs / 1000).toFixed(1)} s, ${((summary.runs / wallMs) * 1000).toFixed(1)} schedules/s`;
  lines.push(line);
  const failure = summary.failure;
  if (failure !== undefined) {
    lines.push(`${summary.protocol}: VIOLATION; shrunk ${failure.shrinks} times from: ${caseLine(failure.original)}`);
    for (const violation of failure.originalViolations) lines.push(`  original case: ${violation}`);
    lines.push(`  minimal case: ${caseLine(failure.minimal)}`);
    lines.push(`  seed ${failure.minimal.seed}; schedule: ${JSON.stringify(failure.minimal.faults)}`);
    for (const violation of failure.violations) lines.push(`  - ${violation}`);
    lines.push(`  replay: ${failure.replay}`);
  }
  return lines;
}

/** Runs `orrery check`; returns the exit code (0: no violation, 1: violations). */
export function runCheckCommand(argv: Argv, print: (text: string) => void, resolve: Resolve = protocolByName): number {
  const budgetMs = numberFlag(argv, 'budget-ms', undefined, 0, 3_600_000);
  const caseOptions: RunCaseOptions = budgetMs === undefined ? {} : { budgetMs, now: () => performance.now() };
  const replay = stringFlag(argv, 'replay', undefined);
  if (replay !== undefined) {
    for (const flag of ['runs', 'seed', 'faults']) {
      if (argv[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --replay, which fixes the whole case`);
    }
    const c = decodeCase(replay);
    const name = stringFlag(argv, 'protocol', c.protocol);
    const outcome = replayCase(resolve(name), c, caseOptions);
    print(`${c.protocol}: replay of seed ${c.seed}: ${caseLine(c)}`);
    print(`  ${outcome.commandsCompleted} of ${outcome.commandsIssued} commands completed; recoveries ${outcome.recovered}; ${JSON.stringify(outcome.faults)}`);
    for (const violation of outcome.violations) print(`  - ${violation}`);
    print(`${c.protocol}: violations ${outcome.violations.length === 0 ? 0 : 1}`);
    return outcome.violations.length === 0 ? 0 : 1;
  }
  const name = stringFlag(argv, 'protocol', 'all');
  const protocols = name === 'all' ? availableProtocols().map((p) => resolve(p)) : [resolve(name)];
  const runs = intFlag(argv, 'runs', 200, 1, 10_000_000);
  const seed = intFlag(argv, 'seed', 1, 0, 2 ** 31 - 1);
  const file = stringFlag(argv, 'faults', undefined);
  const faults = file === undefined ? undefined : readFaults(file);
  const soak = argv['soak'] === true;
  print(
    `orrery check: seed ${seed}, ${runs} runs per protocol${file === undefined ? '' : `, every case under ${file}`}` +
      `${budgetMs === undefined ? '' : `, linearizability budget ${budgetMs} ms per case`}`,
  );
  let failed = false;
  for (const definition of protocols) {
    const started = performance.now();
    let summary: CheckSummary;
    try {
      summary = checkProtocol({ protocol: definition, runs, seed, ...caseOptions, ...(faults === undefined ? {} : { faults }) });
    } catch (error) {
      if (error instanceof RangeError && file !== undefined) throw new UsageError(`${file}: ${error.message}`);
      throw error;
    }
    const wallMs = soak ? performance.now() - started : undefined;
    for (const line of summaryLines(summary, wallMs)) print(line);
    if (summary.violations > 0) failed = true;
  }
  return failed ? 1 : 0;
}
