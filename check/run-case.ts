/**
 * Runs one {@link CheckCase} and checks it from outside the replicas (PROTOCOLS.md §8):
 *
 * 1. Safety phase: the simulation runs with the case's faults; processes are watched by the
 *    execution-order monitor (per-key order agreement, no rifl twice) and the commit-agreement
 *    monitor (same value per slot / dot everywhere). An assertion a protocol or executor trips
 *    (e.g. a slot chosen with two values) is a violation too.
 * 2. Liveness phase: once the last fault healed, the run must keep making progress (something
 *    executes or completes at least every LIVENESS_PHASE_MS of simulated time, check/case.ts) until
 *    every client command completed and every live process caught up. Liveness is
 *    required only when the protocol recovers from the faults present (at most f crashes, and lost
 *    messages only if it survives them); a run that gets stuck then is a violation.
 * 3. Tempo only: stability soundness over the whole run (check/tempo-stability.ts).
 * 4. On the client history: exactly-once execution, real-time order, and per-key linearizability
 *    within a budget (steps, and optionally wall-clock time from a clock the caller passes in);
 *    keys the budget could not decide are counted as unknown, never as ok or violated.
 *
 * Everything but the wall-clock budget is deterministic: a case replays to the same violations.
 */
import { exactlyOnceViolations } from './exactly-once.js';
import { historyFromSimulation, type History } from './history.js';
import { checkLinearizability, describeReport } from './linearizability.js';
import { ExecutionOrderMonitor, writeLookupFrom } from './order.js';
import { realTimeOrderViolations } from './realtime.js';
import { CommitAgreementMonitor } from './commit-agreement.js';
import { TempoStabilityMonitor } from './tempo-stability.js';
import { simulationOptionsOf, type CheckCase } from './case.js';
import { UsageError } from '../core/invariant.js';
import type { ProtocolDefinition } from '../core/process.js';
import type { TempoInfo } from '../protocols/tempo/messages.js';
import { healTimeMs } from '../sim/faults.js';
import { Simulation, SimulationStuckError, type FaultStats } from '../sim/simulation.js';

export interface RunCaseOptions {
  /** Linearizability search steps per key [default 200000]. */
  readonly linearizabilitySteps?: number;
  /** Wall-clock budget for the linearizability check, with the clock that measures it (hosts only). */
  readonly budgetMs?: number;
  readonly now?: () => number;
}

/** What one case did and what the checkers found. */
export interface CaseOutcome {
  /** One sentence per violation, each prefixed by the checker that found it; empty when none. */
  readonly violations: readonly string[];
  /** Keys whose linearizability the budget could not decide. */
  readonly unknownKeys: number;
  /** The run did not complete (stuck); a violation only when liveness was required. */
  readonly stuck: boolean;
  readonly livenessRequired: boolean;
  readonly commandsCompleted: number;
  readonly commandsIssued: number;
  readonly faults: FaultStats;
  /** Recoveries completed over all processes (leader changes, recovered dots). */
  readonly recovered: number;
  /** Simulated milliseconds when the last fault healed. */
  readonly healMs: number;
}

/** A hard cap on a case's simulated time after healing; the stall limit usually decides first. */
const MAX_RUN_AFTER_HEAL_MS = 600_000;
/**
 * Recovery timeouts a command may need after healing, at most, before the cap counts as lost
 * liveness: without a failure detector every command whose fast quorum holds a crashed process
 * waits for a recovery (with backoff), so a long workload with a long timeout legitimately runs long.
 */
const RECOVERIES_PER_COMMAND_MAX = 16;

/** The cap on a case's simulated time after healing: at least MAX_RUN_AFTER_HEAL_MS, more for slow cases. */
export function runCapAfterHealMs(c: CheckCase): number {
  return Math.max(MAX_RUN_AFTER_HEAL_MS, c.commandsPerClient * c.recoveryTimeoutMs * RECOVERIES_PER_COMMAND_MAX);
}

/** Whether the protocol must finish every command once the case's faults heal. */
export function livenessRequired(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: ProtocolDefinition<any, any>,
  c: CheckCase,
): boolean {
  const tolerance = definition.faultTolerance;
  const crashes = c.faults.crashes ?? [];
  if (crashes.length > 0 && (tolerance?.crashStop !== true || crashes.length > c.f)) return false;
  // A removed process serves no one: crashed and removed processes together must stay within f.
  const out = new Set([...crashes.map((x) => x.process), ...(c.faults.removals ?? []).map((x) => x.process)]);
  if ((c.faults.removals ?? []).length > 0 && (tolerance?.reconfiguration !== true || out.size > c.f)) return false;
  const losesMessages = (c.faults.partitions ?? []).length > 0 || (c.faults.messageFaults ?? []).some((m) => (m.drop ?? 0) > 0);
  return !(losesMessages && tolerance?.messageLoss !== true);
}

/** Runs `c` with `definition` and checks it; see the file comment. */
export function runCase(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: ProtocolDefinition<any, any>,
  c: CheckCase,
  options: RunCaseOptions = {},
): CaseOutcome {
  const order = new ExecutionOrderMonitor();
  const commits = new CommitAgreementMonitor();
  const commitOf = definition.commitOf;
  const stability = definition.name === 'tempo' ? new TempoStabilityMonitor(c.n) : undefined;
  const healMs = healTimeMs(c.faults);
  const simulation = new Simulation(
    simulationOptionsOf(definition, c, healMs + runCapAfterHealMs(c), {
      onExecuted(process, result) {
        order.onExecuted(process, result.rifl, result.key);
      },
      ...(commitOf === undefined && stability === undefined
        ? {}
        : {
            onInfo(process: number, info: unknown) {
              const record = commitOf?.(info);
              if (record !== undefined) commits.onCommit(process, record);
              stability?.onInfo(process, info as TempoInfo);
            },
          }),
    }),
  );
  const required = livenessRequired(definition, c);
  const violations: string[] = [];
  let stuck = false;
  let caughtUp: readonly number[] = [];
  let recovered = 0;
  try {
    const result = simulation.run();
    caughtUp = result.caughtUpProcesses;
    recovered = result.recoveredByProcess.reduce((a, b) => a + b, 0);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (error instanceof SimulationStuckError) {
      stuck = true;
      if (required) violations.push(`liveness: ${error.message}`);
    } else if (error instanceof Error) {
      violations.push(`assertion: ${error.name}: ${error.message}`);
    } else throw error;
  }
  const soFar = simulation.historySoFar();
  const history: History = historyFromSimulation(soFar.completed, soFar.pending);
  const processes = c.regions.map((_, i) => i + 1);
  const isWrite = writeLookupFrom([...soFar.completed.map((h) => h.command), ...soFar.pending.map((p) => p.command)]);
  for (const v of order.violations(isWrite)) violations.push(`order: ${v}`);
  for (const v of commits.violations()) violations.push(`commit: ${v}`);
  for (const v of stability?.violations() ?? []) violations.push(`stability: ${v}`);
  for (const v of exactlyOnceViolations(history, order, { caughtUp, processes, historyHasEverySubmission: true })) violations.push(`exactly-once: ${v}`);
  for (const v of realTimeOrderViolations(history, order, processes)) violations.push(`real-time: ${v}`);
  const linearizability = checkLinearizability(history, {
    budgetSteps: options.linearizabilitySteps ?? 200_000,
    ...(options.budgetMs !== undefined && options.now !== undefined ? { budgetMs: options.budgetMs, now: options.now } : {}),
  });
  for (const v of describeReport(linearizability).filter((line) => !/: unknown: /.test(line))) violations.push(`linearizability: ${v}`);
  return {
    violations,
    unknownKeys: linearizability.unknown,
    stuck,
    livenessRequired: required,
    commandsCompleted: soFar.completed.length,
    commandsIssued: soFar.completed.length + soFar.pending.length,
    faults: simulation.faultStats(),
    recovered,
    healMs,
  };
}
