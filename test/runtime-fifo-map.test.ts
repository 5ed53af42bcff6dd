import { describe, expect, test } from 'vitest';
import { FifoMap } from '../runtime/fifo-map.js';

describe('FifoMap: a bounded map that evicts the oldest insertion', () => {
  test('past its limit a new key evicts the oldest live entry; updating a key keeps its place', () => {
    const map = new FifoMap<number, string>(3);
    map.set(1, 'a');
    map.set(2, 'b');
    map.set(3, 'c');
    map.set(1, 'a2'); // an update, not a new key
    map.set(4, 'd');
    expect([map.has(1), map.has(2), map.has(3), map.has(4), map.size]).toEqual([false, true, true, true, 3]);
    map.delete(3);
    map.set(5, 'e'); // room left by the delete: nothing evicted
    expect([map.get(2), map.get(4), map.get(5), map.size]).toEqual(['b', 'd', 'e', 3]);
    map.set(6, 'f'); // the oldest live one is 2 (3 was deleted by hand)
    expect([map.has(2), map.get(4), map.get(5), map.get(6)]).toEqual([false, 'd', 'e', 'f']);
  });

  test('agrees with a plain reference under random inserts, updates and deletes', () => {
    let seed = 7;
    const random = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % below;
    };
    const limit = 50;
    const map = new FifoMap<number, number>(limit);
    const reference: Array<[number, number]> = [];
    for (let step = 0; step < 20_000; step++) {
      const key = random(400);
      if (random(4) === 0) {
        map.delete(key);
        const at = reference.findIndex(([k]) => k === key);
        if (at >= 0) reference.splice(at, 1);
        continue;
      }
      map.set(key, step);
      const at = reference.findIndex(([k]) => k === key);
      if (at >= 0) reference[at] = [key, step];
      else {
        if (reference.length >= limit) reference.shift();
        reference.push([key, step]);
      }
      expect(map.size).toBe(reference.length);
    }
    for (const [key, value] of reference) expect(map.get(key)).toBe(value);
  });
});
