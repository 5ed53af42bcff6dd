/**
 * The live calibration's fit (cli/calibrate-live.ts): what a replica spends beyond the calibrated
 * parts, split into a cost per input and per frame by non-negative least squares.
 */
import { describe, expect, test } from 'vitest';
import { fitNonNegative } from '../cli/calibrate-live.js';
import { parseCpuProfile } from '../sim/cpu.js';

describe('fitNonNegative: y ≈ Σ c_j·x_j with every c_j ≥ 0', () => {
  test('recovers three costs from exact points whose inputs, frames and wake-ups do not move together', () => {
    const costs = [5_900, 18_800, 40_000];
    const points = [
      [25_000, 24_000, 20_000],
      [58_000, 14_000, 9_000],
      [73_000, 6_000, 1_500],
      [90_000, 5_000, 300],
    ].map((x) => ({ x, y: x.reduce((sum, v, j) => sum + v * costs[j]!, 0) }));
    const fit = fitNonNegative(points, 3);
    for (let j = 0; j < 3; j++) expect(fit[j]! / costs[j]!).toBeCloseTo(1, 6);
  });

  test('a cost the points would make negative is 0, and the others are fitted without it', () => {
    // y falls with x2: the unconstrained c_2 is negative.
    const points = [
      { x: [100, 10], y: 900 },
      { x: [200, 5], y: 2_100 },
      { x: [300, 1], y: 3_050 },
    ];
    const fit = fitNonNegative(points, 2);
    expect(fit[1]).toBe(0);
    const alone = (100 * 900 + 200 * 2_100 + 300 * 3_050) / (100 ** 2 + 200 ** 2 + 300 ** 2);
    expect(fit[0]).toBeCloseTo(alone, 9);
  });

  test('nothing beyond the parts fits as zero costs', () => {
    expect(fitNonNegative([{ x: [10, 3], y: -50 }, { x: [20, 4], y: -10 }], 2)).toEqual([0, 0]);
  });
});

describe('a profile with the live residual', () => {
  const base = { format: 'orrery-cpu-profile', version: 1, machine: {}, commit: 'x', date: 'd', command: 'c' };
  const costs = { handleNs: { submit: 1000 }, encodeNs: {}, decodeNs: {}, wireBytes: {}, executeNs: {}, executedNs: 0 };
  test('parses with the client terms, and names a field it does not know', () => {
    const replica = { inputNs: 5930, frameNs: 18802, wakeNs: 30_000, clientCommandNs: 2530, clientFrameNs: 12081, clientWakeNs: 9_000 };
    const profile = parseCpuProfile(JSON.stringify({ ...base, protocols: { tempo: { ...costs, replica } } }), 'p.json');
    expect(profile.protocols.tempo!.replica).toEqual(replica);
    expect(() => parseCpuProfile(JSON.stringify({ ...base, protocols: { tempo: { ...costs, replica: { ...replica, gcNs: 1 } } } }), 'p.json')).toThrow(
      /p\.json.*replica\.gcNs is not a replica cost; accepted: inputNs, frameNs, wakeNs, clientCommandNs, clientFrameNs, clientWakeNs/,
    );
  });
});
