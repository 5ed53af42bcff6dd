/**
 * The stuck-command scenario: predictable performance when one command's commit is held back.
 *
 * Five processes: process 1 alone in asia-southeast1, processes 2–5 close together in Europe and
 * us-east4, so process 1 is in none of the others' fast or slow quorums. Process 1 has a single
 * closed-loop client, so the held command is the only command it coordinates during the hold; every
 * other region has `clientsPerRegion` clients. Every client runs the same seeded workload whatever
 * the protocol: multi-key commands over a small shared key pool, so dependency chains (graph
 * protocols) and cross-key timestamp bumps (Tempo) can spread a wait from one key to others.
 *
 * 1. The held command C is the `heldCommand`-th command of process 1's client: the same command (same
 *    rifl and keys) for every protocol. A fault-free probe run gives its submission time.
 * 2. The same run again with C held back, in one of two ways (`hold`):
 *    - `proposal` (the default): process 1's links to every process but its closest are slowed by
 *      `holdMs` for the messages it sends right after C's submission, so C's proposal reaches its
 *      closest process on time and everyone else `holdMs` late; its commit is that much later. The
 *      closest process is in the other processes' quorums, so commands proposed there after C
 *      learn of C (a dependency, or a timestamp above C's proposal) while C cannot commit.
 *    - `replies`: every link INTO process 1 is slowed by `holdMs` from C's submission until C
 *      completed in the probe. C's proposal goes out on time and every fast-quorum member proposes a
 *      timestamp for it at once, but their answers reach the coordinator late.
 * 3. Figures per process over the hold (from when the process executed C in the probe, for holdMs),
 *    against the probe: executions on C's keys and on other keys; commands concurrent with C
 *    (submitted before C executed anywhere, still running when it was submitted) that executed before
 *    C; commands that executed before C on its keys yet only after the hold.
 *
 * What to expect, and what the figures show, is in docs/stuck-command.md.
 */
import type { Config } from '../../core/config.js';
import { makeConfig } from '../../core/config.js';
import { formatRifl, makeRifl, type ProcessId, type Rifl } from '../../core/ids.js';
import { invariant, UsageError } from '../../core/invariant.js';
import type { ProtocolDefinition } from '../../core/process.js';
import { ExecutionOrderMonitor, writeLookupFrom } from '../../check/order.js';
import { TempoStabilityMonitor } from '../../check/tempo-stability.js';
import type { TempoInfo } from '../../protocols/tempo/messages.js';
import { builtInPlanet } from '../planet.js';
import { Simulation, type HistoryEntry, type SimulationResult } from '../simulation.js';
import { WORKLOAD_DEFAULTS, type WorkloadOptions } from '../workload.js';
import type { SlowLink } from '../faults.js';

/** Process i+1 sits in STUCK_COMMAND_REGIONS[i]; process 1 coordinates the held command. */
export const STUCK_COMMAND_REGIONS = ['asia-southeast1', 'europe-west1', 'europe-west2', 'europe-west4', 'us-east4'] as const;

/** What to run; everything but the protocol has a default (STUCK_COMMAND_DEFAULTS). */
export interface StuckCommandOptions {
  // The scenario treats the protocol's message and info types as opaque.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  readonly seed?: number;
  /** Extra delay on the links into the held command's coordinator, in milliseconds. */
  readonly holdMs?: number;
  /** Which command of process 1's client is held (1 = its first). */
  readonly heldCommand?: number;
  /** Clients in each region but process 1's (which has one). */
  readonly clientsPerRegion?: number;
  readonly workload?: Partial<WorkloadOptions>;
  /** Extra configuration (e.g. tempoDetachedIntervalMs); n and f are fixed at 5 and 1. */
  readonly config?: Partial<Config>;
  /** What is held back: see {@link StuckCommandHold}. */
  readonly hold?: StuckCommandHold;
}

/**
 * How the held command's commit is held back.
 * - `proposal`: the held command's proposal reaches the coordinator's closest process on time and
 *   every other process `holdMs` late (the coordinator's links to them are slowed while it sends it).
 * - `replies`: the proposal goes out on time, the answers reach the coordinator `holdMs` late.
 */
export type StuckCommandHold = 'proposal' | 'replies';
export const STUCK_COMMAND_HOLDS: readonly StuckCommandHold[] = ['proposal', 'replies'];

/** The `proposal` hold slows the coordinator's links for messages it sends this soon after the submission. */
const PROPOSAL_SEND_WINDOW_MS = 2;

/** Defaults: two keys per command over 16 shared keys, eight clients per region but process 1's. */
export const STUCK_COMMAND_DEFAULTS = {
  seed: 1,
  hold: 'proposal' as StuckCommandHold,
  holdMs: 500,
  heldCommand: 3,
  clientsPerRegion: 8,
  workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 30, conflictRate: 100, sharedKeys: 16, keysPerCommand: 2 } as WorkloadOptions,
};

/** One process's figures over the hold (`baseline…` fields: the same count in the fault-free probe). */
export interface StuckCommandProcessFigures {
  readonly process: ProcessId;
  readonly region: string;
  /** The hold as this process sees it: from when it executed the held command in the probe, for holdMs. */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** Partial results (command × key) executed during the hold on the held command's keys. */
  readonly executedOnHeldKeysDuringHold: number;
  readonly baselineOnHeldKeysDuringHold: number;
  /** Partial results executed during the hold on every other key. */
  readonly executedOnOtherKeysDuringHold: number;
  readonly baselineOnOtherKeysDuringHold: number;
  /** When the held command executed here (its first key), in simulated ms. */
  readonly heldExecutedAtMs: number;
  /** Commands concurrent with the held one (see {@link StuckCommandFigures.concurrent}) that executed here before it. */
  readonly concurrentExecutedBeforeHeld: number;
  /**
   * Commands on the held command's keys that executed here before it, but only after the hold: they
   * are ordered before the held command and still waited for its commit.
   */
  readonly orderedBeforeHeldButWaited: number;
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
  readonly hold: StuckCommandHold;
  /** The slowed links, `from→to`: messages on them sent in [holdStartMs, holdEndMs) take holdMs more. */
  readonly slowedLinks: readonly string[];
  readonly holdStartMs: number;
  readonly holdMs: number;
  readonly holdEndMs: number;
  /** Client latency of the held command, in the probe and with the hold. */
  readonly heldLatencyMsBaseline: number;
  readonly heldLatencyMs: number;
  /** Client replies during the hold, in the probe and with the hold. */
  readonly completedDuringHoldBaseline: number;
  readonly completedDuringHold: number;
  /** Commands other than the held one, submitted before it executed anywhere and completed after it was submitted. */
  readonly concurrent: number;
  readonly processes: readonly StuckCommandProcessFigures[];
  /** Execution-order violations found (a correct protocol has none). */
  readonly orderViolations: readonly string[];
  /** Tempo only: stability-soundness violations (check/tempo-stability.ts) with the hold; empty otherwise. */
  readonly stabilityViolations: readonly string[];
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
  readonly stability: TempoStabilityMonitor | undefined;
}

/** Runs the scenario for `options.protocol` and returns its figures. */
export function runStuckCommand(options: StuckCommandOptions): StuckCommandFigures {
  const seed = options.seed ?? STUCK_COMMAND_DEFAULTS.seed;
  const holdMs = options.holdMs ?? STUCK_COMMAND_DEFAULTS.holdMs;
  const heldCommand = options.heldCommand ?? STUCK_COMMAND_DEFAULTS.heldCommand;
  const clientsPerRegion = options.clientsPerRegion ?? STUCK_COMMAND_DEFAULTS.clientsPerRegion;
  const n = STUCK_COMMAND_REGIONS.length;
  const heldProcess = 1;
  const config = makeConfig(options.protocol.name, { ...options.config, n, f: 1 });
  const workload: WorkloadOptions = { ...STUCK_COMMAND_DEFAULTS.workload, ...options.workload };
  if (!(Number.isInteger(heldCommand) && heldCommand >= 1 && heldCommand <= workload.commandsPerClient)) {
    throw new UsageError(`the held command must be one of the ${workload.commandsPerClient} commands of process 1's client (got ${heldCommand})`);
  }
  // One client at the held process (client 1, the first listed), clientsPerRegion everywhere else:
  // regions may be listed more than once, each entry bringing `clientsPerRegion: 1` client.
  const clientRegions = STUCK_COMMAND_REGIONS.flatMap((region, index) => new Array<string>(index + 1 === heldProcess ? 1 : clientsPerRegion).fill(region));
  const run = (slowLinks: SlowLink[]): Run => {
    const executions: Execution[][] = Array.from({ length: n }, () => []);
    const monitor = new ExecutionOrderMonitor();
    const stability = options.protocol.name === 'tempo' ? new TempoStabilityMonitor(n) : undefined;
    const result = new Simulation({
      protocol: options.protocol,
      config,
      planet: builtInPlanet('gcp'),
      processRegions: STUCK_COMMAND_REGIONS,
      clientRegions,
      clientsPerRegion: 1,
      workload,
      seed,
      recordHistory: true,
      faults: { slowLinks },
      observer: {
        onExecuted(process, result, timeMs) {
          executions[process - 1]!.push({ timeMs, rifl: result.rifl, key: result.key });
          monitor.onExecuted(process, result.rifl, result.key);
        },
        ...(stability === undefined ? {} : { onInfo: (process: ProcessId, info: unknown) => stability.onInfo(process, info as TempoInfo) }),
      },
    }).run();
    return { result, executions, monitor, stability };
  };

  const probe = run([]);
  const heldRifl = makeRifl(1, heldCommand);
  const held = probe.result.history!.find((entry) => entry.rifl === heldRifl);
  invariant(held !== undefined && held.process === heldProcess, () => `held command ${formatRifl(heldRifl)} did not run at process ${heldProcess}`);
  const heldKeys = held.command.keys.map((keyOps) => keyOps.key);
  const holdStartMs = held.invokeMs;
  const holdEndMs = held.completeMs;
  const others = STUCK_COMMAND_REGIONS.map((_, index) => index + 1).filter((process) => process !== heldProcess);
  const hold = options.hold ?? STUCK_COMMAND_DEFAULTS.hold;
  let slowLinks: SlowLink[];
  if (hold === 'replies') {
    slowLinks = others.map((from) => ({ from, to: heldProcess, extraMs: holdMs, fromMs: holdStartMs, untilMs: holdEndMs }));
  } else {
    const planet = builtInPlanet('gcp');
    const heldRegion = STUCK_COMMAND_REGIONS[heldProcess - 1]!;
    const closest = others.reduce((best, process) =>
      planet.rttMs(heldRegion, STUCK_COMMAND_REGIONS[process - 1]!) < planet.rttMs(heldRegion, STUCK_COMMAND_REGIONS[best - 1]!) ? process : best,
    );
    slowLinks = others
      .filter((to) => to !== closest)
      .map((to) => ({ from: heldProcess, to, extraMs: holdMs, fromMs: holdStartMs, untilMs: holdStartMs + PROPOSAL_SEND_WINDOW_MS }));
  }
  const faulty = run(slowLinks);
  const slowWindowEndMs = slowLinks[0]!.untilMs;

  const faultyHistory = faulty.result.history!;
  const heldAgain = faultyHistory.find((entry) => entry.rifl === heldRifl);
  invariant(heldAgain !== undefined && heldAgain.invokeMs === holdStartMs, () => `held command ${formatRifl(heldRifl)} ran differently with the hold`);
  const isHeldKey = (key: string) => heldKeys.includes(key);
  let heldFirstExecutedMs = Number.POSITIVE_INFINITY;
  for (const executions of faulty.executions) {
    const first = executions.find((execution) => execution.rifl === heldRifl);
    invariant(first !== undefined, () => `held command ${formatRifl(heldRifl)} never executed`);
    heldFirstExecutedMs = Math.min(heldFirstExecutedMs, first.timeMs);
  }
  const concurrent = new Set<Rifl>(
    faultyHistory
      .filter((entry) => entry.rifl !== heldRifl && entry.invokeMs < heldFirstExecutedMs && entry.completeMs > holdStartMs)
      .map((entry) => entry.rifl),
  );

  const processes = STUCK_COMMAND_REGIONS.map((region, index): StuckCommandProcessFigures => {
    const executions = faulty.executions[index]!;
    // Held here: from when the probe executed the command here (without the hold it was done) for
    // holdMs, the time its commit is late. Measuring from its submission instead would compare against
    // a probe in which the command is still in flight too, for protocols whose commit takes longer.
    const windowStartMs = probe.executions[index]!.find((execution) => execution.rifl === heldRifl)!.timeMs;
    const windowEndMs = windowStartMs + holdMs;
    const during = (timeMs: number) => timeMs >= windowStartMs && timeMs < windowEndMs;
    let onHeld = 0;
    let onOther = 0;
    let heldExecutedAtMs = Number.NaN;
    const concurrentBefore = new Set<Rifl>();
    let orderedBeforeButWaited = 0;
    for (const execution of executions) {
      if (execution.rifl === heldRifl) {
        if (Number.isNaN(heldExecutedAtMs)) heldExecutedAtMs = execution.timeMs;
        continue;
      }
      if (during(execution.timeMs)) {
        if (isHeldKey(execution.key)) onHeld++;
        else onOther++;
      }
      if (Number.isNaN(heldExecutedAtMs)) {
        if (concurrent.has(execution.rifl)) concurrentBefore.add(execution.rifl);
        if (isHeldKey(execution.key) && execution.timeMs >= windowEndMs) orderedBeforeButWaited++;
      }
    }
    let baselineOnHeld = 0;
    let baselineOnOther = 0;
    for (const execution of probe.executions[index]!) {
      if (!during(execution.timeMs) || execution.rifl === heldRifl) continue;
      if (isHeldKey(execution.key)) baselineOnHeld++;
      else baselineOnOther++;
    }
    return {
      process: index + 1,
      region,
      windowStartMs,
      windowEndMs,
      executedOnHeldKeysDuringHold: onHeld,
      baselineOnHeldKeysDuringHold: baselineOnHeld,
      executedOnOtherKeysDuringHold: onOther,
      baselineOnOtherKeysDuringHold: baselineOnOther,
      heldExecutedAtMs,
      concurrentExecutedBeforeHeld: concurrentBefore.size,
      orderedBeforeHeldButWaited: orderedBeforeButWaited,
    };
  });

  // Replies while the held command is late at its coordinator: from its probe reply for holdMs.
  const completedDuring = (entries: readonly HistoryEntry[]) =>
    entries.filter((entry) => entry.completeMs >= held.completeMs && entry.completeMs < held.completeMs + holdMs).length;
  return {
    protocol: options.protocol.name,
    n,
    f: config.f,
    seed,
    regions: STUCK_COMMAND_REGIONS,
    heldProcess,
    heldRifl: formatRifl(heldRifl),
    heldKeys,
    hold,
    slowedLinks: slowLinks.map((link) => `${link.from}→${link.to!}`),
    holdStartMs,
    holdMs,
    holdEndMs: slowWindowEndMs,
    heldLatencyMsBaseline: held.completeMs - held.invokeMs,
    heldLatencyMs: heldAgain.completeMs - heldAgain.invokeMs,
    completedDuringHoldBaseline: completedDuring(probe.result.history!),
    completedDuringHold: completedDuring(faultyHistory),
    concurrent: concurrent.size,
    processes,
    orderViolations: faulty.monitor.violations(writeLookupFrom(faultyHistory.map((entry) => entry.command))),
    stabilityViolations: faulty.stability?.violations() ?? [],
  };
}

/** The figures as a few lines of text for people. */
export function formatStuckCommand(figures: StuckCommandFigures): string {
  const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
  const pair = (value: number, baseline: number) => `${value}/${baseline}`;
  const lines = [
    `stuck-command: ${figures.protocol}, n=${figures.n} f=${figures.f}, seed ${figures.seed}`,
    `held: ${figures.heldRifl} on ${figures.heldKeys.join(',')} at process ${figures.heldProcess} (hold: ${figures.hold}); ` +
      `links ${figures.slowedLinks.join(' ')} +${figures.holdMs} ms for messages sent ${ms(figures.holdStartMs)}..${ms(figures.holdEndMs)} ms`,
    `held command latency: ${ms(figures.heldLatencyMs)} ms (without the hold ${ms(figures.heldLatencyMsBaseline)} ms)`,
    `replies during the hold: ${figures.completedDuringHold} (without the hold ${figures.completedDuringHoldBaseline})`,
    `commands concurrent with the held one: ${figures.concurrent}`,
    'per process, over its window (from when it ran the held command without the hold, for the hold):',
    'executions on the held keys and on others with/without the hold; concurrent commands run before the held one;',
    'commands run before it on its keys but only after the window (ordered before it, yet waited for it)',
    'process  region           window-ms        held-keys  other-keys  held-executed-ms  concurrent-before  before-but-waited',
  ];
  for (const p of figures.processes) {
    lines.push(
      `${String(p.process).padStart(7)}  ${p.region.padEnd(15)}  ${`${p.windowStartMs.toFixed(0)}..${p.windowEndMs.toFixed(0)}`.padEnd(15)}  ${pair(p.executedOnHeldKeysDuringHold, p.baselineOnHeldKeysDuringHold).padStart(9)}  ` +
        `${pair(p.executedOnOtherKeysDuringHold, p.baselineOnOtherKeysDuringHold).padStart(10)}  ${ms(p.heldExecutedAtMs).padStart(16)}  ` +
        `${String(p.concurrentExecutedBeforeHeld).padStart(17)}  ${String(p.orderedBeforeHeldButWaited).padStart(17)}`,
    );
  }
  lines.push(figures.orderViolations.length === 0 ? 'execution order: agrees at every process' : `execution order VIOLATED: ${figures.orderViolations.join('; ')}`);
  if (figures.protocol === 'tempo') {
    lines.push(figures.stabilityViolations.length === 0 ? 'stability soundness: holds' : `stability soundness VIOLATED: ${figures.stabilityViolations.join('; ')}`);
  }
  return lines.join('\n');
}

/** One line per protocol: what processes other than the held command's coordinator executed during the hold. */
export function formatStuckCommandComparison(runs: readonly StuckCommandFigures[]): string {
  const lines = [
    `comparison (hold: ${runs[0]?.hold ?? '-'}; executions summed over processes other than the coordinator, with the hold / without)`,
    'protocol  held-latency-ms  executed-during-hold         on-held-keys  replies-during-hold',
  ];
  for (const run of runs) {
    let executed = 0;
    let baseline = 0;
    let onHeld = 0;
    let onHeldBaseline = 0;
    for (const p of run.processes) {
      if (p.process === run.heldProcess) continue;
      executed += p.executedOnHeldKeysDuringHold + p.executedOnOtherKeysDuringHold;
      baseline += p.baselineOnHeldKeysDuringHold + p.baselineOnOtherKeysDuringHold;
      onHeld += p.executedOnHeldKeysDuringHold;
      onHeldBaseline += p.baselineOnHeldKeysDuringHold;
    }
    const percent = baseline === 0 ? '-' : `${Math.round((100 * executed) / baseline)}%`;
    lines.push(
      `${run.protocol.padEnd(8)}  ${run.heldLatencyMs.toFixed(0).padStart(15)}  ${`${executed}/${baseline} (${percent})`.padEnd(27)}  ` +
        `${`${onHeld}/${onHeldBaseline}`.padStart(12)}  ${`${run.completedDuringHold}/${run.completedDuringHoldBaseline}`.padStart(19)}`,
    );
  }
  return lines.join('\n');
}
