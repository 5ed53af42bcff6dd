/**
 * Running one point: its configuration becomes the same flags `orrery sim` takes (so a point is
 * reproducible by hand with the command in {@link simCommandOf}), and the simulation's report, with the
 * closed-form estimate when asked, is the point's result. No wall-clock figures: the same point gives
 * the same bytes.
 */
import { simulationFromFlags } from '../cli/sim-command.js';
import { bote } from '../sim/bote.js';
import { makeReport, nsToMs, type SimReport } from '../sim/report.js';
import { Simulation, SimulationStuckError, type SimulationResult } from '../sim/simulation.js';
import { COMMANDS_PER_CLIENT_MAX } from '../sim/workload.js';
import type { Point } from './definition.js';

/**
 * The percentiles a point's latency distribution is recorded at: every whole percent and the tail.
 * Enough to draw a CDF, small enough to keep every point's JSON a few kilobytes.
 */
export const CDF_PERCENTILES: readonly number[] = [...Array.from({ length: 100 }, (_, i) => i + 1), 99.5, 99.9].sort((a, b) => a - b);

/** A latency distribution: the minimum, then the latency at each of {@link CDF_PERCENTILES} (ms). */
export interface LatencyCdf {
  readonly minMs: number;
  readonly percentiles: readonly number[];
  readonly ms: readonly number[];
}

/** What a point produced. */
export interface PointResult {
  readonly point: Point;
  readonly report: SimReport;
  /** Closed-form fast-path latency per client region in ms, when the definition asks for it. */
  readonly boteMs: Readonly<Record<string, number>> | null;
  /**
   * The latency distribution over all client regions; null in raw results written before it was
   * recorded (they still plot, without CDFs).
   */
  readonly latencyCdf: LatencyCdf | null;
  /**
   * Present when the point's protocol lost liveness under its fault schedule: the simulator's message.
   * The report then covers the run up to the stall (`orrery sim` prints `stuck:` instead).
   */
  readonly stuck?: string;
}

/** The `orrery sim` flags of a point. */
export function simFlagsOf(point: Point): Record<string, string> {
  return {
    protocol: point.protocol,
    planet: point.planet,
    regions: point.regions.join(','),
    'client-regions': point.clientRegions.join(','),
    ...(point.protocol === 'epaxos' ? {} : { f: String(point.f) }),
    conflict: String(point.conflictPct),
    'clients-per-region': String(point.clientsPerRegion),
    // A point stopped by time alone issues "no limit" of commands, which is `orrery sim`'s default with --duration-ms.
    ...(point.durationMs !== undefined && point.commandsPerClient === COMMANDS_PER_CLIENT_MAX ? {} : { commands: String(point.commandsPerClient) }),
    seed: String(point.seed),
    ...(point.cpuProfile === null ? {} : { cpu: point.cpuProfile, cores: String(point.cores ?? 1) }),
    ...(point.durationMs === undefined ? {} : { 'duration-ms': String(point.durationMs) }),
    ...(point.faults === undefined ? {} : { faults: JSON.stringify(point.faults) }),
    ...(point.failureDetectionMs === undefined ? {} : { 'failure-detection-ms': String(point.failureDetectionMs) }),
    ...(point.timelineMs === undefined ? {} : { 'timeline-ms': String(point.timelineMs) }),
  };
}

/** A flag's value as a shell word: as is when plain, else single-quoted (an inline fault schedule). */
function shellWord(value: string): string {
  return /^[A-Za-z0-9_.,:\/=+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The `orrery sim` command line that reruns a point on its own. */
export function simCommandOf(point: Point): string {
  return ['orrery sim', ...Object.entries(simFlagsOf(point)).map(([flag, value]) => `--${flag} ${shellWord(value)}`)].join(' ');
}

/** Runs one point to completion (CPU profile paths are read relative to the working directory). */
export function runPoint(point: Point): PointResult {
  const { options, notes } = simulationFromFlags(simFlagsOf(point));
  const simulation = new Simulation(options);
  let result: SimulationResult;
  let stuck: string | null = null;
  try {
    result = simulation.run();
  } catch (error) {
    // Under faults, a protocol that loses liveness is a finding of the experiment, as `orrery sim`
    // reports it: the point keeps what it measured until the stall (its timeline shows it).
    if (!(error instanceof SimulationStuckError) || options.faults === undefined) throw error;
    stuck = error.message;
    result = simulation.resultSoFar();
  }
  // As `orrery sim --json` reports it: with what the faults did when the point has a schedule.
  const report = makeReport(result, stuck === null ? notes : [...notes, `stuck: ${stuck}`], options.faults !== undefined);
  let boteMs: Record<string, number> | null = null;
  if (point.bote) {
    const estimates = bote({
      protocol: point.protocol,
      config: options.config,
      planet: options.planet,
      processRegions: options.processRegions,
      clientRegions: options.clientRegions,
    });
    boteMs = Object.fromEntries(estimates.map((e) => [e.region, nsToMs(e.latencyNs)]));
    boteMs['all'] = nsToMs(estimates.reduce((sum, e) => sum + e.latencyNs, 0) / estimates.length);
  }
  const latencyCdf: LatencyCdf = {
    minMs: nsToMs(result.latencyNs.min()),
    percentiles: CDF_PERCENTILES,
    ms: CDF_PERCENTILES.map((p) => nsToMs(result.latencyNs.percentile(p))),
  };
  return { point, report, boteMs, latencyCdf, ...(stuck === null ? {} : { stuck }) };
}
