/**
 * Running a list of points: in a piscina pool of worker threads (one per core by default), or in this
 * thread with `workers: 1`. Results come back sorted by point id, so their order never depends on which
 * worker finished first.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Piscina } from 'piscina';
import type { AdapterDeployPoint, AdapterDeployPointResult } from './adapter-deploy.js';
import { runAnyPoint, type AnyPoint, type AnyPointResult } from './any-point.js';
import type { Point } from './definition.js';
import type { PointResult } from './point.js';

export interface RunOptions {
  /** Worker threads; 1 runs every point in this thread. Default: the available cores. */
  readonly workers?: number;
  /** Called after each point with the number done so far. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The compiled worker next to this module, or undefined when running from TypeScript sources. */
function workerFile(): string | undefined {
  const file = fileURLToPath(new URL('./worker.js', import.meta.url));
  return existsSync(file) ? file : undefined;
}

/** Runs every point and returns the results sorted by point id. */
export async function runPoints(points: readonly Point[], options?: RunOptions): Promise<PointResult[]>;
export async function runPoints(points: readonly AdapterDeployPoint[], options?: RunOptions): Promise<AdapterDeployPointResult[]>;
export async function runPoints(points: readonly AnyPoint[], options: RunOptions = {}): Promise<AnyPointResult[]> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), points.length));
  const file = workerFile();
  let done = 0;
  const tick = () => options.onProgress?.(++done, points.length);
  let results: AnyPointResult[];
  if (workers === 1 || file === undefined) {
    results = [];
    for (const point of points) {
      results.push(runAnyPoint(point));
      tick();
      // Yield so a progress bar redraws between points.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    const pool = new Piscina<AnyPoint, AnyPointResult>({ filename: file, minThreads: workers, maxThreads: workers });
    try {
      results = await Promise.all(
        points.map(async (point) => {
          const result = await pool.run(point);
          tick();
          return result;
        }),
      );
    } finally {
      await pool.destroy();
    }
  }
  return results.sort((a, b) => (a.point.id < b.point.id ? -1 : a.point.id > b.point.id ? 1 : 0));
}
