/**
 * The one source of randomness: seeded (seedrandom's Alea), so that every run replays from its seed.
 */
import seedrandom from 'seedrandom';
import { invariant } from './invariant.js';

export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(readonly seed: string | number) {
    this.prng = seedrandom.alea(String(seed));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform integer in [0, bound). */
  int(bound: number): number {
    invariant(Number.isInteger(bound) && bound > 0, () => `Rng.int bound must be a positive integer (got ${bound})`);
    return Math.floor(this.prng() * bound);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.prng() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    invariant(items.length > 0, 'Rng.pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** An independent generator derived from this one's seed and a label (stable across runs). */
  fork(label: string): Rng {
    return new Rng(`${String(this.seed)}/${label}`);
  }
}
