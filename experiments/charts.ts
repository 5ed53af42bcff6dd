/**
 * Charts of an experiment, as data: a definition's plot specs applied to the tidy rows (and the points'
 * latency distributions) give {@link ChartModel}s, and {@link chartConfig} turns a model into a chart.js
 * configuration. The same configuration draws the PNG (experiments/render-png.ts, server-side) and the
 * interactive chart in report.html, so the two cannot disagree. No I/O here; the same rows give the same
 * models.
 */
import { UsageError } from '../core/invariant.js';
import { GROUP_FIELDS, type GroupField, type PlotSpec, type TimelineField, type TimelinePlot, type ValueField } from './definition.js';
import { filterRows, type TidyRow } from './output.js';
import type { PointResult } from './point.js';
import { wholeBuckets } from './recovery-figures.js';

/** One line or one set of bars. */
export interface ChartDataset {
  readonly label: string;
  /** An opaque `#rrggbb` colour (the browser test looks for it in the pixels). */
  readonly color: string;
  /** Bar heights per category, or (x, y) points (y null: a gap, e.g. no latency where nothing completed). */
  readonly data: ReadonlyArray<number | null> | ReadonlyArray<{ readonly x: number; readonly y: number | null }>;
  /** Whisker tops, one per datum (null: none). */
  readonly whiskers?: ReadonlyArray<number | null>;
  /** Draw the line dashed (a second field of the same series, e.g. p99 beside p50). */
  readonly dashed?: boolean;
}

/** A vertical line across the plot at `x`, labelled (a crash on a timeline). */
export interface ChartMarker {
  readonly x: number;
  readonly label: string;
}

/** A chart, independent of the library drawing it. */
export interface ChartModel {
  readonly file: string;
  readonly title: string;
  readonly type: 'bar' | 'line';
  /** `category`: `labels` name the x positions; `linear`: the data are (x, y) points. */
  readonly xType: 'category' | 'linear';
  readonly labels?: readonly string[];
  readonly xTitle: string;
  readonly yTitle: string;
  /** CDFs: a step after each point, and the y axis from 0 to 100%. */
  readonly cdf: boolean;
  /** Timelines: many points per line, drawn with small markers. */
  readonly timeline?: boolean;
  readonly datasets: readonly ChartDataset[];
  readonly markers?: readonly ChartMarker[];
}

/** Axis titles of the tidy fields. */
const FIELD_TITLES: Readonly<Record<GroupField | ValueField, string>> = {
  site_set: 'site set',
  n: 'sites (n)',
  protocol: 'protocol',
  f: 'f',
  label: 'protocol',
  conflict_pct: 'conflict (%)',
  clients_per_region: 'clients per region',
  seed: 'seed',
  region: 'client region',
  mean_ms: 'mean latency (ms)',
  p50_ms: 'p50 latency (ms)',
  p95_ms: 'p95 latency (ms)',
  p99_ms: 'p99 latency (ms)',
  p999_ms: 'p99.9 latency (ms)',
  max_ms: 'max latency (ms)',
  fast_ratio: 'fast-path ratio (%)',
  throughput_ops_per_sec: 'throughput (commands/s)',
  bote_ms: 'closed-form estimate (ms)',
  commands: 'commands',
  fault: 'fault case',
  ops_per_sec_before: 'commands/s before the crash',
  ops_per_sec_min_after: 'lowest commands/s after the crash',
  ops_per_sec_end: 'commands/s at the end',
  settled_after_s: 'recovered after (s)',
  p99_ms_max_after: 'highest p99 after the crash (ms)',
};

/** How a timeline field reads in a legend and on an axis. */
const TIMELINE_TITLES: Readonly<Record<TimelineField, string>> = { ops_per_sec: 'commands/s', mean_ms: 'mean', p50_ms: 'p50', p99_ms: 'p99' };

/** Shades per protocol: f=1, f=2, f≥3 (EPaxos has one). Opaque, so a bar's pixels carry its colour exactly. */
const PROTOCOL_COLORS: Readonly<Record<string, readonly string[]>> = {
  tempo: ['#1f5fa8', '#6fa3dc', '#a8c8ee'],
  atlas: ['#d9661f', '#f0a060', '#f6c9a0'],
  epaxos: ['#2e8b3e'],
  fpaxos: ['#b3283a', '#e0707f', '#f0aab3'],
};

/** Colours for series that are not protocols. */
const PALETTE = ['#1f5fa8', '#d9661f', '#2e8b3e', '#b3283a', '#7b4fa6', '#8c6d31', '#d45aa8', '#5f6b73', '#17a2b8', '#a3a31a'];

function isValueField(field: string): field is ValueField {
  return !(GROUP_FIELDS as readonly string[]).includes(field);
}

/** A value as drawn: the fast-path ratio in percent, everything else as written. */
function drawn(field: ValueField, value: number): number {
  return field === 'fast_ratio' ? Math.round(value * 10000) / 100 : value;
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** The values of `field` over `rows`, averaged (seeds), as drawn. */
function cell(rows: readonly TidyRow[], field: ValueField): number | null {
  const numbers = rows.map((row) => row[field]).filter((v): v is number => typeof v === 'number');
  const average = mean(numbers);
  return average === null ? null : drawn(field, average);
}

/**
 * The distinct values of `field` in row order; numbers ascending. Labels keep a protocol's f values
 * together in the order protocols first appear, as the tables do.
 */
function distinct(rows: readonly TidyRow[], field: GroupField): Array<string | number> {
  const seen: Array<string | number> = [];
  for (const row of rows) {
    const value = row[field] as string | number;
    if (!seen.includes(value)) seen.push(value);
  }
  if (seen.every((v) => typeof v === 'number')) return seen.sort((a, b) => (a as number) - (b as number));
  if (field === 'label') {
    const protocolRank = new Map<string, number>();
    const rank = new Map<string | number, [number, number]>();
    for (const row of rows) {
      const protocol = String(row['protocol']);
      if (!protocolRank.has(protocol)) protocolRank.set(protocol, protocolRank.size);
      rank.set(row['label'] as string, [protocolRank.get(protocol)!, Number(row['f'])]);
    }
    const first = new Map(seen.map((v, i) => [v, i]));
    return [...seen].sort((a, b) => rank.get(a)![0] - rank.get(b)![0] || rank.get(a)![1] - rank.get(b)![1] || first.get(a)! - first.get(b)!);
  }
  return seen;
}

/** A colour per series: a protocol's shade by f when the series are labels, else the palette. */
function colorOf(field: GroupField, value: string | number, index: number, rows: readonly TidyRow[]): string {
  if (field === 'label' || field === 'protocol') {
    const row = rows.find((r) => r[field] === value);
    const shades = PROTOCOL_COLORS[String(row?.['protocol'])];
    if (shades !== undefined) {
      const f = Number(row?.['f']);
      return field === 'protocol' || row?.['protocol'] === 'epaxos' ? shades[0]! : shades[Math.min(shades.length, Math.max(1, f)) - 1]!;
    }
  }
  return PALETTE[index % PALETTE.length]!;
}

function barChart(spec: Extract<PlotSpec, { kind: 'bars' }>, rows: readonly TidyRow[]): ChartModel {
  const categories = distinct(rows, spec.x);
  const inCategory = (value: string | number) => rows.filter((row) => row[spec.x] === value);
  let datasets: ChartDataset[];
  let yTitle: string;
  if (spec.values !== undefined) {
    datasets = spec.values.map((field, i) => ({
      label: field,
      color: PALETTE[i % PALETTE.length]!,
      data: categories.map((c) => cell(inCategory(c), field)),
    }));
    yTitle = spec.values.every((field) => field.endsWith('_ms')) ? 'latency (ms)' : spec.values.map((field) => FIELD_TITLES[field]).join(', ');
  } else {
    const series = spec.series ?? 'label';
    const value = spec.value!;
    const whisker = spec.whisker;
    datasets = distinct(rows, series).map((name, i) => {
      const own = rows.filter((row) => row[series] === name);
      const at = (c: string | number) => own.filter((row) => row[spec.x] === c);
      return {
        label: String(name),
        color: colorOf(series, name, i, rows),
        data: categories.map((c) => cell(at(c), value)),
        ...(whisker === undefined ? {} : { whiskers: categories.map((c) => cell(at(c), whisker)) }),
      };
    });
    yTitle = whisker === undefined ? FIELD_TITLES[value] : `${FIELD_TITLES[value]}, whisker: ${FIELD_TITLES[whisker].replace(/ \(ms\)$/, '')}`;
  }
  return {
    file: spec.file,
    title: spec.title,
    type: 'bar',
    xType: 'category',
    labels: categories.map(String),
    xTitle: FIELD_TITLES[spec.x],
    yTitle,
    cdf: false,
    datasets,
  };
}

function lineChart(spec: Extract<PlotSpec, { kind: 'lines' }>, rows: readonly TidyRow[]): ChartModel {
  const series = spec.series ?? 'label';
  const { x, y, whisker } = spec;
  const datasets = distinct(rows, series).map((name, i) => {
    const own = rows.filter((row) => row[series] === name);
    // Each (x, y) averages the seeds of one configuration: a group-field x is one configuration per
    // value; a value-field x (throughput) is measured, so points are the distinct configurations,
    // ordered by load.
    const groups = new Map<string, TidyRow[]>();
    for (const row of own) {
      const key = isValueField(x)
        ? GROUP_FIELDS.filter((field) => field !== 'seed').map((field) => String(row[field])).join('\u0000')
        : String(row[x]);
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    const points = [...groups.values()].map((group) => ({
      x: isValueField(x) ? cell(group, x) : (group[0]![x] as number),
      y: cell(group, y),
      whisker: whisker === undefined ? null : cell(group, whisker),
      load: Number(group[0]!['clients_per_region']),
    }));
    const kept = points.filter((p): p is typeof p & { x: number; y: number } => typeof p.x === 'number' && p.y !== null);
    kept.sort((a, b) => (isValueField(x) ? a.load - b.load || a.x - b.x : a.x - b.x));
    return {
      label: String(name),
      color: colorOf(series, name, i, rows),
      data: kept.map((p) => ({ x: p.x, y: p.y })),
      ...(whisker === undefined ? {} : { whiskers: kept.map((p) => p.whisker) }),
    };
  });
  const numericX = isValueField(x) || rows.every((row) => typeof row[x] === 'number');
  if (!numericX) {
    throw new UsageError(`plot '${spec.file}': x '${x}' is not numeric; use a bars plot for it`);
  }
  return {
    file: spec.file,
    title: spec.title,
    type: 'line',
    xType: 'linear',
    xTitle: FIELD_TITLES[x],
    yTitle: whisker === undefined ? FIELD_TITLES[y] : `${FIELD_TITLES[y]}, whisker: ${FIELD_TITLES[whisker].replace(/ \(ms\)$/, '')}`,
    cdf: false,
    datasets,
  };
}

function cdfChart(spec: Extract<PlotSpec, { kind: 'cdf' }>, rows: readonly TidyRow[], results: readonly PointResult[]): ChartModel | null {
  const series = spec.series ?? 'label';
  const byId = new Map(results.map((r) => [r.point.id, r]));
  const pointRows = rows.filter((row) => row['region'] === 'all');
  const names = pointRows.map((row) => String(row[series]));
  const datasets: ChartDataset[] = [];
  const order = distinct(pointRows, series);
  for (const [i, name] of order.entries()) {
    for (const row of pointRows.filter((r) => r[series] === name)) {
      const cdf = byId.get(String(row['point']))?.latencyCdf;
      if (cdf === null || cdf === undefined) return null;
      const repeated = names.filter((n) => n === String(name)).length > 1;
      datasets.push({
        label: repeated ? `${String(name)} (point ${String(row['point'])}, seed ${String(row['seed'])})` : String(name),
        color: repeated ? PALETTE[datasets.length % PALETTE.length]! : colorOf(series, name, i, pointRows),
        data: [{ x: cdf.minMs, y: 0 }, ...cdf.ms.map((ms, j) => ({ x: ms, y: cdf.percentiles[j]! }))],
      });
    }
  }
  return { file: spec.file, title: spec.title, type: 'line', xType: 'linear', xTitle: 'latency (ms)', yTitle: 'commands completed within (%)', cdf: true, datasets };
}

/**
 * Each selected point's timeline: one line per point and y field, the first field solid and the others
 * dashed, and a marker at every crash time of the selected points' fault schedules.
 */
function timelineChart(spec: TimelinePlot, rows: readonly TidyRow[], results: readonly PointResult[]): ChartModel {
  const series = spec.series ?? 'label';
  const byId = new Map(results.map((r) => [r.point.id, r]));
  const pointRows = rows.filter((row) => row['region'] === 'all');
  const datasets: ChartDataset[] = [];
  const crashes = new Map<number, Set<number>>();
  const removals = new Map<number, Set<number>>();
  for (const [i, name] of distinct(pointRows, series).entries()) {
    const own = pointRows.filter((r) => r[series] === name);
    const faultsDiffer = new Set(own.map((r) => r['fault'])).size > 1;
    const seedsDiffer = new Set(own.map((r) => r['seed'])).size > 1;
    own.forEach((row, j) => {
      const result = byId.get(String(row['point']));
      const timeline = result?.report.timeline;
      if (result === undefined || timeline === undefined) {
        throw new UsageError(`plot '${spec.file}': point ${String(row['point'])} has no timeline; run the experiment with timelineMs`);
      }
      for (const crash of result.point.faults?.crashes ?? []) {
        if (!crashes.has(crash.atMs)) crashes.set(crash.atMs, new Set());
        crashes.get(crash.atMs)!.add(crash.process);
      }
      for (const removal of result.point.faults?.removals ?? []) {
        if (!removals.has(removal.atMs)) removals.set(removal.atMs, new Set());
        removals.get(removal.atMs)!.add(removal.process);
      }
      const which = [...(faultsDiffer ? [String(row['fault'])] : []), ...(seedsDiffer ? [`seed ${String(row['seed'])}`] : [])];
      const base = own.length === 1 ? String(name) : `${String(name)} (${which.length === 0 ? `point ${String(row['point'])}` : which.join(', ')})`;
      const shades = PROTOCOL_COLORS[String(row['protocol'])];
      const color = j === 0 ? colorOf(series, name, i, pointRows) : shades !== undefined && j < shades.length ? shades[j]! : PALETTE[(datasets.length + j) % PALETTE.length]!;
      const buckets = wholeBuckets(timeline, result.point.durationMs);
      spec.y.forEach((field, k) => {
        datasets.push({
          label: spec.y.length === 1 ? base : `${base} ${TIMELINE_TITLES[field]}`,
          color,
          data: buckets.map((b) => ({
            x: b.startMs / 1000,
            y: field === 'ops_per_sec' ? b.opsPerSec : field === 'mean_ms' ? b.meanMs : field === 'p50_ms' ? b.p50Ms : b.p99Ms,
          })),
          ...(k === 0 ? {} : { dashed: true }),
        });
      });
    });
  }
  const marker = (what: string) => ([atMs, processes]: [number, Set<number>]) => {
    const ids = [...processes].sort((a, b) => a - b);
    return { x: atMs / 1000, label: `${what} of process ${ids.join(' or ')}` };
  };
  const markers = [...[...crashes.entries()].map(marker('crash')), ...[...removals.entries()].map(marker('removal'))].sort((a, b) => a.x - b.x);
  const latency = spec.y[0] !== 'ops_per_sec';
  const dashes = spec.y.length > 1 ? ` (${spec.y.map((field, k) => `${TIMELINE_TITLES[field]} ${k === 0 ? 'solid' : 'dashed'}`).join(', ')})` : '';
  return {
    file: spec.file,
    title: spec.title,
    type: 'line',
    xType: 'linear',
    xTitle: 'simulated time (s)',
    yTitle: latency ? `latency (ms)${dashes}` : 'commands completed per second',
    cdf: false,
    timeline: true,
    datasets,
    markers,
  };
}

/**
 * A model without the series that have no value at all (FPaxos has no fast-path ratio); a chart left
 * with none is a usage error naming the plot.
 */
function withData(model: ChartModel): ChartModel {
  const datasets = model.datasets.filter((d) => d.data.some((datum) => datum !== null && (typeof datum === 'number' || datum.y !== null)));
  if (datasets.length === 0) throw new UsageError(`plot '${model.file}' has no values to draw: its rows have no ${model.yTitle}`);
  return { ...model, datasets };
}

/** What {@link chartModels} made, and the plots it could not make from these results (with why). */
export interface Charts {
  readonly models: readonly ChartModel[];
  readonly skipped: readonly string[];
}

/**
 * The charts of a definition's plot specs. A plot whose `where` selects nothing is a usage error;
 * a CDF of raw results written before latency distributions were recorded is skipped, with a note.
 */
export function chartModels(plots: readonly PlotSpec[], rows: readonly TidyRow[], results: readonly PointResult[]): Charts {
  const models: ChartModel[] = [];
  const skipped: string[] = [];
  for (const spec of plots) {
    const kept = filterRows(rows, spec.where);
    if (kept.length === 0) throw new UsageError(`plot '${spec.file}' selects no rows; check its where: ${JSON.stringify(spec.where ?? {})}`);
    if (spec.kind === 'bars') models.push(withData(barChart(spec, kept)));
    else if (spec.kind === 'lines') models.push(withData(lineChart(spec, kept)));
    else if (spec.kind === 'timeline') models.push(withData(timelineChart(spec, kept, results)));
    else {
      const model = cdfChart(spec, kept, results);
      if (model === null) skipped.push(`${spec.file}: these raw results hold no latency distribution (written before it was recorded); re-run the experiment to draw it`);
      else models.push(model);
    }
  }
  return { models, skipped };
}

const POINT_STYLES = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'rectRounded', 'cross'];

/**
 * The marker of the i-th line: its own shape, and larger than the lines drawn over it (chart.js draws
 * the first dataset on top), so identical curves (Tempo and Atlas at f=1) still show both markers.
 */
function marker(i: number): Record<string, unknown> {
  return { pointStyle: POINT_STYLES[i % POINT_STYLES.length], pointRadius: Math.min(3 + 0.5 * i, 6), pointBorderWidth: 1.5 };
}

/** How a configuration will be shown: a fixed-size PNG or a page that resizes. */
export interface ConfigOptions {
  readonly responsive: boolean;
}

/**
 * The chart.js configuration of a model: plain JSON (the plugins that draw whiskers and a white
 * background come from {@link orreryChartPlugins}, added where the chart is created). Animation is off,
 * so the first frame is the final one and a PNG is the same bytes for the same data.
 */
export function chartConfig(model: ChartModel, options: ConfigOptions): Record<string, unknown> {
  const whiskerTops = model.datasets.flatMap((d) => (d.whiskers ?? []).filter((w): w is number => w !== null));
  const yMax = whiskerTops.length === 0 ? undefined : Math.max(...whiskerTops);
  const line = model.type === 'line';
  return {
    type: model.type,
    data: {
      ...(model.labels === undefined ? {} : { labels: model.labels }),
      // Read by the markers plugin (orreryChartPlugins); chart.js ignores keys it does not know.
      ...(model.markers === undefined || model.markers.length === 0 ? {} : { markers: model.markers }),
      datasets: model.datasets.map((d, i) => ({
        label: d.label,
        data: d.data,
        backgroundColor: d.color,
        borderColor: d.color,
        borderWidth: line ? 2 : 0,
        ...(line ? { fill: false, stepped: model.cdf ? 'after' : false, ...(model.cdf ? { pointRadius: 0 } : model.timeline === true ? { pointRadius: 1.5, borderWidth: 1.5 } : marker(i)) } : {}),
        ...(d.dashed === true ? { borderDash: [6, 4] } : {}),
        ...(d.whiskers === undefined ? {} : { whiskers: d.whiskers }),
      })),
    },
    options: {
      animation: false,
      responsive: options.responsive,
      ...(options.responsive ? { maintainAspectRatio: true, aspectRatio: 2 } : { devicePixelRatio: 1 }),
      ...(line ? { parsing: true } : {}),
      plugins: {
        title: { display: true, text: model.title, font: { size: 16 } },
        legend: { position: 'bottom', labels: { usePointStyle: line && !model.cdf && model.timeline !== true } },
      },
      scales: {
        x: { type: model.xType, title: { display: true, text: model.xTitle } },
        y: {
          type: 'linear',
          title: { display: true, text: model.yTitle },
          // Room above the highest value: a line at its maximum (Tempo f=1's fast path, 100% at every
          // conflict rate) would otherwise run along the plot's top edge, half hidden.
          ...(model.cdf ? { min: 0, max: 100 } : { beginAtZero: true, ...(line ? { grace: '5%' } : {}) }),
          ...(yMax === undefined ? {} : { suggestedMax: yMax }),
        },
      },
    },
  };
}

/** The drawing context calls the plugins make (a structural subset of CanvasRenderingContext2D). */
interface Context2d {
  save(): void;
  restore(): void;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  stroke(): void;
  fillRect(x: number, y: number, width: number, height: number): void;
  fillText(text: string, x: number, y: number): void;
  setLineDash(segments: number[]): void;
  font: string;
  textAlign: string;
  strokeStyle: unknown;
  fillStyle: unknown;
  lineWidth: number;
  globalCompositeOperation: string;
}

/** The parts of a chart.js chart the plugins read. */
interface PluginChart {
  readonly ctx: Context2d;
  readonly width: number;
  readonly height: number;
  readonly data: { readonly datasets: ReadonlyArray<{ readonly whiskers?: unknown }>; readonly markers?: unknown };
  readonly chartArea: { readonly left: number; readonly right: number; readonly top: number; readonly bottom: number };
  readonly scales: Readonly<Record<string, { getPixelForValue(value: number): number }>>;
  isDatasetVisible(index: number): boolean;
  getDatasetMeta(index: number): {
    readonly yAxisID: string;
    readonly data: ReadonlyArray<{ readonly skip?: boolean; readonly width?: number; getProps(names: string[], final: boolean): { x: number; y: number } }>;
  };
}

/**
 * The chart.js plugins Orrery's charts use: a white background (a PNG is opaque; a page's canvas
 * looks the same) and whiskers (a dataset's `whiskers[i]` draws a line from datum i up to that value
 * with a cap, e.g. p99 over a mean bar) and markers (`data.markers`: a dashed grey vertical line at each
 * marker's x, labelled at the top: a crash on a timeline). Self-contained: report.html inlines this function's source,
 * so it must not refer to anything outside itself.
 */
export function orreryChartPlugins(): Array<Record<string, unknown>> {
  const background = {
    id: 'orreryBackground',
    beforeDraw(chart: PluginChart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.globalCompositeOperation = 'destination-over';
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  };
  const whiskers = {
    id: 'orreryWhiskers',
    afterDatasetsDraw(chart: PluginChart) {
      const ctx = chart.ctx;
      chart.data.datasets.forEach((dataset, i) => {
        const tops = dataset.whiskers;
        if (!Array.isArray(tops) || !chart.isDatasetVisible(i)) return;
        const meta = chart.getDatasetMeta(i);
        const scale = chart.scales[meta.yAxisID];
        if (scale === undefined) return;
        ctx.save();
        ctx.strokeStyle = '#333333';
        ctx.lineWidth = 1.5;
        meta.data.forEach((element, j) => {
          const top: unknown = tops[j];
          if (typeof top !== 'number' || element.skip === true) return;
          const { x, y } = element.getProps(['x', 'y'], true);
          const yTop = scale.getPixelForValue(top);
          const half = Math.max(3, Math.min(8, (element.width ?? 12) / 4));
          ctx.beginPath();
          ctx.moveTo(x, y);
          ctx.lineTo(x, yTop);
          ctx.moveTo(x - half, yTop);
          ctx.lineTo(x + half, yTop);
          ctx.stroke();
        });
        ctx.restore();
      });
    },
  };
  const markers = {
    id: 'orreryMarkers',
    afterDatasetsDraw(chart: PluginChart) {
      const list = chart.data.markers;
      const scale = chart.scales['x'];
      if (!Array.isArray(list) || scale === undefined) return;
      const area = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = '#555555';
      ctx.fillStyle = '#333333';
      ctx.lineWidth = 1.5;
      ctx.font = '12px "DejaVu Sans", sans-serif';
      ctx.textAlign = 'left';
      list.forEach((marker: { x: number; label: string }) => {
        const x = scale.getPixelForValue(marker.x);
        if (!(x >= area.left && x <= area.right)) return;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillText(marker.label, x + 4, area.top + 14);
      });
      ctx.restore();
    },
  };
  return [background, whiskers, markers];
}
