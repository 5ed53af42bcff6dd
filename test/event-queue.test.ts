import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { EventQueue } from '../sim/event-queue.js';

interface E {
  time: number;
  seq: number;
  label: number;
}

describe('event queue', () => {
  test('pops by time, then by insertion order on ties', () => {
    const q = new EventQueue<E>();
    q.push({ time: 5, seq: 0, label: 1 });
    q.push({ time: 3, seq: 0, label: 2 });
    q.push({ time: 5, seq: 0, label: 3 });
    q.push({ time: 3, seq: 0, label: 4 });
    q.push({ time: 0, seq: 0, label: 5 });
    const order: number[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) order.push(e.label);
    expect(order).toEqual([5, 2, 4, 1, 3]);
    expect(q.size).toBe(0);
  });

  test('matches a stable sort by time for any interleaving of pushes and pops (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 20 }), fc.constant(-1)), { maxLength: 300 }), (script) => {
        const q = new EventQueue<E>();
        const reference: E[] = [];
        let label = 0;
        for (const step of script) {
          if (step >= 0) {
            const event = { time: step, seq: 0, label: label++ };
            q.push(event);
            reference.push(event);
          } else {
            // Reference: the earliest time, first inserted among equals.
            let best = -1;
            for (let i = 0; i < reference.length; i++) {
              if (best < 0 || reference[i]!.time < reference[best]!.time) best = i;
            }
            const expected = best < 0 ? undefined : reference.splice(best, 1)[0];
            expect(q.pop()?.label).toBe(expected?.label);
          }
        }
        const rest: number[] = [];
        for (let e = q.pop(); e !== undefined; e = q.pop()) rest.push(e.label);
        const sortedRest = [...reference].sort((a, b) => a.time - b.time || a.label - b.label).map((e) => e.label);
        expect(rest).toEqual(sortedRest);
      }),
      { numRuns: 300 },
    );
  });

  test('rejects a non-finite time', () => {
    expect(() => new EventQueue<E>().push({ time: Number.NaN, seq: 0, label: 0 })).toThrow(/finite/);
  });
});
