/**
 * The simulator's report: a plain, JSON-ready summary of a {@link SimulationResult} (milliseconds,
 * rounded to the microsecond) and its text rendering for people. Neither contains wall-clock figures,
 * so the same seed prints the same bytes.
 */
import type { HistogramSummary } from '../core/histogram.js';
import type { Command } from '../core/command.js';
import { formatRifl, type Rifl } from '../core/ids.js';
import type { FaultStats, HistoryEntry, SimulationResult } from './simulation.js';
import type { TimelineSummary } from './timeline.js';
import { COMMANDS_PER_CLIENT_MAX } from './workload.js';

export interface LatencyRow extends HistogramSummary {
  readonly region: string;
  readonly clients: number;
}

export interface SimReport {
  readonly protocol: string;
  readonly planet: string;
  readonly seed: string | number;
  readonly config: SimulationResult['config'];
  readonly processes: ReadonlyArray<{ readonly id: number; readonly region: string }>;
  readonly workload: SimulationResult['workload'] & { readonly clientsPerRegion: number; readonly durationMs?: number };
  readonly commands: number;
  readonly simulatedMs: number;
  readonly throughputOpsPerSec: number;
  readonly latencyMs: { readonly all: LatencyRow; readonly byRegion: readonly LatencyRow[] };
  readonly paths: { readonly fast: number; readonly slow: number; readonly fastRatio: number | null };
  readonly messages: { readonly total: number; readonly byType: Readonly<Record<string, number>> };
  readonly notes: readonly string[];
  /** What a fault schedule did and what recovered (present when the run had a schedule). */
  readonly faults?: FaultStats & { readonly recoveredByProcess: readonly number[]; readonly caughtUp: readonly number[] };
  /** With the CPU model on: cores and per-process utilisation (busy time / simulated time). */
  readonly cpu?: {
    readonly cores: number;
    readonly executorCores: number;
    readonly processes: ReadonlyArray<{
      readonly id: number;
      readonly region: string;
      readonly protocolCore: number;
      readonly executorCores: readonly number[];
      readonly nic: number | null;
      readonly inputs: number;
      readonly queueMsMax: number;
    }>;
  };
  /** Commands completed and their latency per bucket of simulated time (`orrery sim --timeline-ms`). */
  readonly timeline?: TimelineSummary;
  /** What `durationMs`/`simulatedMs` measured: absent for the simulator, 'wall-clock' for the runtime. */
  readonly clock?: 'wall-clock';
}

const NS_PER_MS = 1_000_000;

/** Milliseconds from nanoseconds, rounded to the microsecond. */
export function nsToMs(ns: number): number {
  return Math.round(ns / 1000) / 1000;
}

export function makeReport(result: SimulationResult, notes: readonly string[] = [], withFaults = false, clock?: 'wall-clock'): SimReport {
  const clientsPerRegion = result.clientsPerRegion;
  const byRegion = result.clientRegions.map((region) => ({
    region,
    clients: clientsPerRegion,
    ...result.latencyNsByRegion.get(region)!.summary(nsToMs),
  }));
  const fast = result.fastPaths;
  const slow = result.slowPaths;
  const seconds = result.durationNs / (1000 * NS_PER_MS);
  return {
    protocol: result.protocol,
    planet: result.planet,
    seed: result.seed,
    config: result.config,
    processes: result.processRegions.map((region, i) => ({ id: i + 1, region })),
    workload: { ...result.workload, clientsPerRegion, ...(result.durationMs === undefined ? {} : { durationMs: result.durationMs }) },
    commands: result.commandsCompleted,
    simulatedMs: nsToMs(result.durationNs),
    throughputOpsPerSec: seconds > 0 ? Math.round((result.commandsCompleted / seconds) * 10) / 10 : 0,
    latencyMs: {
      all: { region: 'all', clients: clientsPerRegion * result.clientRegions.length, ...result.latencyNs.summary(nsToMs) },
      byRegion,
    },
    paths: { fast, slow, fastRatio: fast + slow === 0 ? null : Math.round((fast / (fast + slow)) * 10000) / 10000 },
    messages: { total: result.messagesTotal, byType: Object.fromEntries(result.messagesByType) },
    notes,
    ...(result.cpu === undefined
      ? {}
      : {
          cpu: {
            cores: result.cpu.cores,
            executorCores: result.cpu.executorCores,
            processes: result.cpu.usage.map((u) => ({
              id: u.process,
              region: result.processRegions[u.process - 1]!,
              protocolCore: u.protocolCore,
              executorCores: u.executorCores,
              nic: u.nic,
              inputs: u.inputs,
              queueMsMax: nsToMs(u.queueNsMax),
            })),
          },
        }),
    ...(withFaults ? { faults: { ...result.faults, recoveredByProcess: result.recoveredByProcess, caughtUp: result.caughtUpProcesses } } : {}),
    ...(result.timeline === undefined ? {} : { timeline: result.timeline }),
    ...(clock === undefined ? {} : { clock }),
  };
}

/** What a fault schedule did, and what recovered, for people. */
export function formatFaults(faults: FaultStats, recovery: { recoveredByProcess: readonly number[]; caughtUp: readonly number[] } | undefined): string {
  const lines: string[] = [];
  lines.push(
    `faults: crashed ${faults.crashed.length === 0 ? 'none' : faults.crashed.join(', ')}; messages dropped ${faults.dropped}, ` +
      `cut by partitions ${faults.partitioned}, lost at crashed processes ${faults.toCrashed}, duplicated ${faults.duplicated}, ` +
      `reordered ${faults.reordered}; client retries ${faults.clientRetries}`,
  );
  if (faults.configurations !== undefined) {
    const changes = faults.configurations.map((c) => `epoch ${c.epoch} = {${c.members.join(', ')}} at ${c.atMs.toFixed(1)} ms`);
    lines.push(`configurations: ${changes.length === 0 ? 'unchanged' : changes.join('; ')}`);
  }
  if (recovery !== undefined) {
    const recovered = recovery.recoveredByProcess.map((count, i) => [i + 1, count] as const).filter(([, count]) => count > 0);
    lines.push(
      `recovered: ${recovered.length === 0 ? 'no recovery needed' : recovered.map(([p, count]) => `process ${p} ×${count}`).join(', ')}; ` +
        `live processes caught up: ${recovery.caughtUp.join(', ')}`,
    );
  }
  return lines.join('\n');
}

function pad(text: string, width: number, right = true): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function fixed(value: number): string {
  return value.toFixed(1);
}

/** A readable multi-line rendering. */
export function formatReport(report: SimReport): string {
  const lines: string[] = [];
  const { config, workload } = report;
  const placement = report.processes.map((p) => `${p.id}:${p.region}`).join(' ');
  const leaderRegion = report.processes[config.leader - 1]?.region ?? '?';
  const leader = report.protocol === 'fpaxos' ? ` leader=${config.leader} (${leaderRegion})` : '';
  const f = report.protocol === 'epaxos' ? '' : ` f=${config.f}`;
  lines.push(`${report.protocol} on ${report.planet}, n=${config.n}${f}${leader}, seed ${String(report.seed)}`);
  lines.push(`processes: ${placement}`);
  const keys =
    workload.zipfTheta === undefined
      ? `conflict ${workload.conflictRate}% over ${workload.sharedKeys} shared key${workload.sharedKeys === 1 ? '' : 's'}`
      : `zipf θ=${workload.zipfTheta} over ${workload.zipfKeys} keys`;
  lines.push(
    `workload: ${workload.clientsPerRegion} clients/region × ${workload.commandsPerClient >= COMMANDS_PER_CLIENT_MAX ? 'commands until the run ends' : `${workload.commandsPerClient} commands`}, ${keys}, ` +
      `${workload.readRatio}% reads, ${workload.keysPerCommand} key${workload.keysPerCommand === 1 ? '' : 's'}/command` +
      `${workload.durationMs === undefined ? '' : `, clients stop at ${workload.durationMs / 1000} s`}`,
  );
  for (const note of report.notes) lines.push(`note: ${note}`);
  lines.push('');
  const width = Math.max(12, ...report.latencyMs.byRegion.map((r) => r.region.length));
  const header = ['commands', 'mean', 'p50', 'p95', 'p99', 'p99.9', 'max'];
  lines.push(`${pad('latency (ms)', width + 2, false)}${header.map((h) => pad(h, 9)).join('')}`);
  for (const row of [...report.latencyMs.byRegion, report.latencyMs.all]) {
    const cells = [String(row.count), fixed(row.mean), fixed(row.p50), fixed(row.p95), fixed(row.p99), fixed(row.p999), fixed(row.max)];
    lines.push(`  ${pad(row.region, width, false)}${cells.map((c) => pad(c, 9)).join('')}`);
  }
  lines.push('');
  lines.push(`commands: ${report.commands} in ${(report.simulatedMs / 1000).toFixed(3)} s ${report.clock ?? 'simulated'}, ${report.throughputOpsPerSec} commands/s`);
  if (report.paths.fastRatio === null) {
    lines.push('paths: one path only (every command goes through the leader)');
  } else {
    const ratio = `${(report.paths.fastRatio * 100).toFixed(1)}%`;
    lines.push(`paths: fast ${report.paths.fast}, slow ${report.paths.slow} (fast-path ratio ${ratio})`);
  }
  const types = Object.entries(report.messages.byType).map(([type, count]) => `${type} ${count}`);
  lines.push(`messages: ${report.messages.total} (${types.join(', ')})`);
  if (report.faults !== undefined) lines.push(formatFaults(report.faults, report.faults));
  if (report.cpu !== undefined) lines.push(...formatCpu(report.cpu));
  if (report.timeline !== undefined) lines.push(...formatTimeline(report.timeline));
  return lines.join('\n');
}

/**
 * The timeline, one line per bucket: when it starts, commands/s and the latency of what completed
 * in it, then the commands per client region (a crashed site's clients show as a column of zeros).
 */
export function formatTimeline(timeline: TimelineSummary): string[] {
  const cell = (value: number | null) => pad(value === null ? '-' : fixed(value), 9);
  const width = Math.max(6, ...timeline.regions.map((r) => r.length + 1));
  const lines = ['', `timeline: ${timeline.bucketMs} ms buckets of simulated time, by completion`];
  lines.push(`${pad('t (s)', 9)}${pad('ops/s', 10)}${['mean', 'p50', 'p99'].map((h) => pad(h, 9)).join('')}   ${timeline.regions.map((r) => pad(r, width)).join('')}`);
  for (const bucket of timeline.buckets) {
    lines.push(
      `${pad((bucket.startMs / 1000).toFixed(3), 9)}${pad(bucket.opsPerSec.toFixed(1), 10)}${cell(bucket.meanMs)}${cell(bucket.p50Ms)}${cell(bucket.p99Ms)}   ` +
        bucket.byRegion.map((count) => pad(String(count), width)).join(''),
    );
  }
  return lines;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** The CPU model's per-process utilisation, for people. */
function formatCpu(cpu: NonNullable<SimReport['cpu']>): string[] {
  const executors = cpu.executorCores === 0 ? 'executors inline on the protocol core' : `${cpu.executorCores} executor core${cpu.executorCores === 1 ? '' : 's'}`;
  const lines = ['', `cpu: ${cpu.cores} core${cpu.cores === 1 ? '' : 's'} per process, ${executors}`];
  for (const p of cpu.processes) {
    const exec = p.executorCores.length === 0 ? '' : `, executor ${p.executorCores.map(percent).join(' ')}`;
    const nic = p.nic === null ? '' : `, nic ${percent(p.nic)}`;
    lines.push(`  ${p.id}:${p.region} protocol core ${percent(p.protocolCore)}${exec}${nic}; ${p.inputs} inputs, longest queue wait ${p.queueMsMax.toFixed(3)} ms`);
  }
  return lines;
}

/** One history entry as a JSON line (rifls written as client.seq). */
/**
 * A command a client sent and never saw answered (the run ended or got stuck first): its outcome is
 * unknown, so `completeMs` and `results` are null. Checkers treat it as possibly executed.
 */
export function pendingHistoryLine(entry: { readonly client: number; readonly rifl: Rifl; readonly command: Command; readonly invokeMs: number; readonly region: string }): string {
  return JSON.stringify({
    client: entry.client,
    rifl: formatRifl(entry.rifl),
    region: entry.region,
    process: null,
    ops: entry.command.keys,
    invokeMs: entry.invokeMs,
    completeMs: null,
    results: null,
  });
}

export function historyLine(entry: HistoryEntry): string {
  return JSON.stringify({
    client: entry.client,
    rifl: formatRifl(entry.rifl),
    region: entry.region,
    process: entry.process,
    ops: entry.command.keys,
    invokeMs: entry.invokeMs,
    completeMs: entry.completeMs,
    results: entry.results.map((r) => ({ key: r.key, results: r.results })),
  });
}
