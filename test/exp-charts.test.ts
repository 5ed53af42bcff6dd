import { describe, expect, test } from 'vitest';
import { UsageError } from '../core/invariant.js';
import { chartConfig, chartModels } from '../experiments/charts.js';
import type { PlotSpec } from '../experiments/definition.js';
import type { TidyRow } from '../experiments/output.js';
import type { PointResult } from '../experiments/point.js';

/** A tidy row with the fields the charts read; the rest as a table would have them. */
function row(fields: Partial<Record<string, string | number | null>>): TidyRow {
  const protocol = String(fields['protocol'] ?? 'tempo');
  const f = Number(fields['f'] ?? 1);
  return {
    point: '0',
    site_set: 'gcp-5',
    n: 5,
    protocol,
    f,
    label: protocol === 'epaxos' ? 'epaxos' : `${protocol} f=${f}`,
    conflict_pct: 2,
    clients_per_region: 10,
    seed: 1,
    region: 'all',
    mean_ms: 100,
    p99_ms: 200,
    fast_ratio: 1,
    throughput_ops_per_sec: 50,
    bote_ms: null,
    ...fields,
  } as unknown as TidyRow;
}

function only(plot: PlotSpec, rows: readonly TidyRow[], results: readonly PointResult[] = []) {
  const charts = chartModels([plot], rows, results);
  expect(charts.skipped).toEqual([]);
  return charts.models[0]!;
}

describe('chart models from plot specs', () => {
  test('bars: a group per x, a bar per label (protocols together, f ascending), seeds averaged, whiskers', () => {
    const rows = [
      row({ region: 'a', protocol: 'fpaxos', mean_ms: 300, p99_ms: 310 }),
      row({ region: 'a', protocol: 'tempo', f: 2, mean_ms: 120, p99_ms: 150 }),
      row({ region: 'a', protocol: 'tempo', f: 1, seed: 1, mean_ms: 100, p99_ms: 130 }),
      row({ region: 'a', protocol: 'tempo', f: 1, seed: 2, mean_ms: 110, p99_ms: 150 }),
      row({ region: 'b', protocol: 'tempo', f: 1, mean_ms: 90, p99_ms: 95 }),
    ];
    const model = only({ kind: 'bars', file: 'p', title: 'T', x: 'region', value: 'mean_ms', whisker: 'p99_ms' }, rows);
    expect(model.labels).toEqual(['a', 'b']);
    expect(model.datasets.map((d) => [d.label, d.data, d.whiskers])).toEqual([
      ['fpaxos f=1', [300, null], [310, null]],
      ['tempo f=1', [105, 90], [140, 95]],
      ['tempo f=2', [120, null], [150, null]],
    ]);
    // A protocol keeps its hue; f=2 is a lighter shade of it.
    expect(model.datasets[1]!.color).not.toBe(model.datasets[2]!.color);
    const config = chartConfig(model, { responsive: false }) as { options: { scales: { y: { suggestedMax: number } } } };
    // The axis reaches the highest whisker, so no whisker is cut off.
    expect(config.options.scales.y.suggestedMax).toBe(310);
  });

  test('lines: fast-path ratio in percent against a numeric x, sorted by x', () => {
    const rows = [row({ conflict_pct: 40, fast_ratio: 0.5 }), row({ conflict_pct: 0, fast_ratio: 1 }), row({ conflict_pct: 10, fast_ratio: 0.91234 })];
    const model = only({ kind: 'lines', file: 'p', title: 'T', x: 'conflict_pct', y: 'fast_ratio' }, rows);
    expect(model.xType).toBe('linear');
    expect(model.yTitle).toBe('fast-path ratio (%)');
    expect(model.datasets[0]!.data).toEqual([{ x: 0, y: 100 }, { x: 10, y: 91.23 }, { x: 40, y: 50 }]);
  });

  test('a series with no values is left out (FPaxos has no fast path); a plot with none is an error', () => {
    const rows = [row({ protocol: 'fpaxos', fast_ratio: null }), row({ protocol: 'tempo', fast_ratio: 0.5 })];
    const model = only({ kind: 'lines', file: 'p', title: 'T', x: 'conflict_pct', y: 'fast_ratio' }, rows);
    expect(model.datasets.map((d) => d.label)).toEqual(['tempo f=1']);
    expect(() => chartModels([{ kind: 'lines', file: 'p', title: 'T', x: 'conflict_pct', y: 'fast_ratio' }], [rows[0]!], [])).toThrow(/^plot 'p' has no values to draw: its rows have no fast-path ratio \(%\)$/);
  });

  test('throughput–latency: one point per load, in load order, whatever the throughput does', () => {
    const rows = [
      row({ clients_per_region: 64, throughput_ops_per_sec: 900, mean_ms: 150 }),
      row({ clients_per_region: 16, throughput_ops_per_sec: 200, mean_ms: 140 }),
      row({ clients_per_region: 256, throughput_ops_per_sec: 800, mean_ms: 400 }),
    ];
    const model = only({ kind: 'lines', file: 'p', title: 'T', x: 'throughput_ops_per_sec', y: 'mean_ms' }, rows);
    expect(model.datasets[0]!.data).toEqual([{ x: 200, y: 140 }, { x: 900, y: 150 }, { x: 800, y: 400 }]);
  });

  test('cdf: one line per point from its recorded distribution, starting at the minimum', () => {
    const rows = [row({ point: '3', protocol: 'epaxos', f: 2 }), row({ point: '3', protocol: 'epaxos', f: 2, region: 'x' })];
    const result = { point: { id: '3' }, latencyCdf: { minMs: 10, percentiles: [50, 100], ms: [20, 30] } } as unknown as PointResult;
    const model = only({ kind: 'cdf', file: 'p', title: 'T' }, rows, [result]);
    expect(model.cdf).toBe(true);
    expect(model.datasets.map((d) => [d.label, d.data])).toEqual([['epaxos', [{ x: 10, y: 0 }, { x: 20, y: 50 }, { x: 30, y: 100 }]]]);
    const old = { ...result, latencyCdf: null };
    expect(chartModels([{ kind: 'cdf', file: 'p', title: 'T' }], rows, [old]).skipped).toEqual([expect.stringMatching(/^p: these raw results hold no latency distribution/)]);
  });

  test('a plot whose where selects nothing is a usage error naming it', () => {
    expect(() => chartModels([{ kind: 'cdf', file: 'empty', title: 'T', where: { site_set: 'aws-9' } }], [row({})], [])).toThrow(UsageError);
    expect(() => chartModels([{ kind: 'cdf', file: 'empty', title: 'T', where: { site_set: 'aws-9' } }], [row({})], [])).toThrow(/^plot 'empty' selects no rows; check its where: \{"site_set":"aws-9"\}$/);
  });
});
