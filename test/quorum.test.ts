import { describe, expect, test } from 'vitest';
import {
  closestQuorum,
  epaxosFastQuorumSize,
  epaxosOptimizedFastQuorumSize,
  epaxosSlowQuorumSize,
  fastPathThreshold,
  leaderlessFastQuorumSize,
  majority,
  phase1QuorumSize,
  sortByDistance,
  writeQuorumSize,
} from '../core/quorum.js';

describe('quorum arithmetic (PROTOCOLS.md §1.3)', () => {
  test('EPaxos fast (2F, the simple quorum recovery needs) and slow quorums for odd n', () => {
    const ns = [3, 5, 7, 9, 11, 13, 15, 17];
    expect(ns.map(epaxosFastQuorumSize)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(ns.map(epaxosSlowQuorumSize)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // Every fast quorum leaves out one process, so F+1 recovery replies without the coordinator hold
    // at least F = ⌊n/2⌋ fast-quorum members: recovery rule 3's threshold.
    for (const n of ns) expect(epaxosSlowQuorumSize(n) - (n - epaxosFastQuorumSize(n))).toBe(Math.floor(n / 2));
  });

  test('the optimized EPaxos quorum (not run; PROTOCOLS.md §1.3) uses the formula, not ⌊3n/4⌋, for even n', () => {
    expect([3, 5, 7, 9, 11, 13, 15, 17].map(epaxosOptimizedFastQuorumSize)).toEqual([2, 3, 5, 6, 8, 9, 11, 12]);
    expect(epaxosOptimizedFastQuorumSize(6)).toBe(5);
    expect(Math.floor((3 * 6) / 4)).toBe(4);
    expect(epaxosFastQuorumSize(6)).toBe(6);
  });

  test('Atlas/Tempo worked examples', () => {
    expect(leaderlessFastQuorumSize(5, 2)).toBe(4);
    expect(writeQuorumSize(2)).toBe(3);
    expect(phase1QuorumSize(5, 2)).toBe(3);
    expect(leaderlessFastQuorumSize(7, 2)).toBe(5);
    expect(phase1QuorumSize(7, 2)).toBe(5);
    expect(majority(7)).toBe(4);
  });

  test('fast-path threshold equals f for the standard fast quorum', () => {
    for (const n of [3, 5, 7, 9]) {
      for (let f = 1; f <= Math.floor((n - 1) / 2); f++) {
        expect(fastPathThreshold(n, leaderlessFastQuorumSize(n, f))).toBe(f);
      }
    }
  });

  test('every phase-1 quorum meets every phase-2 quorum: (n−f) + (f+1) > n', () => {
    for (let n = 3; n <= 15; n++) {
      for (let f = 1; f <= Math.floor((n - 1) / 2); f++) {
        expect(phase1QuorumSize(n, f) + writeQuorumSize(f)).toBeGreaterThan(n);
      }
    }
  });

  test('sortByDistance puts self first and breaks distance ties by id', () => {
    const distance: Record<number, number> = { 1: 5, 2: 0, 3: 5, 4: 1, 5: 0 };
    // Process 2 shares its region with 5 (distance 0); it still comes first.
    expect(sortByDistance(2, [1, 2, 3, 4, 5], (p) => distance[p]!)).toEqual([2, 5, 4, 1, 3]);
    expect(sortByDistance(5, [1, 2, 3, 4, 5], (p) => distance[p]!)).toEqual([5, 2, 4, 1, 3]);
    expect(closestQuorum([2, 5, 4, 1, 3], 3)).toEqual([2, 5, 4]);
    expect(() => closestQuorum([1, 2], 3)).toThrow(/quorum of 3/);
  });
});
