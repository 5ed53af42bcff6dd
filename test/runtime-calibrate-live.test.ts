/**
 * `orrery calibrate --live yes` (cli/calibrate-live.ts): real runtime runs on loopback, each process's
 * CPU after `go`, the calibrated parts applied to the run's own counts, and the residual fitted over
 * the runs. Runs compiled code in child processes (dist/), hence the runtime- prefix.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { calibrateLive } from '../cli/calibrate-live.js';
import { parseCpuProfile } from '../sim/cpu.js';

interface Point {
  clients: number;
  ops: number;
  inputs: number;
  frames: number;
  replicaCpuUsPerOp: number;
  replicaPartsUsPerOp: number;
  replicaFittedUsPerOp: number;
  clientCpuUsPerOp: number;
}

describe('live calibration of FPaxos on the runtime', async () => {
  const profile = parseCpuProfile(readFileSync('results/cpu-profile.json', 'utf8'), 'results/cpu-profile.json');
  const costs = profile.protocols.fpaxos!;
  const lines: string[] = [];
  const { replica, detail } = await calibrateLive('fpaxos', costs, costs.transport!, { clients: [3, 9, 18], durationMs: 1000, log: (line) => lines.push(line) });
  const points = (detail as { points: Point[] }).points;

  test('each run measured work after go: commands, inputs, frames and CPU time', () => {
    expect(points.map((p) => p.clients)).toEqual([3, 9, 18]);
    for (const p of points) {
      expect(p.ops).toBeGreaterThan(100);
      // FPaxos: every command is at least a submit, and the leader's accepts and the commits to its followers.
      expect(p.inputs).toBeGreaterThan(2 * p.ops);
      expect(p.frames).toBeGreaterThan(0);
      expect(p.replicaCpuUsPerOp).toBeGreaterThan(0);
      expect(p.replicaPartsUsPerOp).toBeGreaterThan(0);
      expect(p.clientCpuUsPerOp).toBeGreaterThan(0);
    }
    expect(lines).toHaveLength(4);
  });

  test('the residual is finite and non-negative, and the fit explains the runs at least as well as the parts alone', () => {
    for (const value of [replica.inputNs, replica.frameNs, replica.wakeNs!, replica.clientCommandNs!, replica.clientFrameNs!, replica.clientWakeNs!]) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(0);
    }
    // Squared error per run in total CPU: the least-squares fit includes "no residual" among its candidates.
    const sse = (per: (p: Point) => number) => points.reduce((sum, p) => sum + ((p.replicaCpuUsPerOp - per(p)) * p.ops) ** 2, 0);
    // Rounding to 0.01 µs per command in the detail allows a little slack.
    const slack = points.reduce((sum, p) => sum + (0.02 * p.ops) ** 2, 0) * 4;
    expect(sse((p) => p.replicaFittedUsPerOp)).toBeLessThanOrEqual(sse((p) => p.replicaPartsUsPerOp) + slack);
  });
});
