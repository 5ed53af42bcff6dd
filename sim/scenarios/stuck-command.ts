/**
 * The stuck-command scenario: predictable performance when one command's commit is held back.
 *
 * Five processes: process 1 alone in asia-southeast1, processes 2–5 close together in Europe and
 * us-east4, so process 1 is in none of the others' fast quorums (n=5, f=1: each quorum is a process and
 * its two closest). Clients sit in every region and run the same seeded workload, whatever the protocol.
 *
 * 1. A fault-free probe run picks the held command C: the first command submitted at process 1 after
 *    `warmupMs` whose key some other client also uses; the hold starts halfway through its latency, once
 *    its first round is out and before its commit is.
 * 2. The same run again, with process 1's outgoing links slowed by `holdMs` from the hold start until C
 *    completed in the probe: C's commit (and everything else process 1 sends meanwhile) reaches the
 *    other processes `holdMs` late.
 * 3. Figures per process over the hold `[start, start + holdMs)`: what it executed on C's keys and on
 *    other keys (against the probe), when it executed C, and how many commands on C's keys submitted
 *    during the hold waited for C.
 *
 * A protocol that keeps executing what is ready (Tempo: whatever is stable) keeps the other keys going;
 * one whose execution follows dependency chains stalls wherever the chains reach C.
 */
import type { Config } from '../../core/config.js';
import { makeConfig } from '../../core/config.js';
import { formatRifl, riflClient, type ProcessId, type Rifl } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import type { ProtocolDefinition } from '../../core/process.js';
import { ExecutionOrderMonitor, writeLookupFrom } from '../../check/order.js';
import { builtInPlanet } from '../planet.js';
import { Simulation, type HistoryEntry, type SimulationResult } from '../simulation.js';
import { WORKLOAD_DEFAULTS, type WorkloadOptions } from '../workload.js';

/** Process i+1 sits in STUCK_COMMAND_REGIONS[i]. */
export const STUCK_COMMAND_REGIONS = ['asia-southeast1', 'europe-west1', 'europe-west2', 'europe-west4', 'us-east4'] as const;

/** What to run; everything but the protocol has a default (STUCK_COMMAND_DEFAULTS). */
export interface StuckCommandOptions {
  // The scenario treats the protocol's message and info types as opaque.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  readonly seed?: number;
  /** Extra delay on the held process's outgoing links, in milliseconds. */
  readonly holdMs?: number;
  /** The held command is submitted at or after this simulated time. */
  readonly warmupMs?: number;
  readonly clientsPerRegion?: number;
  readonly workload?: Partial<WorkloadOptions>;
  /** Extra configuration (e.g. tempoDetachedIntervalMs); n and f are fixed at 5 and 1. */
  readonly config?: Partial<Config>;
}

/** Defaults: a light single-key workload whose shared keys some clients hit during the hold. */
export const STUCK_COMMAND_DEFAULTS = {
  seed: 1,
  holdMs: 500,
  warmupMs: 200,
  clientsPerRegion: 4,
  workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 150, conflictRate: 10, sharedKeys: 8, keysPerCommand: 1 } as WorkloadOptions,
};

/** One process's figures over the hold. */
export interface StuckCommandProcessFigures {
  readonly process: ProcessId;
  readonly region: string;
  /** Partial results (command × key) executed during the hold. */
  readonly executedDuringHold: number;
  readonly executedOnHeldKeysDuringHold: number;
  readonly executedOnOtherKeysDuringHold: number;
  /** The same count in the fault-free probe, over the same interval. */
  readonly baselineOnOtherKeysDuringHold: number;
  /** Executions on other keys in the hold's last quarter: still going, or stalled. */
  readonly executedOnOtherKeysLastQuarter: number;
  /** When the held command executed here (its first key), in simulated ms. */
  readonly heldExecutedAtMs: number;
  /** Commands on the held command's keys, submitted during the hold, that executed here after it. */
  readonly waitedForHeld: number;
}

/** Everything the scenario measured; formatStuckCommand renders it. */
export interface StuckCommandFigures {
  readonly protocol: string;
  readonly n: number;
  readonly f: number;
  readonly seed: number;
  readonly regions: readonly string[];
  readonly heldProcess: ProcessId;
  readonly heldRifl: string;
  readonly heldKeys: readonly string[];
  readonly holdStartMs: number;
  readonly holdMs: number;
  readonly holdEndMs: number;
  /** Client latency of the held command, in the probe and with the hold. */
  readonly heldLatencyMsBaseline: number;
  readonly heldLatencyMs: number;
  /** Client replies during the hold, in the probe and with the hold. */
  readonly completedDuringHoldBaseline: number;
  readonly completedDuringHold: number;
  readonly processes: readonly StuckCommandProcessFigures[];
  /** Execution-order violations found (a correct protocol has none). */
  readonly orderViolations: readonly string[];
}

interface Execution {
  readonly timeMs: number;
  readonly rifl: Rifl;
  readonly key: string;
}

interface Run {
  readonly result: SimulationResult;
  readonly executions: Execution[][];
  readonly monitor: ExecutionOrderMonitor;
}

/** Runs the scenario for `options.protocol` and returns its figures. */
export function runStuckCommand(options: StuckCommandOptions): StuckCommandFigures {
  const seed = options.seed ?? STUCK_COMMAND_DEFAULTS.seed;
  const holdMs = options.holdMs ?? STUCK_COMMAND_DEFAULTS.holdMs;
  const warmupMs = options.warmupMs ?? STUCK_COMMAND_DEFAULTS.warmupMs;
  const n = STUCK_COMMAND_REGIONS.length;
  const heldProcess = 1;
  const config = makeConfig(options.protocol.name, { ...options.config, n, f: 1 });
  const workload: WorkloadOptions = { ...STUCK_COMMAND_DEFAULTS.workload, ...options.workload };
  const run = (faults: { slowLinks: Array<{ from: number; extraMs: number; fromMs: number; untilMs: number }> }): Run => {
    const executions: Execution[][] = Array.from({ length: n }, () => []);
    const monitor = new ExecutionOrderMonitor();
    const result = new Simulation({
      protocol: options.protocol,
      config,
      planet: builtInPlanet('gcp'),
      processRegions: STUCK_COMMAND_REGIONS,
      clientRegions: STUCK_COMMAND_REGIONS,
      clientsPerRegion: options.clientsPerRegion ?? STUCK_COMMAND_DEFAULTS.clientsPerRegion,
      workload,
      seed,
      recordHistory: true,
      faults,
      observer: {
        onExecuted(process, result, timeMs) {
          executions[process - 1]!.push({ timeMs, rifl: result.rifl, key: result.key });
          monitor.onExecuted(process, result.rifl, result.key);
        },
      },
    }).run();
    return { result, executions, monitor };
  };

  const probe = run({ slowLinks: [] });
  const history = probe.result.history!;
  const held = pickHeldCommand(history, heldProcess, warmupMs);
  const heldKeys = held.command.keys.map((keyOps) => keyOps.key);
  const heldLatencyMsBaseline = held.completeMs - held.invokeMs;
  const holdStartMs = held.invokeMs + heldLatencyMsBaseline / 2;
  const holdEndMs = holdStartMs + holdMs;
  const faulty = run({ slowLinks: [{ from: heldProcess, extraMs: holdMs, fromMs: holdStartMs, untilMs: held.completeMs }] });

  const faultyHistory = faulty.result.history!;
  const heldAgain = faultyHistory.find((entry) => entry.rifl === held.rifl);
  invariant(heldAgain !== undefined, () => `held command ${formatRifl(held.rifl)} did not complete`);
  const invokedAt = new Map<Rifl, number>(faultyHistory.map((entry) => [entry.rifl, entry.invokeMs]));
  const isHeldKey = (key: string) => heldKeys.includes(key);
  const during = (timeMs: number) => timeMs >= holdStartMs && timeMs < holdEndMs;
  const lastQuarter = (timeMs: number) => timeMs >= holdStartMs + 0.75 * holdMs && timeMs < holdEndMs;

  const processes = STUCK_COMMAND_REGIONS.map((region, index): StuckCommandProcessFigures => {
    const executions = faulty.executions[index]!;
    let onHeld = 0;
    let onOther = 0;
    let onOtherLastQuarter = 0;
    let heldExecutedAtMs = Number.NaN;
    let waitedForHeld = 0;
    for (const execution of executions) {
      if (execution.rifl === held.rifl) {
        if (Number.isNaN(heldExecutedAtMs)) heldExecutedAtMs = execution.timeMs;
        continue;
      }
      if (during(execution.timeMs)) {
        if (isHeldKey(execution.key)) onHeld++;
        else onOther++;
      }
      if (lastQuarter(execution.timeMs) && !isHeldKey(execution.key)) onOtherLastQuarter++;
      const invoked = invokedAt.get(execution.rifl) ?? -1;
      if (isHeldKey(execution.key) && !Number.isNaN(heldExecutedAtMs) && during(invoked)) waitedForHeld++;
    }
    let baselineOnOther = 0;
    for (const execution of probe.executions[index]!) {
      if (during(execution.timeMs) && !isHeldKey(execution.key)) baselineOnOther++;
    }
    return {
      process: index + 1,
      region,
      executedDuringHold: onHeld + onOther,
      executedOnHeldKeysDuringHold: onHeld,
      executedOnOtherKeysDuringHold: onOther,
      baselineOnOtherKeysDuringHold: baselineOnOther,
      executedOnOtherKeysLastQuarter: onOtherLastQuarter,
      heldExecutedAtMs,
      waitedForHeld,
    };
  });

  const completedDuring = (entries: readonly HistoryEntry[]) => entries.filter((entry) => during(entry.completeMs)).length;
  return {
    protocol: options.protocol.name,
    n,
    f: config.f,
    seed,
    regions: STUCK_COMMAND_REGIONS,
    heldProcess,
    heldRifl: formatRifl(held.rifl),
    heldKeys,
    holdStartMs,
    holdMs,
    holdEndMs,
    heldLatencyMsBaseline,
    heldLatencyMs: heldAgain.completeMs - heldAgain.invokeMs,
    completedDuringHoldBaseline: completedDuring(history),
    completedDuringHold: completedDuring(faultyHistory),
    processes,
    orderViolations: faulty.monitor.violations(writeLookupFrom(faultyHistory.map((entry) => entry.command))),
  };
}

/** The first command submitted at `process` after `warmupMs` on a key that another client also uses. */
function pickHeldCommand(history: readonly HistoryEntry[], process: ProcessId, warmupMs: number): HistoryEntry {
  const clientsByKey = new Map<string, Set<number>>();
  for (const entry of history) {
    for (const keyOps of entry.command.keys) {
      let clients = clientsByKey.get(keyOps.key);
      if (clients === undefined) clientsByKey.set(keyOps.key, (clients = new Set()));
      clients.add(riflClient(entry.rifl));
    }
  }
  const candidates = history
    .filter((entry) => entry.process === process && entry.invokeMs >= warmupMs)
    .filter((entry) => entry.command.keys.some((keyOps) => clientsByKey.get(keyOps.key)!.size > 1))
    .sort((a, b) => a.invokeMs - b.invokeMs || a.rifl - b.rifl);
  const first = candidates[0];
  invariant(first !== undefined, () => `no command at process ${process} after ${warmupMs} ms shares a key with another client; raise the conflict rate`);
  return first;
}

/** The figures as a few lines of text for people. */
export function formatStuckCommand(figures: StuckCommandFigures): string {
  const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
  const lines = [
    `stuck-command: ${figures.protocol}, n=${figures.n} f=${figures.f}, seed ${figures.seed}`,
    `held: ${figures.heldRifl} on ${figures.heldKeys.join(',')} at process ${figures.heldProcess}; its outgoing links +${figures.holdMs} ms ` +
      `from ${ms(figures.holdStartMs)} ms (hold ${ms(figures.holdStartMs)}..${ms(figures.holdEndMs)} ms)`,
    `held command latency: ${ms(figures.heldLatencyMs)} ms (without the hold ${ms(figures.heldLatencyMsBaseline)} ms)`,
    `replies during the hold: ${figures.completedDuringHold} (without the hold ${figures.completedDuringHoldBaseline})`,
    'process  region           executed  held-keys  other-keys  (no hold)  other-last-quarter  held-executed-ms  waited-for-held',
  ];
  for (const p of figures.processes) {
    lines.push(
      `${String(p.process).padStart(7)}  ${p.region.padEnd(15)}  ${String(p.executedDuringHold).padStart(8)}  ${String(p.executedOnHeldKeysDuringHold).padStart(9)}  ` +
        `${String(p.executedOnOtherKeysDuringHold).padStart(10)}  ${String(p.baselineOnOtherKeysDuringHold).padStart(9)}  ` +
        `${String(p.executedOnOtherKeysLastQuarter).padStart(18)}  ${ms(p.heldExecutedAtMs).padStart(16)}  ${String(p.waitedForHeld).padStart(15)}`,
    );
  }
  lines.push(figures.orderViolations.length === 0 ? 'execution order: agrees at every process' : `execution order VIOLATED: ${figures.orderViolations.join('; ')}`);
  return lines.join('\n');
}
