/**
 * Network faults as plain data: a schedule the simulator applies to the messages between processes.
 * It can be written by hand, stored next to a seed, or generated; every field is validated with an
 * error that names the entry, the field, what was expected and what was given.
 *
 * Kinds so far:
 * - `slowLinks`: a message that `from` sends to `to` (to every process when `to` is absent) at a
 *   simulated time in `[fromMs, untilMs)` takes `extraMs` longer. Matching entries add up. Links stay
 *   FIFO, so messages sent after the window queue behind the delayed ones, as on a slow TCP link.
 */
import type { ProcessId } from '../core/ids.js';
import { UsageError } from '../core/invariant.js';

/** Messages `from` → `to` sent during `[fromMs, untilMs)` take `extraMs` more. */
export interface SlowLink {
  readonly from: ProcessId;
  /** The receiving process; every process when absent. */
  readonly to?: ProcessId;
  readonly extraMs: number;
  readonly fromMs: number;
  readonly untilMs: number;
}

/** Every fault of a run (more kinds will join `slowLinks`). */
export interface FaultSchedule {
  readonly slowLinks?: readonly SlowLink[];
}

const FAULT_KINDS = ['slowLinks'];
const SLOW_LINK_FIELDS = ['from', 'to', 'extraMs', 'fromMs', 'untilMs'];
const NS_PER_MS = 1_000_000;

/** Throws a {@link UsageError} naming the first impossible entry of `faults` for `n` processes. */
export function validateFaults(faults: FaultSchedule, n: number): void {
  if (typeof faults !== 'object' || faults === null || Array.isArray(faults)) {
    throw new UsageError(`faults must be an object such as { slowLinks: [...] } (got ${JSON.stringify(faults)})`);
  }
  for (const kind of Object.keys(faults)) {
    if (!FAULT_KINDS.includes(kind)) throw new UsageError(`unknown fault kind '${kind}'; accepted: ${FAULT_KINDS.join(', ')}`);
  }
  const slowLinks = faults.slowLinks ?? [];
  if (!Array.isArray(slowLinks)) throw new UsageError('faults.slowLinks must be an array of { from, to?, extraMs, fromMs, untilMs }');
  slowLinks.forEach((link: SlowLink, i: number) => {
    const where = `faults.slowLinks[${i}]`;
    if (typeof link !== 'object' || link === null) throw new UsageError(`${where} must be an object { from, to?, extraMs, fromMs, untilMs }`);
    for (const field of Object.keys(link)) {
      if (!SLOW_LINK_FIELDS.includes(field)) throw new UsageError(`${where} has unknown field '${field}'; accepted: ${SLOW_LINK_FIELDS.join(', ')}`);
    }
    const processId = (field: 'from' | 'to', value: unknown) => {
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > n) {
        throw new UsageError(`${where}.${field} must be a process id from 1 to ${n} (got ${String(value)})`);
      }
    };
    processId('from', link.from);
    if (link.to !== undefined) processId('to', link.to);
    const milliseconds = (field: 'extraMs' | 'fromMs' | 'untilMs', value: unknown) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new UsageError(`${where}.${field} must be a finite number of milliseconds ≥ 0 (got ${String(value)})`);
      }
    };
    milliseconds('extraMs', link.extraMs);
    milliseconds('fromMs', link.fromMs);
    milliseconds('untilMs', link.untilMs);
    if (!(link.untilMs > link.fromMs)) {
      throw new UsageError(`${where}: untilMs (${link.untilMs}) must be after fromMs (${link.fromMs})`);
    }
  });
}

/** The extra delay per link, ready for the simulator's send path. */
export class LinkFaults {
  /** windows[fromIndex * n + toIndex]: flat [fromNs, untilNs, extraNs, …]; absent when none. */
  private readonly windows: Array<number[] | undefined>;
  readonly any: boolean;

  constructor(
    faults: FaultSchedule,
    private readonly n: number,
  ) {
    validateFaults(faults, n);
    this.windows = new Array<number[] | undefined>(n * n).fill(undefined);
    const slowLinks = faults.slowLinks ?? [];
    for (const link of slowLinks) {
      const targets = link.to === undefined ? Array.from({ length: n }, (_, i) => i + 1) : [link.to];
      for (const to of targets) {
        const index = (link.from - 1) * n + (to - 1);
        const list = (this.windows[index] ??= []);
        list.push(Math.round(link.fromMs * NS_PER_MS), Math.round(link.untilMs * NS_PER_MS), Math.round(link.extraMs * NS_PER_MS));
      }
    }
    this.any = slowLinks.length > 0;
  }

  /** Extra nanoseconds for a message sent on link `fromIndex → toIndex` (0-based) at `nowNs`. */
  extraNs(fromIndex: number, toIndex: number, nowNs: number): number {
    const list = this.windows[fromIndex * this.n + toIndex];
    if (list === undefined) return 0;
    let extra = 0;
    for (let i = 0; i < list.length; i += 3) {
      if (nowNs >= list[i]! && nowNs < list[i + 1]!) extra += list[i + 2]!;
    }
    return extra;
  }
}
