/** The piscina worker: runs one point per task. */
import type { Point } from './definition.js';
import { runPoint, type PointResult } from './point.js';

/** Runs `point` in this worker thread. */
export default function run(point: Point): PointResult {
  return runPoint(point);
}
