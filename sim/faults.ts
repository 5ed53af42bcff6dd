/**
 * Faults as plain data: a schedule the simulator applies to a run. It can be written by hand (JSON),
 * stored next to a seed, or generated (check/arbitraries.ts); every field is validated with an error
 * that names the entry, the field, what was expected and what was given.
 *
 * Kinds (every time window is `[fromMs, untilMs)` of simulated time; a message is judged at the
 * instant it is sent):
 * - `slowLinks`: a message that `from` sends to `to` (to every process when `to` is absent) takes
 *   `extraMs` longer. Matching entries add up. Links stay FIFO, so messages sent after the window
 *   queue behind the delayed ones, as on a slow TCP link.
 * - `messageFaults`: on the link `from → to` (any sender / any receiver when absent), a message is
 *   dropped with probability `drop`, delivered twice with probability `duplicate`, and delayed by an
 *   extra uniform [0, `reorderMs`] that ignores the link's FIFO order with probability `reorder`.
 *   Matching entries combine as independent events (1 − Π(1 − p)). Draws come from a generator
 *   forked from the seed for faults alone, so adding faults never changes what clients submit.
 * - `partitions`: during the window, messages between processes of different groups are dropped.
 *   Processes listed in no group form one more group together (`{ groups: [[1]] }` isolates 1).
 * - `crashes`: process `process` stops at `atMs` (crash-stop): it receives nothing, sends nothing,
 *   its timers stop, and clients' requests to it go unanswered. Messages already on the wire still
 *   arrive. `restartAtMs` (crash-restart) is accepted by the format but refused by the simulator for
 *   protocols that do not declare support for it.
 * - `removals`: at `atMs`, process `by` (the lowest-numbered other process that has not crashed when
 *   absent) asks the membership service to remove process `process` from the configuration
 *   (docs/reconfiguration.md). The change is agreed by the members like any other; it is refused when
 *   fewer than n − f members would remain.
 * - `removeAfterMs`: every process asks for the removal of a process it has suspected for this long
 *   (with the failure detector of `orrery sim --failure-detection-ms`).
 * - `clientTimeoutMs`: a client that has no reply this long after sending a command sends the very
 *   same command (same rifl) to the next process in its distance order, cycling through all of them.
 *
 * Self-addressed messages never cross the network (the Replica delivers them), and the links between
 * clients and processes are reliable: client-side failures are modelled by the timeout alone.
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

/** Drop, duplication and reordering probabilities on matching links during a window. */
export interface MessageFault {
  /** The sender; every process when absent. */
  readonly from?: ProcessId;
  /** The receiver; every process when absent. */
  readonly to?: ProcessId;
  /** Probability in [0, 1] that a message is lost. */
  readonly drop?: number;
  /** Probability in [0, 1] that a message is delivered twice. */
  readonly duplicate?: number;
  /** Probability in [0, 1] that a message gets an extra delay that ignores FIFO order. */
  readonly reorder?: number;
  /** Largest extra delay of a reordered (or duplicated) message [default 100]. */
  readonly reorderMs?: number;
  readonly fromMs: number;
  readonly untilMs: number;
}

/** Messages between different groups are dropped during `[fromMs, untilMs)`. */
export interface Partition {
  readonly groups: readonly (readonly ProcessId[])[];
  readonly fromMs: number;
  readonly untilMs: number;
}

/** Process `process` stops at `atMs`; with `restartAtMs`, it comes back then (crash-restart). */
export interface Crash {
  readonly process: ProcessId;
  readonly atMs: number;
  readonly restartAtMs?: number;
}

/** At `atMs`, process `by` asks for `process` to leave the configuration. */
export interface Removal {
  readonly process: ProcessId;
  readonly atMs: number;
  readonly by?: ProcessId;
}

/** Every fault of a run. */
export interface FaultSchedule {
  /** Explicit membership changes (they need the membership service, which they turn on). */
  readonly removals?: readonly Removal[];
  /** Processes ask to remove a process they suspected this long (turns the membership service on). */
  readonly removeAfterMs?: number;
  readonly slowLinks?: readonly SlowLink[];
  readonly messageFaults?: readonly MessageFault[];
  readonly partitions?: readonly Partition[];
  readonly crashes?: readonly Crash[];
  /** Clients retry a command at another process after this many milliseconds without a reply. */
  readonly clientTimeoutMs?: number;
}

export const FAULT_KINDS = ['slowLinks', 'messageFaults', 'partitions', 'crashes', 'removals', 'removeAfterMs', 'clientTimeoutMs'] as const;
const SLOW_LINK_FIELDS = ['from', 'to', 'extraMs', 'fromMs', 'untilMs'];
const MESSAGE_FAULT_FIELDS = ['from', 'to', 'drop', 'duplicate', 'reorder', 'reorderMs', 'fromMs', 'untilMs'];
const PARTITION_FIELDS = ['groups', 'fromMs', 'untilMs'];
const CRASH_FIELDS = ['process', 'atMs', 'restartAtMs'];
const REMOVAL_FIELDS = ['process', 'atMs', 'by'];
const NS_PER_MS = 1_000_000;
/** Default largest extra delay of a reordered message. */
export const REORDER_MS_DEFAULT = 100;
/** Limit on entries of each kind: schedules are for people and shrinkers, not bulk data. */
export const FAULT_ENTRIES_MAX = 1000;

/** Throws a {@link UsageError} naming the first impossible entry of `faults` for `n` processes. */
export function validateFaults(faults: FaultSchedule, n: number): void {
  if (typeof faults !== 'object' || faults === null || Array.isArray(faults)) {
    throw new UsageError(`faults must be an object such as { "crashes": [...] } (got ${JSON.stringify(faults)}); accepted keys: ${FAULT_KINDS.join(', ')}`);
  }
  for (const kind of Object.keys(faults)) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown fault kind '${kind}'; accepted: ${FAULT_KINDS.join(', ')}`);
  }
  const list = <T>(kind: string, shape: string): readonly T[] => {
    const value = (faults as Record<string, unknown>)[kind] ?? [];
    if (!Array.isArray(value)) throw new UsageError(`faults.${kind} must be an array of ${shape} (got ${JSON.stringify(value)})`);
    if (value.length > FAULT_ENTRIES_MAX) throw new UsageError(`faults.${kind} has ${value.length} entries; the limit is ${FAULT_ENTRIES_MAX}`);
    value.forEach((entry, i) => {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`faults.${kind}[${i}] must be an object ${shape}`);
    });
    return value as T[];
  };
  const fields = (where: string, entry: object, accepted: readonly string[]) => {
    for (const field of Object.keys(entry)) {
      if (!accepted.includes(field)) throw new UsageError(`${where} has unknown field '${field}'; accepted: ${accepted.join(', ')}`);
    }
  };
  const processId = (where: string, value: unknown) => {
    if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > n) {
      throw new UsageError(`${where} must be a process id from 1 to ${n} (got ${JSON.stringify(value)})`);
    }
  };
  const milliseconds = (where: string, value: unknown) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new UsageError(`${where} must be a finite number of milliseconds ≥ 0 (got ${JSON.stringify(value)})`);
    }
  };
  const probability = (where: string, value: unknown) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw new UsageError(`${where} must be a probability from 0 to 1 (got ${JSON.stringify(value)})`);
  };
  const window = (where: string, entry: { fromMs: number; untilMs: number }) => {
    milliseconds(`${where}.fromMs`, entry.fromMs);
    milliseconds(`${where}.untilMs`, entry.untilMs);
    if (!(entry.untilMs > entry.fromMs)) throw new UsageError(`${where}: untilMs (${entry.untilMs}) must be after fromMs (${entry.fromMs})`);
  };

  list<SlowLink>('slowLinks', '{ from, to?, extraMs, fromMs, untilMs }').forEach((link, i) => {
    const where = `faults.slowLinks[${i}]`;
    fields(where, link, SLOW_LINK_FIELDS);
    processId(`${where}.from`, link.from);
    if (link.to !== undefined) processId(`${where}.to`, link.to);
    milliseconds(`${where}.extraMs`, link.extraMs);
    window(where, link);
  });
  list<MessageFault>('messageFaults', '{ from?, to?, drop?, duplicate?, reorder?, reorderMs?, fromMs, untilMs }').forEach((fault, i) => {
    const where = `faults.messageFaults[${i}]`;
    fields(where, fault, MESSAGE_FAULT_FIELDS);
    if (fault.from !== undefined) processId(`${where}.from`, fault.from);
    if (fault.to !== undefined) processId(`${where}.to`, fault.to);
    probability(`${where}.drop`, fault.drop);
    probability(`${where}.duplicate`, fault.duplicate);
    probability(`${where}.reorder`, fault.reorder);
    if (fault.reorderMs !== undefined) milliseconds(`${where}.reorderMs`, fault.reorderMs);
    window(where, fault);
  });
  list<Partition>('partitions', '{ groups: [[process, …], …], fromMs, untilMs }').forEach((partition, i) => {
    const where = `faults.partitions[${i}]`;
    fields(where, partition, PARTITION_FIELDS);
    if (!Array.isArray(partition.groups) || partition.groups.length === 0) {
      throw new UsageError(`${where}.groups must be a non-empty array of process-id arrays such as [[1], [2, 3]] (got ${JSON.stringify(partition.groups)})`);
    }
    const seen = new Set<number>();
    partition.groups.forEach((group, g) => {
      if (!Array.isArray(group) || group.length === 0) throw new UsageError(`${where}.groups[${g}] must be a non-empty array of process ids (got ${JSON.stringify(group)})`);
      group.forEach((member, m) => {
        processId(`${where}.groups[${g}][${m}]`, member);
        if (seen.has(member)) throw new UsageError(`${where}: process ${member} is in two groups; a process belongs to one group`);
        seen.add(member);
      });
    });
    window(where, partition);
  });
  const crashed = new Set<number>();
  list<Crash>('crashes', '{ process, atMs, restartAtMs? }').forEach((crash, i) => {
    const where = `faults.crashes[${i}]`;
    fields(where, crash, CRASH_FIELDS);
    processId(`${where}.process`, crash.process);
    if (crashed.has(crash.process)) throw new UsageError(`${where}: process ${crash.process} crashes twice; give one crash per process`);
    crashed.add(crash.process);
    milliseconds(`${where}.atMs`, crash.atMs);
    if (crash.restartAtMs !== undefined) {
      milliseconds(`${where}.restartAtMs`, crash.restartAtMs);
      if (!(crash.restartAtMs > crash.atMs)) throw new UsageError(`${where}: restartAtMs (${crash.restartAtMs}) must be after atMs (${crash.atMs})`);
    }
  });
  list<Removal>('removals', '{ process, atMs, by? }').forEach((removal, i) => {
    const where = `faults.removals[${i}]`;
    fields(where, removal, REMOVAL_FIELDS);
    processId(`${where}.process`, removal.process);
    milliseconds(`${where}.atMs`, removal.atMs);
    if (removal.by !== undefined) {
      processId(`${where}.by`, removal.by);
      if (removal.by === removal.process) throw new UsageError(`${where}: a process cannot ask for its own removal (by = process = ${removal.by})`);
    }
  });
  if (faults.removeAfterMs !== undefined) {
    const value: unknown = faults.removeAfterMs;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new UsageError(`faults.removeAfterMs must be a positive number of milliseconds (got ${JSON.stringify(value)})`);
    }
  }
  if (faults.clientTimeoutMs !== undefined) {
    const value: unknown = faults.clientTimeoutMs;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new UsageError(`faults.clientTimeoutMs must be a positive number of milliseconds (got ${JSON.stringify(value)})`);
    }
  }
}

/** True when the schedule changes the configuration, so the run needs the membership service. */
export function usesMembership(faults: FaultSchedule | undefined): boolean {
  return faults !== undefined && ((faults.removals?.length ?? 0) > 0 || faults.removeAfterMs !== undefined);
}

/** When every fault is over: the end of the last window or crash time (0 for no faults). */
export function healTimeMs(faults: FaultSchedule): number {
  let heal = 0;
  for (const entry of [...(faults.slowLinks ?? []), ...(faults.messageFaults ?? []), ...(faults.partitions ?? [])]) heal = Math.max(heal, entry.untilMs);
  for (const crash of faults.crashes ?? []) heal = Math.max(heal, crash.restartAtMs ?? crash.atMs);
  for (const removal of faults.removals ?? []) heal = Math.max(heal, removal.atMs);
  return heal;
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

/** The combined fate probabilities of a message (all zero when no entry matches). */
export interface MessageFate {
  drop: number;
  duplicate: number;
  reorder: number;
  reorderNs: number;
}

/** Drop/duplicate/reorder entries and partitions, indexed per link for the send path. */
export class MessageFaults {
  /** entries[fromIndex * n + toIndex]: the message faults that can match the link. */
  private readonly entries: Array<MessageFault[] | undefined>;
  private readonly partitions: ReadonlyArray<{ fromNs: number; untilNs: number; groupOf: Int32Array }>;
  /** True when any drop, duplicate, reorder or partition entry exists. */
  readonly any: boolean;
  private readonly fate: MessageFate = { drop: 0, duplicate: 0, reorder: 0, reorderNs: 0 };

  constructor(
    faults: FaultSchedule,
    private readonly n: number,
  ) {
    validateFaults(faults, n);
    this.entries = new Array<MessageFault[] | undefined>(n * n).fill(undefined);
    const messageFaults = faults.messageFaults ?? [];
    for (const fault of messageFaults) {
      for (let from = 1; from <= n; from++) {
        if (fault.from !== undefined && fault.from !== from) continue;
        for (let to = 1; to <= n; to++) {
          if (from === to || (fault.to !== undefined && fault.to !== to)) continue;
          (this.entries[(from - 1) * n + (to - 1)] ??= []).push(fault);
        }
      }
    }
    this.partitions = (faults.partitions ?? []).map((partition) => {
      // Group 0 holds every process listed in no group.
      const groupOf = new Int32Array(n);
      partition.groups.forEach((group, g) => {
        for (const member of group) groupOf[member - 1] = g + 1;
      });
      return { fromNs: Math.round(partition.fromMs * NS_PER_MS), untilNs: Math.round(partition.untilMs * NS_PER_MS), groupOf };
    });
    this.any = messageFaults.length > 0 || this.partitions.length > 0;
  }

  /** True when a partition separates `fromIndex` and `toIndex` (0-based) at `nowNs`. */
  partitioned(fromIndex: number, toIndex: number, nowNs: number): boolean {
    for (const partition of this.partitions) {
      if (nowNs < partition.fromNs || nowNs >= partition.untilNs) continue;
      if (partition.groupOf[fromIndex] !== partition.groupOf[toIndex]) return true;
    }
    return false;
  }

  /** The fate probabilities for a message on `fromIndex → toIndex` sent at `nowNs` (reused object). */
  fateOf(fromIndex: number, toIndex: number, nowNs: number): MessageFate {
    const fate = this.fate;
    let keep = 1;
    let single = 1;
    let inOrder = 1;
    let reorderNs = 0;
    const list = this.entries[fromIndex * this.n + toIndex];
    if (list !== undefined) {
      const nowMs = nowNs / NS_PER_MS;
      for (const fault of list) {
        if (nowMs < fault.fromMs || nowMs >= fault.untilMs) continue;
        keep *= 1 - (fault.drop ?? 0);
        single *= 1 - (fault.duplicate ?? 0);
        inOrder *= 1 - (fault.reorder ?? 0);
        if ((fault.reorder ?? 0) > 0 || (fault.duplicate ?? 0) > 0) {
          reorderNs = Math.max(reorderNs, Math.round((fault.reorderMs ?? REORDER_MS_DEFAULT) * NS_PER_MS));
        }
      }
    }
    fate.drop = 1 - keep;
    fate.duplicate = 1 - single;
    fate.reorder = 1 - inOrder;
    fate.reorderNs = reorderNs;
    return fate;
  }
}

/** Parses a faults file's text; errors name the file. */
export function parseFaults(text: string, file: string, n: number): FaultSchedule {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message}); a faults file is one JSON object with keys ${FAULT_KINDS.join(', ')}`);
  }
  try {
    validateFaults(parsed as FaultSchedule, n);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  return parsed as FaultSchedule;
}
