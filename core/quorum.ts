/**
 * Quorum arithmetic, in one place (PROTOCOLS.md §1.3, §1.4).
 *
 * | Protocol | Fast quorum        | Slow / phase-2 | Phase-1 / recovery |
 * |----------|--------------------|----------------|--------------------|
 * | FPaxos   | none               | f+1            | n−f                |
 * | EPaxos   | 2F, F=⌊n/2⌋        | F+1            | F+1                |
 * | Atlas    | ⌊n/2⌋ + f          | f+1            | n−f                |
 * | Tempo    | ⌊n/2⌋ + f          | f+1            | n−f                |
 */
import type { ProcessId } from './ids.js';
import { invariant } from './invariant.js';

/** Number of processes that may fail while EPaxos stays safe and live: F = ⌊n/2⌋. */
export function epaxosMaxFaults(n: number): number {
  return Math.floor(n / 2);
}

/**
 * EPaxos's fast quorum as Orrery runs it: the paper's simple 2F (n − 1 for odd n), coordinator
 * included. Its recovery needs only rules 1–5 of the explicit prepare (PROTOCOLS.md §7.2); the
 * optimized quorum ({@link epaxosOptimizedFastQuorumSize}) would need TryPreAccept
 * (docs/epaxos-recovery.md).
 */
export function epaxosFastQuorumSize(n: number): number {
  return 2 * epaxosMaxFaults(n);
}

/**
 * The paper's optimized fast quorum F + ⌊(F+1)/2⌋ (equals ⌊3n/4⌋ for odd n, not for all even n), as in
 * fantoch, which has no recovery. Orrery runs it only when a configuration asks for it
 * (`epaxosFastQuorum: 'optimized'`, fault-free runs), e.g. to compare with published latencies.
 */
export function epaxosOptimizedFastQuorumSize(n: number): number {
  const F = epaxosMaxFaults(n);
  return F + Math.floor((F + 1) / 2);
}

/** The EPaxos fast-quorum size a configuration asks for (`simple` 2F or the paper's `optimized`). */
export function epaxosConfiguredFastQuorumSize(config: { readonly n: number; readonly epaxosFastQuorum: 'simple' | 'optimized' }): number {
  return config.epaxosFastQuorum === 'optimized' ? epaxosOptimizedFastQuorumSize(config.n) : epaxosFastQuorumSize(config.n);
}

/** EPaxos's slow (Accept) quorum F + 1. */
export function epaxosSlowQuorumSize(n: number): number {
  return epaxosMaxFaults(n) + 1;
}

/** Atlas's and Tempo's fast quorum ⌊n/2⌋ + f, coordinator included. */
export function leaderlessFastQuorumSize(n: number, f: number): number {
  return Math.floor(n / 2) + f;
}

/**
 * Fast-path threshold of Atlas and Tempo: |fastQuorum| − ⌊n/2⌋, which is f for the standard quorum.
 * Atlas: every dependency reported at least this many times. Tempo: the highest proposal made by at
 * least this many processes.
 */
export function fastPathThreshold(n: number, fastQuorumSize: number): number {
  return fastQuorumSize - Math.floor(n / 2);
}

/** Flexible Paxos phase-2 (and slow-path) quorum f + 1. */
export function writeQuorumSize(f: number): number {
  return f + 1;
}

/** Flexible Paxos phase-1 (and recovery) quorum n − f; it intersects every (f+1)-quorum. */
export function phase1QuorumSize(n: number, f: number): number {
  return n - f;
}

/** Tempo's stability threshold ⌊n/2⌋ + 1: a timestamp is stable once a majority voted up to it. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The `size` closest processes to a process, given all processes sorted by distance from it
 * (itself first, as {@link sortByDistance} returns). The process is always in its own quorums.
 */
export function closestQuorum(sortedByDistance: readonly ProcessId[], size: number): ProcessId[] {
  invariant(size >= 1 && size <= sortedByDistance.length, () => `quorum of ${size} from ${sortedByDistance.length} processes`);
  return sortedByDistance.slice(0, size);
}

/**
 * A process's fast and write quorums, the closest processes first and suspected ones last (the
 * host's failure detector, Process.suspect, or a protocol's own evidence such as FPaxos's
 * unanswered phase-2 rounds): a suspected process fills in only when too few others
 * remain, so a crashed process stops holding up every command whose quorum it was in. Any quorum of
 * the right size is a valid choice, and the choice travels with each command (its messages carry
 * the quorum), so a change applies to commands proposed from then on.
 */
export class QuorumChoice {
  private byDistance: readonly ProcessId[] = [];
  private readonly suspected = new Set<ProcessId>();
  /** Processes the configuration removed (core/membership.ts): after the suspects, never trusted. */
  private readonly removed = new Set<ProcessId>();
  fast: readonly ProcessId[] = [];
  write: readonly ProcessId[] = [];
  /**
   * True when fewer processes are trusted (neither suspected nor removed) than the fast quorum
   * holds: a fast quorum cannot answer, so a coordinator takes the path that completes with a
   * majority instead of waiting for a recovery (docs/reconfiguration.md, "Degraded mode").
   */
  degraded = false;

  constructor(
    private readonly self: ProcessId,
    private readonly fastSize: number,
    private readonly writeSize: number,
  ) {}

  discover(sortedByDistance: readonly ProcessId[]): void {
    this.byDistance = sortedByDistance;
    this.choose();
  }

  /** Returns true when the quorums changed. */
  suspect(process: ProcessId): boolean {
    if (process === this.self || this.suspected.has(process)) return false;
    this.suspected.add(process);
    return this.choose();
  }

  /** Suspects exactly `processes` from now on (never this process itself); returns true when the quorums changed. */
  suspectOnly(processes: Iterable<ProcessId>): boolean {
    this.suspected.clear();
    for (const p of processes) if (p !== this.self) this.suspected.add(p);
    return this.choose();
  }

  /** True while `process` is suspected, or once the configuration removed it. */
  suspects(process: ProcessId): boolean {
    return this.suspected.has(process) || this.removed.has(process);
  }

  /** The configuration is now `members`; returns true when the quorums changed. */
  setMembers(members: readonly ProcessId[]): boolean {
    this.removed.clear();
    for (const p of this.byDistance) if (!members.includes(p)) this.removed.add(p);
    return this.choose();
  }

  unsuspect(process: ProcessId): boolean {
    return this.suspected.delete(process) && this.choose();
  }

  private choose(): boolean {
    const removed = this.removed;
    const suspectedMember = (p: ProcessId) => this.suspected.has(p) && !removed.has(p);
    const trusted = this.byDistance.filter((p) => !this.suspected.has(p) && !removed.has(p));
    const ordered =
      trusted.length === this.byDistance.length ? this.byDistance : [...trusted, ...this.byDistance.filter(suspectedMember), ...this.byDistance.filter((p) => removed.has(p))];
    this.degraded = trusted.length < this.fastSize;
    const fast = closestQuorum(ordered, this.fastSize);
    const write = closestQuorum(ordered, this.writeSize);
    const changed = !sameMembers(fast, this.fast) || !sameMembers(write, this.write);
    this.fast = fast;
    this.write = write;
    return changed;
  }
}

function sameMembers(a: readonly ProcessId[], b: readonly ProcessId[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/**
 * Sorts `all` by `(distance from self, id)` and moves `self` to the front, so that a process always
 * belongs to its own quorums even when another process shares its region (PROTOCOLS.md §1.4).
 */
export function sortByDistance(self: ProcessId, all: readonly ProcessId[], distance: (to: ProcessId) => number): ProcessId[] {
  const others = all.filter((p) => p !== self);
  others.sort((a, b) => distance(a) - distance(b) || a - b);
  return [self, ...others];
}
