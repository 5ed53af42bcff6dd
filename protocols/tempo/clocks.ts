/**
 * Tempo's per-key clocks and the votes they issue (PROTOCOLS.md §5.1).
 *
 * A process votes on each `(key, timestamp)` at most once in its lifetime: every vote moves the key's
 * clock past it. A vote issued by {@link KeyClocks.proposal} is *attached* to the command it was made
 * for and travels only with that command's commit; a vote issued by {@link KeyClocks.bump} is
 * *detached* and waits here until the periodic MDetached broadcast takes it.
 */
import type { Command, Key } from '../../core/command.js';
import type { ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import type { Vote } from './messages.js';

/** A proposal: the timestamp and the votes attached to the command for it. */
export interface Proposal {
  readonly clock: number;
  readonly votes: Vote[];
}

interface OpenRange {
  start: number;
  end: number;
}

/** One process's clocks per key, and the detached votes waiting for broadcast. */
export class KeyClocks {
  private readonly clocks = new Map<Key, number>();
  /** Detached votes not yet broadcast, per key, ascending and merged when adjacent. */
  private detached = new Map<Key, OpenRange[]>();

  constructor(readonly self: ProcessId) {}

  /** The key's clock: the highest timestamp this process voted on for it (0 when none). */
  clock(key: Key): number {
    return this.clocks.get(key) ?? 0;
  }

  /**
   * `proposal(cmd, min)`: t = max(min, 1 + the highest clock of cmd's keys); every key votes up to t,
   * so each key gets a vote at exactly t. The votes are returned, to be attached to `cmd`.
   */
  proposal(cmd: Command, min: number): Proposal {
    let highest = 0;
    for (const keyOps of cmd.keys) highest = Math.max(highest, this.clock(keyOps.key));
    const clock = Math.max(min, highest + 1);
    const votes: Vote[] = [];
    for (const keyOps of cmd.keys) {
      const key = keyOps.key;
      const current = this.clock(key);
      invariant(current < clock, () => `proposal ${clock} is not above clock ${current} of key ${key}`);
      votes.push({ key, by: this.self, start: current + 1, end: clock });
      this.clocks.set(key, clock);
    }
    return { clock, votes };
  }

  /** `bump(cmd, t)`: every key of cmd below t votes up to t; those votes are detached. */
  bump(cmd: Command, clock: number): void {
    for (const keyOps of cmd.keys) this.bumpKey(keyOps.key, clock);
  }

  /** Raises one key's clock to `clock`, issuing the votes in between as detached votes. */
  bumpKey(key: Key, clock: number): void {
    const current = this.clock(key);
    if (current >= clock) return;
    this.clocks.set(key, clock);
    let ranges = this.detached.get(key);
    if (ranges === undefined) {
      this.detached.set(key, [{ start: current + 1, end: clock }]);
      return;
    }
    const last = ranges[ranges.length - 1]!;
    if (last.end + 1 === current + 1) last.end = clock;
    else ranges.push({ start: current + 1, end: clock });
  }

  /** True when detached votes wait for the next broadcast. */
  get hasDetached(): boolean {
    return this.detached.size > 0;
  }

  /** Takes every detached vote waiting, grouped by key in ascending key order. */
  takeDetached(): Vote[] {
    const waiting = this.detached;
    this.detached = new Map();
    const keys = [...waiting.keys()].sort();
    const votes: Vote[] = [];
    for (const key of keys) {
      for (const range of waiting.get(key)!) votes.push({ key, by: this.self, start: range.start, end: range.end });
    }
    return votes;
  }
}
