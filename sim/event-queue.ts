/**
 * The simulator's event queue: a binary min-heap ordered by (time, insertion sequence). Ties never
 * depend on heap internals, so two runs from the same seed pop events in the same order — unlike a
 * heap ordered by time alone, whose tie order depends on its history.
 */
import { invariant } from '../core/invariant.js';

/** Anything schedulable; the queue assigns `seq` on push. */
export interface Scheduled {
  time: number;
  seq: number;
}

export class EventQueue<T extends Scheduled> {
  private readonly heap: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `event` at `event.time`, after every event already scheduled at that same time. */
  push(event: T): void {
    invariant(Number.isFinite(event.time), () => `event time must be finite (got ${event.time})`);
    event.seq = this.nextSeq++;
    const heap = this.heap;
    let index = heap.length;
    heap.push(event);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!before(event, parent)) break;
      heap[index] = parent;
      index = parentIndex;
    }
    heap[index] = event;
  }

  /** The earliest event without removing it. */
  peek(): T | undefined {
    return this.heap[0];
  }

  /** Removes and returns the earliest event (ties: the one pushed first). */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    const size = heap.length;
    if (size === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= size) break;
      const right = left + 1;
      let child = left;
      if (right < size && before(heap[right]!, heap[left]!)) child = right;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
