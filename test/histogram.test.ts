import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Histogram } from '../core/histogram.js';

/** Nearest-rank percentile over a sorted array: the reference. */
function reference(sorted: number[], p: number): number {
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

describe('histogram', () => {
  test('exact statistics against a sorted-array reference (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 400 }), (values) => {
        const h = new Histogram();
        for (const v of values) h.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        const s = h.summary();
        expect(s.count).toBe(values.length);
        expect(s.min).toBe(sorted[0]);
        expect(s.max).toBe(sorted[sorted.length - 1]);
        expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
        for (const p of [50, 95, 99, 99.9]) expect(h.percentile(p)).toBe(reference(sorted, p));
        expect(s.p50).toBe(reference(sorted, 50));
        expect(s.p999).toBe(reference(sorted, 99.9));
      }),
      { numRuns: 300 },
    );
  });

  test('merge equals adding every sample', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), fc.array(fc.integer({ min: 0, max: 50 })), (a, b) => {
        const ha = new Histogram();
        const hb = new Histogram();
        const all = new Histogram();
        a.forEach((v) => (ha.add(v), all.add(v)));
        b.forEach((v) => (hb.add(v), all.add(v)));
        ha.merge(hb);
        expect(ha.summary()).toEqual(all.summary());
      }),
    );
  });

  test('empty histogram reports zeros and a CDF ends at 1', () => {
    expect(new Histogram().summary()).toEqual({ count: 0, mean: 0, min: 0, p50: 0, p95: 0, p99: 0, p999: 0, max: 0 });
    const h = new Histogram();
    [3, 1, 2, 2].forEach((v) => h.add(v));
    expect(h.cdf()).toEqual([
      [1, 0.25],
      [2, 0.75],
      [3, 1],
    ]);
  });
});
