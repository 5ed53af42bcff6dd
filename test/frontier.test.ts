import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FrontierMap, FrontierSet } from '../core/frontier.js';

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

describe('FrontierMap against one FrontierSet per source', () => {
  // Small values and few sources, adds far more often than sets taken out, so that the compact
  // states (frontier only; one member above frontier 0) and every way out of them come up often.
  const step = fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('add' as const), source: fc.integer({ min: 1, max: 2 }), value: fc.integer({ min: 1, max: 5 }) }), weight: 6 },
    { arbitrary: fc.record({ kind: fc.constant('set' as const), source: fc.integer({ min: 1, max: 2 }), value: fc.integer({ min: 0, max: 5 }) }), weight: 1 },
  );

  test('same answers, members and frontiers, also when a caller takes a set out and adds to it', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const map = new FrontierMap();
        const reference = new Map<number, FrontierSet>();
        const referenceSet = (source: number) => {
          let set = reference.get(source);
          if (set === undefined) reference.set(source, (set = new FrontierSet()));
          return set;
        };
        for (const { kind, source, value } of steps) {
          if (kind === 'add') expect(map.add(source, value)).toBe(referenceSet(source).add(value));
          else {
            // `set(source)` hands out the live set: adding through it must show in the map.
            const taken = map.set(source);
            expect(taken.frontier).toBe(referenceSet(source).frontier);
            taken.addUpTo(value);
            referenceSet(source).addUpTo(value);
          }
          for (let s = 1; s <= 2; s++) for (let v = 1; v <= 6; v++) expect(map.has(s, v)).toBe(reference.get(s)?.has(v) ?? false);
        }
        expect(map.frontiers()).toEqual([...reference].map(([s, set]) => [s, set.frontier]).sort((a, b) => a[0]! - b[0]!));
      }),
      { seed: 11, numRuns: 1000 },
    );
  });
});
