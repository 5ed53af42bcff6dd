/** The piscina worker: runs one point per task, of either kind. */
import { runAnyPoint, type AnyPoint, type AnyPointResult } from './any-point.js';

/** Runs `point` in this worker thread. */
export default function run(point: AnyPoint): AnyPointResult {
  return runAnyPoint(point);
}
