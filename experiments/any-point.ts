/**
 * The two kinds of experiment points, run by one function so that the runner and its worker threads
 * need not know which kind they were given: a simulation of a workload (point.ts) or an
 * adapter-deploy run (adapter-deploy.ts, marked `kind: 'adapter-deploy'`).
 */
import { runAdapterPoint, type AdapterDeployPoint, type AdapterDeployPointResult } from './adapter-deploy.js';
import type { Point } from './definition.js';
import { runPoint, type PointResult } from './point.js';

export type AnyPoint = Point | AdapterDeployPoint;
export type AnyPointResult = PointResult | AdapterDeployPointResult;

/** Runs a point of either kind. */
export function runAnyPoint(point: AnyPoint): AnyPointResult {
  return 'kind' in point && point.kind === 'adapter-deploy' ? runAdapterPoint(point) : runPoint(point as Point);
}
