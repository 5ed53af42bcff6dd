/**
 * The adapter-deploy figures as text: the strategies side by side, then each one's versions and
 * properties. No wall-clock figure: the same seed prints the same bytes.
 */
import type { AdapterDeployFigures, VersionFigures } from './scenario.js';
import { VALIDATOR_REGIONS } from './scenario.js';

function ms(value: number | null): string {
  return value === null ? '—' : value.toFixed(1);
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], rightFrom = 1): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) => row.map((cell, i) => (i < rightFrom ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Versions the fleet fully converged on, and the median time from publication to that. */
function converged(figures: AdapterDeployFigures): { count: number; medianMs: number | null } {
  const times = figures.versionFigures.filter((version) => version.convergedMs !== null).map((version) => version.convergedMs!);
  return { count: times.length, medianMs: median(times) };
}

function outcomes(figures: AdapterDeployFigures, outcome: string): number {
  return figures.versionFigures.filter((version) => version.outcome === outcome).length;
}

/** The comparison of one or two strategies run on the same seed. */
export function formatAdapterDeploy(runs: readonly AdapterDeployFigures[]): string {
  const first = runs[0]!;
  const regions = VALIDATOR_REGIONS.slice(0, first.validators).join(', ');
  const lines = [
    `adapter-deploy: ${first.protocol}, ${first.validators} validators (${regions}), fleet ${first.fleet}, ` +
      `${first.versions} versions (${first.badVersions} regressed), poll ${first.pollMs} ms, seed ${first.seed}`,
    '',
  ];
  const rows: string[][] = [
    ['bad-version requests', ...runs.map((run) => String(run.badVersionRequests))],
    ['requests served', ...runs.map((run) => String(run.requests))],
    ['mixed-version window (ms)', ...runs.map((run) => ms(run.mixedVersionMs))],
    [
      'versions released / known good',
      ...runs.map((run) => String(run.strategy === 'register' ? outcomes(run, 'released') : outcomes(run, 'known-good'))),
    ],
    [
      'rejected / rolled back',
      ...runs.map((run) => String(run.strategy === 'register' ? outcomes(run, 'rejected') : outcomes(run, 'rolled-back'))),
    ],
    ['superseded', ...runs.map((run) => (run.strategy === 'register' ? String(outcomes(run, 'superseded')) : '—'))],
    ['fleet converged on (versions)', ...runs.map((run) => String(converged(run).count))],
    ['publish → fleet, median (ms)', ...runs.map((run) => ms(converged(run).medianMs))],
    ['refused downloads (digest)', ...runs.map((run) => String(run.refusedDownloads))],
    ['finished at (ms)', ...runs.map((run) => (run.stuck === null ? ms(run.finishedMs) : 'stuck'))],
  ];
  lines.push(table(['', ...runs.map((run) => run.strategy)], rows));
  for (const run of runs) {
    lines.push('', `${run.strategy}:`);
    if (run.stuck !== null) lines.push(`  stuck: ${run.stuck}`);
    if (run.commitMs !== null) {
      lines.push(`  register commands: ${run.commitMs.count}, latency p50 ${ms(run.commitMs.p50)} ms, p99 ${ms(run.commitMs.p99)} ms, max ${ms(run.commitMs.max)} ms`);
    }
    if (run.strategy === 'rolling') lines.push(`  rollbacks: ${run.rollbacks}`);
    const f = run.faults;
    if (f.crashed.length > 0 || f.partitioned > 0 || f.dropped > 0 || run.agentRetries > 0) {
      lines.push(`  faults: crashed [${f.crashed.join(', ')}], ${f.partitioned} messages partitioned, ${f.dropped} dropped, ${run.agentRetries} agent commands resent`);
    }
    lines.push(indent(versionTable(run)));
    for (const property of run.properties) {
      const mark = property.holds === undefined ? '–' : property.holds ? '✓' : '✗';
      lines.push(`  ${mark} ${property.property}: ${property.detail}`);
    }
  }
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function versionTable(run: AdapterDeployFigures): string {
  const register = run.strategy === 'register';
  const header = register
    ? ['#', 'kind', 'version id', 'outcome', 'nodes', 'requests', 'converged ms', 'bound ms', 'V ms', 'C ms', 'T ms']
    : ['#', 'kind', 'outcome', 'nodes', 'requests', 'converged ms'];
  const rows = run.versionFigures.map((version: VersionFigures) => {
    const common = [String(version.index), version.kind];
    if (!register) return [...common, version.outcome, String(version.nodesServed), String(version.requests), ms(version.convergedMs)];
    const bound = version.bound;
    return [
      ...common,
      version.versionId ?? '—',
      version.outcome,
      String(version.nodesServed),
      String(version.requests),
      ms(version.convergedMs),
      bound === null ? '—' : `${ms(bound.boundMs)}${bound.overtaken ? '*' : ''}`,
      bound === null ? '—' : ms(bound.validationMs),
      bound === null ? '—' : ms(bound.commitMsMax),
      bound === null ? '—' : ms(bound.transferMs),
    ];
  });
  const notes = register ? '\nbound = Q + 6·C + validator poll + node poll + V + T (Q: proposal queued, C: slowest register command, V: slowest needed validation, T: slowest transfer); * overtaken by a newer release' : '';
  return `${table(header, rows, register ? 4 : 3)}${notes}`;
}
