/**
 * fast-check arbitraries for check cases: configurations (n ∈ {3, 5, 7}, a valid f), small
 * workloads with few keys and many conflicts, and fault schedules the protocol is expected to
 * survive. Every arbitrary draws raw numbers and maps them onto a valid case, so fast-check's own
 * shrinking (fewer fault entries, smaller numbers, n → 3) yields minimal cases that stay valid.
 *
 * Schedules: faults happen within the first {@link FAULT_WINDOW_MS} of simulated time (the safety
 * phase); the liveness phase follows (check/run-case.ts). What is generated depends on what the
 * protocol recovers from:
 * - always: duplication, reordering (extra delay that ignores FIFO) and slow links;
 * - with `messageLoss`: drops and partitions that heal;
 * - with `crashStop`: up to f crash-stops (liveness stays required), and a client timeout so that
 *   clients of a crashed process retry elsewhere;
 * - with `reconfiguration` too: removals of crashed or live processes from the configuration
 *   (explicit, at a time, by a given or any process) and removal after a suspicion of some length,
 *   with crashed and removed processes together at most f.
 */
import fc from 'fast-check';
import type { ProtocolName } from '../core/config.js';
import type { FaultTolerance } from '../core/process.js';
import type { Crash, FaultSchedule, MessageFault, Partition, Removal, SlowLink } from '../sim/faults.js';
import type { CheckCase } from './case.js';

/**
 * Faults start and end within this much simulated time; a case may stretch every fault time by
 * {@link WINDOW_SCALES} (up to 20 s of faults).
 */
export const FAULT_WINDOW_MS = 4000;
export const WINDOW_SCALES = [1, 1, 2, 5] as const;
/** Recovery timeouts a case draws from (ms), from below a WAN round trip to well above. */
export const RECOVERY_TIMEOUTS_MS = [50, 100, 200, 500, 500, 1000, 2000, 5000] as const;
/** Client timeouts a case draws from (ms), independently of the recovery timeout (so also below it). */
export const CLIENT_TIMEOUTS_MS = [100, 300, 500, 1000, 2000, 2000, 5000, 10_000] as const;
/** Garbage-collection periods a case draws from (ms). */
export const GC_INTERVALS_MS = [10, 50, 50, 200, 1000] as const;
/** The regions processes are placed in (any n of them, in any order). */
export const CHECK_REGIONS = [
  'us-east1',
  'europe-west2',
  'asia-southeast1',
  'us-west1',
  'southamerica-east1',
  'asia-northeast1',
  'australia-southeast1',
  'europe-north1',
] as const;
/** Largest n the configurations use; raw process ids range over 1..MAX_N and are folded onto 1..n. */
const MAX_N = 7;

/** What the generated schedules may contain. */
export interface ScheduleKinds {
  readonly crashes: boolean;
  readonly drops: boolean;
  readonly partitions: boolean;
  readonly removals: boolean;
}

/** The fault kinds a protocol with `tolerance` is checked under. */
export function scheduleKindsFor(tolerance: FaultTolerance | undefined): ScheduleKinds {
  return {
    crashes: tolerance?.crashStop === true,
    drops: tolerance?.messageLoss === true,
    partitions: tolerance?.messageLoss === true,
    removals: tolerance?.crashStop === true && tolerance.reconfiguration === true,
  };
}

/** A sentence for people: what a protocol's schedules are limited to, or undefined when unlimited. */
export function scheduleLimitNote(protocol: string, kinds: ScheduleKinds): string | undefined {
  if (kinds.crashes && kinds.drops && kinds.partitions) return undefined;
  const allowed = ['dup', 'reorder', 'slow links'];
  if (kinds.drops) allowed.push('drops');
  if (kinds.partitions) allowed.push('partitions');
  if (kinds.crashes) allowed.push('crashes');
  return `${protocol}: no recovery yet — schedules limited to ${allowed.join('/')}`;
}

const window = fc.record({ fromMs: fc.integer({ min: 0, max: FAULT_WINDOW_MS - 1 }), lengthMs: fc.integer({ min: 1, max: FAULT_WINDOW_MS }) });
const rawProcess = fc.integer({ min: 1, max: MAX_N });
/** A probability in steps of 5%, up to `max`. */
const probability = (max: number) => fc.integer({ min: 0, max: Math.round(max * 20) }).map((k) => k / 20);

interface RawSchedule {
  crashes: Array<{ process: number; atMs: number }>;
  messageFaults: Array<{ from: number | null; to: number | null; drop: number; duplicate: number; reorder: number; reorderMs: number; window: { fromMs: number; lengthMs: number } }>;
  partitions: Array<{ groupOf: number[]; window: { fromMs: number; lengthMs: number } }>;
  slowLinks: Array<{ from: number; to: number | null; extraMs: number; window: { fromMs: number; lengthMs: number } }>;
  removals: Array<{ process: number; atMs: number; by: number | null }>;
  removeAfterMs: number | null;
  /** 3: add the "isolate the leader, then its successor" template (see foldSchedule); else none (shrinks toward none). */
  template: { which: number; fromMs: number; firstMs: number; gapMs: number; secondMs: number };
}

/** Raw schedule material; {@link foldSchedule} maps it onto n processes. */
function rawSchedule(kinds: ScheduleKinds): fc.Arbitrary<RawSchedule> {
  return fc.record({
    crashes: kinds.crashes ? fc.array(fc.record({ process: rawProcess, atMs: fc.integer({ min: 0, max: FAULT_WINDOW_MS }) }), { maxLength: 3 }) : fc.constant([]),
    messageFaults: fc.array(
      fc.record({
        from: fc.option(rawProcess),
        to: fc.option(rawProcess),
        drop: kinds.drops ? probability(0.5) : fc.constant(0),
        duplicate: probability(0.5),
        reorder: probability(0.5),
        reorderMs: fc.integer({ min: 1, max: 300 }),
        window,
      }),
      { maxLength: 3 },
    ),
    partitions: kinds.partitions ? fc.array(fc.record({ groupOf: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: MAX_N, maxLength: MAX_N }), window }), { maxLength: 2 }) : fc.constant([]),
    slowLinks: fc.array(fc.record({ from: rawProcess, to: fc.option(rawProcess), extraMs: fc.integer({ min: 1, max: 500 }), window }), { maxLength: 2 }),
    // Each in about a third of the cases, so that most runs still keep their configuration (the
    // 'on' draw is the largest, so that shrinking turns them off).
    removals: kinds.removals
      ? fc
          .tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.record({ process: rawProcess, atMs: fc.integer({ min: 0, max: FAULT_WINDOW_MS }), by: fc.option(rawProcess) }), { minLength: 1, maxLength: 2 }))
          .map(([k, list]) => (k === 2 ? list : []))
      : fc.constant([]),
    template: fc.record({
      which: kinds.partitions ? fc.integer({ min: 0, max: 3 }) : fc.constant(0),
      fromMs: fc.integer({ min: 0, max: FAULT_WINDOW_MS / 2 }),
      firstMs: fc.integer({ min: 100, max: 1_500 }),
      gapMs: fc.integer({ min: 0, max: 500 }),
      secondMs: fc.integer({ min: 100, max: 1_500 }),
    }),
    removeAfterMs: kinds.removals ? fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 50, max: 3_000 })).map(([k, ms]) => (k === 2 ? ms : null)) : fc.constant(null),
  });
}

const fold = (p: number, n: number) => ((p - 1) % n) + 1;
const until = (w: { fromMs: number; lengthMs: number }) => Math.min(FAULT_WINDOW_MS, w.fromMs + w.lengthMs);

/** Maps raw material onto a valid schedule for n processes and f tolerated crashes. */
function foldSchedule(raw: RawSchedule, n: number, f: number, kinds: ScheduleKinds, clientTimeoutMs: number): FaultSchedule {
  const crashes: Crash[] = [];
  for (const crash of raw.crashes) {
    const process = fold(crash.process, n);
    if (crashes.length < f && !crashes.some((c) => c.process === process)) crashes.push({ process, atMs: crash.atMs });
  }
  const messageFaults: MessageFault[] = [];
  for (const m of raw.messageFaults) {
    if (m.drop === 0 && m.duplicate === 0 && m.reorder === 0) continue;
    const fromMs = Math.min(m.window.fromMs, FAULT_WINDOW_MS - 1);
    messageFaults.push({
      ...(m.from === null ? {} : { from: fold(m.from, n) }),
      ...(m.to === null ? {} : { to: fold(m.to, n) }),
      ...(m.drop > 0 ? { drop: m.drop } : {}),
      ...(m.duplicate > 0 ? { duplicate: m.duplicate } : {}),
      ...(m.reorder > 0 ? { reorder: m.reorder } : {}),
      ...(m.reorder > 0 || m.duplicate > 0 ? { reorderMs: m.reorderMs } : {}),
      fromMs,
      untilMs: Math.max(fromMs + 1, until(m.window)),
    });
  }
  const partitions: Partition[] = [];
  for (const p of raw.partitions) {
    const groups = new Map<number, number[]>();
    for (let process = 1; process <= n; process++) {
      const group = p.groupOf[process - 1]!;
      let members = groups.get(group);
      if (members === undefined) groups.set(group, (members = []));
      members.push(process);
    }
    if (groups.size < 2) continue; // everyone on one side: no partition
    const fromMs = Math.min(p.window.fromMs, FAULT_WINDOW_MS - 1);
    partitions.push({ groups: [...groups.keys()].sort().map((g) => groups.get(g)!), fromMs, untilMs: Math.max(fromMs + 1, until(p.window)) });
  }
  // Crashed and removed processes together stay within f: a removed process serves no one.
  const out = new Set(crashes.map((c) => c.process));
  const removals: Removal[] = [];
  for (const r of raw.removals) {
    const process = fold(r.process, n);
    if (!out.has(process) && out.size >= f) continue;
    out.add(process);
    const by = r.by === null ? undefined : fold(r.by, n);
    removals.push({ process, atMs: r.atMs, ...(by === undefined || by === process ? {} : { by }) });
  }
  // A template random draws rarely produce: isolate process 1 (FPaxos's leader, a coordinator like any
  // other for the leaderless protocols), then, right after it healed, process 2 (the follower that
  // takes over first): a new leader whose phase 1 must find what the old one got accepted.
  const t = raw.template;
  if (t.which === 3 && kinds.partitions) {
    const healMs = t.fromMs + t.firstMs;
    partitions.push({ groups: [[1]], fromMs: t.fromMs, untilMs: healMs });
    partitions.push({ groups: [[2]], fromMs: healMs + t.gapMs, untilMs: healMs + t.gapMs + t.secondMs });
  }
  const slowLinks: SlowLink[] = raw.slowLinks.map((s) => {
    const fromMs = Math.min(s.window.fromMs, FAULT_WINDOW_MS - 1);
    return { from: fold(s.from, n), ...(s.to === null ? {} : { to: fold(s.to, n) }), extraMs: s.extraMs, fromMs, untilMs: Math.max(fromMs + 1, until(s.window)) };
  });
  return {
    ...(crashes.length > 0 ? { crashes } : {}),
    ...(messageFaults.length > 0 ? { messageFaults } : {}),
    ...(partitions.length > 0 ? { partitions } : {}),
    ...(slowLinks.length > 0 ? { slowLinks } : {}),
    ...(removals.length > 0 ? { removals } : {}),
    ...(raw.removeAfterMs === null ? {} : { removeAfterMs: raw.removeAfterMs }),
    ...(kinds.crashes ? { clientTimeoutMs } : {}),
  };
}

export interface CaseArbitraryOptions {
  readonly protocol: ProtocolName;
  readonly kinds: ScheduleKinds;
  /** A fixed schedule (from a faults file) instead of generated ones; n is then at least its largest process id. */
  readonly faults?: FaultSchedule;
}

/**
 * Check cases for one protocol: configuration, workload and schedule. Swarm testing: every knob is
 * drawn per case from a wide range (n weighted toward 5 and 7, f toward 2 and more, recovery and
 * client timeouts independently — so the client timeout is often below the recovery timeout —, the
 * failure detector on or off and its delay, the garbage-collection period, conflicts, keys per
 * command 1–3, reads, short and long workloads, fault windows of 4 to 20 s), so that each run
 * explores a different corner instead of every run the same average one.
 */
export function caseArbitrary(options: CaseArbitraryOptions): fc.Arbitrary<CheckCase> {
  const minN = options.faults === undefined ? 3 : Math.max(3, largestProcessId(options.faults));
  const sizes = [3, 5, 5, 7, 7].filter((n) => n >= minN);
  if (sizes.length === 0) throw new RangeError(`the faults name process ${minN}; checks run with n ∈ {3, 5, 7}`);
  const pick = <T>(list: readonly T[]) => fc.integer({ min: 0, max: list.length - 1 }).map((i) => list[i]!);
  return fc
    .record({
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      nIndex: fc.integer({ min: 0, max: sizes.length - 1 }),
      fRaw: pick([1, 2, 2, 3, 3]),
      regions: fc.shuffledSubarray([...CHECK_REGIONS], { minLength: MAX_N, maxLength: MAX_N }),
      clientsPerRegion: fc.integer({ min: 1, max: 2 }),
      // Mostly short workloads; one case in six runs up to 100 commands per client.
      commandsPerClient: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 21, max: 100 })).map(([k, short, long]) => (k === 5 ? long : short)),
      conflictRate: pick([100, 50, 80, 10, 0]),
      sharedKeys: fc.integer({ min: 1, max: 3 }),
      readRatio: pick([30, 0, 60, 90]),
      keysPerCommand: pick([1, 1, 2, 3]),
      schedule: rawSchedule(options.kinds),
      windowScale: pick(WINDOW_SCALES),
      recoveryTimeoutMs: pick(RECOVERY_TIMEOUTS_MS),
      clientTimeoutMs: pick(CLIENT_TIMEOUTS_MS),
      gcIntervalMs: pick(GC_INTERVALS_MS),
      // Half the runs with a failure detector that suspects crashed processes (Process.suspect).
      detection: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: undefined }),
    })
    .map((raw): CheckCase => {
      const n = sizes[raw.nIndex]!;
      const f = Math.min(raw.fRaw, Math.floor((n - 1) / 2));
      return {
        protocol: options.protocol,
        seed: raw.seed,
        n,
        f,
        regions: raw.regions.slice(0, n),
        clientsPerRegion: raw.clientsPerRegion,
        commandsPerClient: raw.commandsPerClient,
        conflictRate: raw.conflictRate,
        sharedKeys: raw.sharedKeys,
        readRatio: raw.readRatio,
        keysPerCommand: raw.keysPerCommand,
        recoveryTimeoutMs: raw.recoveryTimeoutMs,
        faults: options.faults ?? scaleSchedule(foldSchedule(raw.schedule, n, f, options.kinds, raw.clientTimeoutMs), raw.windowScale),
        ...(raw.detection === undefined ? {} : { failureDetectionMs: raw.detection }),
        ...(raw.gcIntervalMs === 50 ? {} : { gcIntervalMs: raw.gcIntervalMs }),
      };
    });
}

/** Every fault time of `schedule` multiplied by `k` (windows and crash times; not the client timeout). */
function scaleSchedule(schedule: FaultSchedule, k: number): FaultSchedule {
  if (k === 1) return schedule;
  const w = <T extends { fromMs: number; untilMs: number }>(x: T): T => ({ ...x, fromMs: x.fromMs * k, untilMs: x.untilMs * k });
  return {
    ...schedule,
    ...(schedule.crashes === undefined ? {} : { crashes: schedule.crashes.map((c) => ({ ...c, atMs: c.atMs * k })) }),
    ...(schedule.removals === undefined ? {} : { removals: schedule.removals.map((r) => ({ ...r, atMs: r.atMs * k })) }),
    ...(schedule.messageFaults === undefined ? {} : { messageFaults: schedule.messageFaults.map(w) }),
    ...(schedule.partitions === undefined ? {} : { partitions: schedule.partitions.map(w) }),
    ...(schedule.slowLinks === undefined ? {} : { slowLinks: schedule.slowLinks.map(w) }),
  };
}

function largestProcessId(faults: FaultSchedule): number {
  let largest = 0;
  for (const c of faults.crashes ?? []) largest = Math.max(largest, c.process);
  for (const r of faults.removals ?? []) largest = Math.max(largest, r.process, r.by ?? 0);
  for (const m of faults.messageFaults ?? []) largest = Math.max(largest, m.from ?? 0, m.to ?? 0);
  for (const s of faults.slowLinks ?? []) largest = Math.max(largest, s.from, s.to ?? 0);
  for (const p of faults.partitions ?? []) for (const g of p.groups) for (const member of g) largest = Math.max(largest, member);
  return largest;
}
