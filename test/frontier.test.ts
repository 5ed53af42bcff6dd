import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FrontierSet } from '../core/frontier.js';

/** The simple reference: every member in a Set. */
class ReferenceSet {
  readonly members = new Set<number>();
  add(value: number): boolean {
    if (this.members.has(value)) return false;
    this.members.add(value);
    return true;
  }
  addUpTo(upTo: number): void {
    for (let value = 1; value <= upTo; value++) this.members.add(value);
  }
  get frontier(): number {
    let frontier = 0;
    while (this.members.has(frontier + 1)) frontier++;
    return frontier;
  }
}

const VALUE_MAX = 40;
const operation = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), value: fc.integer({ min: 1, max: VALUE_MAX }) }),
  fc.record({ kind: fc.constant('addUpTo' as const), value: fc.integer({ min: 0, max: VALUE_MAX }) }),
);

describe('FrontierSet against a plain set', () => {
  test('same answers, members, frontier and exception count after any sequence of adds', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const set = new FrontierSet();
        const reference = new ReferenceSet();
        for (const { kind, value } of operations) {
          if (kind === 'add') expect(set.add(value)).toBe(reference.add(value));
          else {
            set.addUpTo(value);
            reference.addUpTo(value);
          }
          expect(set.frontier).toBe(reference.frontier);
          expect(set.exceptionCount).toBe([...reference.members].filter((member) => member > reference.frontier).length);
        }
        for (let value = 1; value <= VALUE_MAX + 1; value++) expect(set.has(value)).toBe(reference.members.has(value));
      }),
      { seed: 7, numRuns: 500 },
    );
  });

  test('a sparse sequence keeps its single exception without a Set, and later ones in one', () => {
    const set = new FrontierSet();
    expect(set.add(523)).toBe(true);
    expect(set.add(523)).toBe(false);
    expect(set.exceptionCount).toBe(1);
    set.add(9);
    set.add(700);
    expect(set.exceptionCount).toBe(3);
    set.addUpTo(8);
    expect(set.frontier).toBe(9);
    expect(set.exceptionCount).toBe(2);
    set.addUpTo(600);
    expect(set.frontier).toBe(600);
    expect(set.has(700)).toBe(true);
    expect(set.has(699)).toBe(false);
    expect(set.exceptionCount).toBe(1);
  });
});
