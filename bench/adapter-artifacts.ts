/**
 * `npm run bench:adapter`: CPU cost of the adapter register's artifacts — making a good adapter
 * (fitting it by gradient descent), parsing a file, and running the reference validation suite —
 * in CPU microseconds per operation (process.cpuUsage, so a busy machine slows the figures less than
 * wall-clock time would), plus the file size. The simulator runs the suite once per validator and
 * version, so its cost bounds how many it can afford. Then the margins of the reference suite over
 * 300 seeds: thresholds (validation.ts) must sit between the worst good and the best regressed adapter.
 */
import { makeAdapter, parseAdapter, regressionKind } from '../apps/adapter-register/adapter-file.js';
import { validateAdapter } from '../apps/adapter-register/validation.js';

function cpuUsPer(operations: number, run: (i: number) => void): number {
  run(0); // warm-up: builds the cached model and reference data, compiles the hot loops
  const start = process.cpuUsage();
  for (let i = 0; i < operations; i++) run(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / operations;
}

const files = Array.from({ length: 64 }, (_, i) => makeAdapter(i % 2 === 0 ? 'good' : 'regressed', i));
const figures = {
  fileBytes: files[0]!.length,
  makeGoodCpuUs: Math.round(cpuUsPer(200, (i) => makeAdapter('good', 1000 + i))),
  makeRegressedCpuUs: Math.round(cpuUsPer(200, (i) => makeAdapter('regressed', 1000 + i))),
  parseCpuUs: Number(cpuUsPer(20_000, (i) => parseAdapter(files[i % files.length]!)).toFixed(1)),
  validateCpuUs: Number(cpuUsPer(5_000, (i) => validateAdapter(files[i % files.length]!)).toFixed(1)),
};

/**
 * Margins over seeds 0..SEEDS-1: how close the worst good adapter comes to failing a check, and the
 * regressed adapter of each kind closest to passing each (a threshold between the two holds them apart).
 */
const SEEDS = 300;
const good = { mseRatioMax: 0, qaAccuracyMin: 1, probeToBoundMax: 0 };
const regressed: Record<string, { mseRatioMin: number; qaAccuracyMax: number; probeToBoundMin: number; passed: number }> = {};
for (let seed = 0; seed < SEEDS; seed++) {
  const g = validateAdapter(makeAdapter('good', seed)).metrics;
  good.mseRatioMax = Math.max(good.mseRatioMax, g['mseRatio']!);
  good.qaAccuracyMin = Math.min(good.qaAccuracyMin, g['qaAccuracy']!);
  good.probeToBoundMax = Math.max(good.probeToBoundMax, g['probeOutputNorm']! / g['probeOutputNormMax']!);
  const report = validateAdapter(makeAdapter('regressed', seed));
  const r = report.metrics;
  const kind = (regressed[regressionKind(seed)] ??= { mseRatioMin: Infinity, qaAccuracyMax: 0, probeToBoundMin: Infinity, passed: 0 });
  kind.mseRatioMin = Math.min(kind.mseRatioMin, r['mseRatio']!);
  kind.qaAccuracyMax = Math.max(kind.qaAccuracyMax, r['qaAccuracy']!);
  kind.probeToBoundMin = Math.min(kind.probeToBoundMin, r['probeOutputNorm']! / r['probeOutputNormMax']!);
  if (report.pass) kind.passed++;
}
const round = (value: number) => Number(value.toFixed(4));
const margins = {
  seeds: SEEDS,
  good: { mseRatioMax: round(good.mseRatioMax), qaAccuracyMin: round(good.qaAccuracyMin), probeToBoundMax: round(good.probeToBoundMax) },
  regressed: Object.fromEntries(
    Object.entries(regressed).map(([kind, m]) => [kind, { mseRatioMin: round(m.mseRatioMin), qaAccuracyMax: round(m.qaAccuracyMax), probeToBoundMin: round(m.probeToBoundMin), passed: m.passed }]),
  ),
};
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ ...figures, margins })}\n`);
else {
  process.stdout.write(
    [
      `adapter file: ${figures.fileBytes} bytes`,
      `makeAdapter good: ${figures.makeGoodCpuUs} µs CPU; regressed: ${figures.makeRegressedCpuUs} µs CPU`,
      `parseAdapter: ${figures.parseCpuUs} µs CPU`,
      `validateAdapter (parse + suite): ${figures.validateCpuUs} µs CPU`,
      `margins over seeds 0..${SEEDS - 1}: good adapters, worst: mse ratio ${margins.good.mseRatioMax}, qa accuracy ${margins.good.qaAccuracyMin}, probe norm / bound ${margins.good.probeToBoundMax}`,
      ...Object.entries(margins.regressed).map(
        ([kind, m]) => `  regressed ${kind}, closest to passing: mse ratio ${m.mseRatioMin}, qa accuracy ${m.qaAccuracyMax}, probe norm / bound ${m.probeToBoundMin}; passed ${m.passed}`,
      ),
    ].join('\n') + '\n',
  );
}
