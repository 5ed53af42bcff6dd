/**
 * `npm run bench:adapter`: CPU cost of the adapter register's artifacts — making a good adapter
 * (fitting it by gradient descent), parsing a file, and running the reference validation suite —
 * in CPU microseconds per operation (process.cpuUsage, so a busy machine slows the figures less than
 * wall-clock time would), plus the file size. The simulator runs the suite once per validator and
 * version, so its cost bounds how many it can afford.
 */
import { makeAdapter, parseAdapter } from '../apps/adapter-register/adapter-file.js';
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
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(figures)}\n`);
else {
  process.stdout.write(
    [
      `adapter file: ${figures.fileBytes} bytes`,
      `makeAdapter good: ${figures.makeGoodCpuUs} µs CPU; regressed: ${figures.makeRegressedCpuUs} µs CPU`,
      `parseAdapter: ${figures.parseCpuUs} µs CPU`,
      `validateAdapter (parse + suite): ${figures.validateCpuUs} µs CPU`,
    ].join('\n') + '\n',
  );
}
