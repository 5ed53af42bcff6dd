/**
 * The check runner: many random cases per protocol, each run and checked by {@link runCase}; on the
 * first failure, fast-check shrinks the case (fewer fault entries, shorter windows, fewer commands,
 * smaller n) to a minimal one that still fails, which is printed with the command that replays it.
 *
 * Cases are drawn by fast-check from `seed`, so the same seed checks the same cases; a replayed case
 * does not depend on fast-check at all (it is the whole run as plain data, check/case.ts).
 */
import fc from 'fast-check';
import { UsageError } from '../core/invariant.js';
import type { ProtocolDefinition } from '../core/process.js';
import type { FaultSchedule } from '../sim/faults.js';
import { caseArbitrary, scheduleKindsFor, scheduleLimitNote } from './arbitraries.js';
import { encodeCase, type CheckCase } from './case.js';
import { runCase, type CaseOutcome, type RunCaseOptions } from './run-case.js';

export interface CheckOptions extends RunCaseOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  /** Random cases to check (before shrinking). */
  readonly runs: number;
  /** fast-check's seed: which cases are drawn. */
  readonly seed: number;
  /** Check every case under this schedule instead of generated ones. */
  readonly faults?: FaultSchedule;
  /** Limit on shrinking steps after a failure [default 500]. */
  readonly maxShrinks?: number;
}

/** A failure, shrunk. */
export interface CheckFailure {
  /** The case as first found, and the minimal one shrinking reached. */
  readonly original: CheckCase;
  readonly minimal: CheckCase;
  readonly violations: readonly string[];
  /** What the original case violated: shrinking can turn a safety failure into a liveness one. */
  readonly originalViolations: readonly string[];
  readonly shrinks: number;
  /** Shell command that replays the minimal case. */
  readonly replay: string;
}

/** What one protocol's check found. */
export interface CheckSummary {
  readonly protocol: string;
  /** Cases run and checked before the first failure (or all of them). */
  readonly runs: number;
  readonly withCrashes: number;
  /** Schedules that ask for removals (explicit, or after a suspicion). */
  readonly withRemovals: number;
  /** Runs in which the configuration actually changed. */
  readonly withReconfigurations: number;
  readonly withPartitions: number;
  readonly withDrops: number;
  /** Cases whose faults were survived with recovery (leader changes, recovered dots). */
  readonly withRecoveries: number;
  readonly commands: number;
  readonly unknownKeys: number;
  /** Failed cases among `runs` (0 or 1: the runner stops at the first and shrinks it). */
  readonly violations: number;
  readonly failure: CheckFailure | undefined;
  /** What the schedules were limited to, for a protocol without full recovery. */
  readonly note: string | undefined;
}

/** The shell command that replays `c`. */
export function replayCommand(c: CheckCase): string {
  return `orrery check --protocol ${c.protocol} --replay ${encodeCase(c)}`;
}

/** Checks `options.runs` random cases of one protocol; see the file comment. */
export function checkProtocol(options: CheckOptions): CheckSummary {
  if (!Number.isInteger(options.runs) || options.runs < 1 || options.runs > 10_000_000) {
    throw new UsageError(`runs must be an integer from 1 to 10000000 (got ${options.runs})`);
  }
  const definition = options.protocol;
  const kinds = scheduleKindsFor(definition.faultTolerance);
  // Shrinking is bounded by steps, not time, so that it stays deterministic.
  const arbitrary = fc.limitShrink(
    caseArbitrary({ protocol: definition.name, kinds, ...(options.faults === undefined ? {} : { faults: options.faults }) }),
    options.maxShrinks ?? 500,
  );
  let runs = 0;
  let withCrashes = 0;
  let withRemovals = 0;
  let withReconfigurations = 0;
  let withPartitions = 0;
  let withDrops = 0;
  let withRecoveries = 0;
  let commands = 0;
  let unknownKeys = 0;
  let failing = false;
  const property = fc.property(arbitrary, (c) => {
    const outcome = runCase(definition, c, options);
    if (!failing) {
      runs++;
      if ((c.faults.crashes ?? []).length > 0) withCrashes++;
      if ((c.faults.removals ?? []).length > 0 || c.faults.removeAfterMs !== undefined) withRemovals++;
      if (outcome.faults.configurations !== undefined && outcome.faults.configurations.length > 0) withReconfigurations++;
      if ((c.faults.partitions ?? []).length > 0) withPartitions++;
      if ((c.faults.messageFaults ?? []).some((m) => (m.drop ?? 0) > 0)) withDrops++;
      if (outcome.recovered > 0) withRecoveries++;
      commands += outcome.commandsCompleted;
      unknownKeys += outcome.unknownKeys;
    }
    if (outcome.violations.length > 0) failing = true;
    return outcome.violations.length === 0;
  });
  const details = fc.check(property, { numRuns: options.runs, seed: options.seed, endOnFailure: false });
  let failure: CheckFailure | undefined;
  if (details.failed && details.counterexample !== null) {
    const minimal = details.counterexample[0];
    const outcome: CaseOutcome = runCase(definition, minimal, options);
    const original = firstFailing(options, arbitrary, details.counterexamplePath) ?? minimal;
    const originalViolations = original === minimal ? outcome.violations : runCase(definition, original, options).violations;
    failure = { original, minimal, violations: outcome.violations, originalViolations, shrinks: details.numShrinks, replay: replayCommand(minimal) };
  } else if (details.failed) {
    const error: unknown = details.errorInstance;
    throw error instanceof Error ? error : new Error(String(error));
  }
  return {
    protocol: definition.name,
    runs,
    withCrashes,
    withRemovals,
    withReconfigurations,
    withPartitions,
    withDrops,
    withRecoveries,
    commands,
    unknownKeys,
    violations: failure === undefined ? 0 : 1,
    failure,
    note: options.faults === undefined ? scheduleLimitNote(definition.name, kinds) : undefined,
  };
}

/** The case fast-check drew first at the failing run (before shrinking), for the report. */
function firstFailing(options: CheckOptions, arbitrary: fc.Arbitrary<CheckCase>, path: string | null): CheckCase | undefined {
  if (path === null) return undefined;
  const run = Number(path.split(':')[0]);
  const samples = fc.sample(arbitrary, { seed: options.seed, numRuns: run + 1 });
  return samples[run];
}

/** Runs one case for a replay: the same outcome as when the checker found it. */
export function replayCase(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: ProtocolDefinition<any, any>,
  c: CheckCase,
  options: RunCaseOptions = {},
): CaseOutcome {
  if (definition.name !== c.protocol) throw new UsageError(`the replay case is for ${c.protocol}, not ${definition.name}; use --protocol ${c.protocol}`);
  return runCase(definition, c, options);
}
