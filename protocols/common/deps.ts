/**
 * Dependency sets as messages carry them: plain arrays of dots, sorted ascending, without duplicates.
 * Sorted arrays survive JSON unchanged, compare in one pass and merge in linear time.
 */
import type { Dot } from '../../core/ids.js';

/** True when the two sorted dependency arrays hold the same dots. */
export function sameDeps(a: readonly Dot[], b: readonly Dot[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The union of two sorted dependency arrays; returns one of the inputs when the other adds nothing. */
export function unionDeps(a: readonly Dot[], b: readonly Dot[]): readonly Dot[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const merged: Dot[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) {
      merged.push(x);
      i++;
    } else if (y < x) {
      merged.push(y);
      j++;
    } else {
      merged.push(x);
      i++;
      j++;
    }
  }
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  if (merged.length === a.length) return a;
  if (merged.length === b.length) return b;
  return merged;
}

/** Sorts `dots` ascending and removes duplicates, in place. */
export function sortUniqueDeps(dots: Dot[]): Dot[] {
  dots.sort(ascending);
  let kept = 0;
  for (let i = 0; i < dots.length; i++) {
    if (i === 0 || dots[i] !== dots[kept - 1]) dots[kept++] = dots[i]!;
  }
  dots.length = kept;
  return dots;
}

/** `deps` without the dots `drop` selects; returns `deps` itself when nothing is dropped. */
export function withoutDeps(deps: readonly Dot[], drop: (dot: Dot) => boolean): readonly Dot[] {
  let first = -1;
  for (let i = 0; i < deps.length; i++) {
    if (drop(deps[i]!)) {
      first = i;
      break;
    }
  }
  if (first < 0) return deps;
  const kept = deps.slice(0, first);
  for (let i = first + 1; i < deps.length; i++) if (!drop(deps[i]!)) kept.push(deps[i]!);
  return kept;
}

function ascending(a: number, b: number): number {
  return a - b;
}
