/**
 * report.html in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core) opens a generated report and the committed ones from disk with every network
 * request refused, and each <canvas> must hold a chart.js chart with data whose colours are drawn
 * inside the plot area (a chart with no data draws its legend, not its bars or lines).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ExperimentDefinition } from '../experiments/definition.js';

const CHROMIUM = process.env['ORRERY_CHROMIUM'] ?? '/usr/bin/chromium';
const INSTALL = 'apt-get update && apt-get install -y chromium';
const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'orrery.js');
const available = existsSync(CHROMIUM);

if (!available && process.env['CI'] === 'true') {
  throw new Error(`CI needs Chromium at ${CHROMIUM} for the report.html test; install it with: ${INSTALL}`);
}
if (!available) {
  process.stderr.write(`report-browser.test.ts skipped: no Chromium at ${CHROMIUM}; install it with: ${INSTALL}\n`);
}

const TINY: ExperimentDefinition = {
  name: 'tiny-report',
  description: 'FPaxos, Tempo and EPaxos on three AWS sites',
  siteSets: [{ name: 'aws-3', planet: 'aws', regions: ['eu-west-1', 'us-west-1', 'ap-southeast-1'] }],
  protocols: [{ protocol: 'fpaxos', f: [1] }, { protocol: 'tempo', f: [1] }, { protocol: 'epaxos' }],
  conflictPct: [0, 50],
  clientsPerRegion: [2, 4],
  commandsPerClient: 5,
  seeds: [1],
  tables: [{ title: 'mean', rows: ['label'], columns: 'conflict_pct', value: 'mean_ms', where: { region: 'all' } }],
  plots: [
    { kind: 'bars', file: 'per-site', title: 'latency per site', x: 'region', value: 'mean_ms', whisker: 'p99_ms', where: { conflict_pct: 50, clients_per_region: 2 } },
    { kind: 'lines', file: 'fast-path', title: 'fast path', x: 'conflict_pct', y: 'fast_ratio', where: { region: 'all', clients_per_region: 2 } },
    { kind: 'lines', file: 'throughput', title: 'throughput', x: 'throughput_ops_per_sec', y: 'mean_ms', whisker: 'p99_ms', where: { region: 'all', conflict_pct: 50 } },
    { kind: 'cdf', file: 'cdf', title: 'latency CDF', where: { conflict_pct: 50, clients_per_region: 4 } },
  ],
};

/** What the page reports about each canvas. */
interface CanvasState {
  readonly file: string;
  readonly hasChart: boolean;
  readonly datasets: ReadonlyArray<{ readonly label: string; readonly points: number; readonly pixelsInPlot: number }>;
}

/**
 * Runs in the page: every canvas's chart, its datasets, and how many plot-area pixels carry each
 * dataset's colour when it is drawn alone (identical curves, such as Tempo's and EPaxos's 100% fast
 * path, hide one another when drawn together).
 */
function inspectCanvases(): CanvasState[] {
  type PageChart = {
    data: { datasets: Array<{ label: string; data: unknown[]; borderColor: string }> };
    chartArea: { left: number; top: number; right: number; bottom: number };
    canvas: { width: number; height: number };
    currentDevicePixelRatio: number;
    setDatasetVisibility(index: number, visible: boolean): void;
    update(mode: string): void;
  };
  const page = globalThis as unknown as {
    document: { querySelectorAll(selector: string): Iterable<{ dataset: { file: string }; getContext(kind: string): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } }> };
    Chart: { getChart(canvas: unknown): PageChart | undefined };
  };
  return [...page.document.querySelectorAll('canvas')].map((canvas) => {
    const chart = page.Chart.getChart(canvas);
    if (chart === undefined) return { file: canvas.dataset.file, hasChart: false, datasets: [] };
    const alone = (index: number) => {
      chart.data.datasets.forEach((_, j) => chart.setDatasetVisibility(j, j === index));
      chart.update('none');
      // The plot area after the update: the axes rescale to the one dataset shown.
      const ratio = chart.currentDevicePixelRatio;
      const area = chart.chartArea;
      const left = Math.ceil(area.left * ratio);
      const top = Math.ceil(area.top * ratio);
      const width = Math.floor((area.right - area.left) * ratio);
      const height = Math.floor((area.bottom - area.top) * ratio);
      return canvas.getContext('2d').getImageData(left, top, width, height).data;
    };
    return {
      file: canvas.dataset.file,
      hasChart: true,
      datasets: chart.data.datasets.map((dataset, index) => {
        const pixels = alone(index);
        const hex = dataset.borderColor;
        const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
        let count = 0;
        for (let i = 0; i < pixels.length; i += 4) {
          if (Math.abs(pixels[i]! - r!) <= 2 && Math.abs(pixels[i + 1]! - g!) <= 2 && Math.abs(pixels[i + 2]! - b!) <= 2 && pixels[i + 3] === 255) count += 1;
        }
        return { label: dataset.label, points: dataset.data.filter((d) => d !== null).length, pixelsInPlot: count };
      }),
    };
  });
}

describe.skipIf(!available)('report.html in headless Chromium', () => {
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'orrery-report-'));

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with 'npm test', which builds first`);
    const definition = join(dir, 'tiny.json');
    writeFileSync(definition, JSON.stringify(TINY));
    const run = spawnSync(process.execPath, [CLI, 'exp', definition, '--out', join(dir, 'out'), '--workers', '1'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });

  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string): Promise<{ canvases: CanvasState[]; network: string[]; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const network: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      network.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const canvases = await page.evaluate(inspectCanvases);
    await page.close();
    return { canvases, network, errors };
  }

  function expectDrawn(canvases: readonly CanvasState[], files: readonly string[]): void {
    expect(canvases.map((c) => c.file)).toEqual(files);
    for (const canvas of canvases) {
      expect(canvas.hasChart, `${canvas.file} has a chart`).toBe(true);
      expect(canvas.datasets.length, `${canvas.file} has datasets`).toBeGreaterThan(0);
      for (const dataset of canvas.datasets) {
        expect(dataset.points, `${canvas.file} / ${dataset.label} has data`).toBeGreaterThan(0);
        expect(dataset.pixelsInPlot, `${canvas.file} / ${dataset.label} is drawn in the plot area`).toBeGreaterThan(0);
      }
    }
  }

  test('a generated report draws every chart with data, offline and without errors', async () => {
    const { canvases, network, errors } = await open(join(dir, 'out', 'report.html'));
    expect(network).toEqual([]);
    expect(errors).toEqual([]);
    expectDrawn(canvases, TINY.plots!.map((p) => p.file));
    const cdf = canvases.find((c) => c.file === 'cdf')!;
    expect(cdf.datasets.map((d) => d.label)).toEqual(['fpaxos f=1', 'tempo f=1', 'epaxos']);
  });

  const committed = readdirSync(join(ROOT, 'results'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'results', entry.name, 'report.html')))
    .map((entry) => entry.name);

  test.each(committed)('the committed results/%s/report.html draws every chart with data', async (name) => {
    const { canvases, network, errors } = await open(join(ROOT, 'results', name, 'report.html'));
    expect(network).toEqual([]);
    expect(errors).toEqual([]);
    const pngs = readdirSync(join(ROOT, 'results', name)).filter((file) => file.endsWith('.png'));
    expect(canvases.map((c) => `${c.file}.png`).sort()).toEqual(pngs.sort());
    expectDrawn(canvases, canvases.map((c) => c.file));
  });
});
