/**
 * The recovery machinery EPaxos-style leaderless protocols share (PROTOCOLS.md §7.1), in one place:
 *
 * - **When to recover.** A process that holds a dot's payload and quorum but has not seen it commit
 *   starts a recovery after `recoveryTimeoutMs`, plus a stagger by its rank after the dot's
 *   coordinator (so that, usually, one process goes first: the coordinator itself, then the process
 *   after it in id order, ...), doubled after each failed attempt up to {@link BACKOFF_MAX} times.
 * - **Catching up.** Commits can be lost. Every process gossips its committed frontier per source;
 *   a process whose frontier stayed above a peer's for a timeout resends that peer the commits it
 *   lacks (with the payload), at most {@link CATCH_UP_DOTS_MAX} per source at a time.
 *
 * Both run on the protocol's own periodic `recovery` timer, which fires
 * {@link RECOVERY_TICKS_PER_TIMEOUT} times per timeout: the host owns time, the protocol only compares
 * the `now` it is handed.
 */
import type { ProcessId } from '../../core/ids.js';
import type { Time } from '../../core/process.js';

/** The name of the periodic recovery timer. */
export const RECOVERY_TIMER = 'recovery';
/** The recovery timer fires this many times per recovery timeout. */
export const RECOVERY_TICKS_PER_TIMEOUT = 4;
/** Failed attempts double the wait up to 2^BACKOFF_MAX times the timeout. */
export const BACKOFF_MAX = 3;
/** Limit on commits resent to one lagging peer for one source per timeout. */
export const CATCH_UP_DOTS_MAX = 256;

/** The recovery timer's period for a timeout. */
export function recoveryTickMs(recoveryTimeoutMs: number): number {
  return recoveryTimeoutMs / RECOVERY_TICKS_PER_TIMEOUT;
}

/**
 * How long `self` waits, since it first saw a dot of `coordinator` (or since its last attempt),
 * before it recovers the dot: the timeout, doubled per failed attempt, plus `rank · timeout / n`
 * where rank is self's distance after the coordinator in id order (the coordinator has rank 0).
 */
export function recoveryWaitMs(options: {
  readonly timeoutMs: number;
  readonly n: number;
  readonly self: ProcessId;
  readonly coordinator: ProcessId;
  readonly attempts: number;
  /** The host's failure detector suspects the coordinator: a first attempt waits for the stagger alone. */
  readonly coordinatorSuspected?: boolean;
}): number {
  const { timeoutMs, n, self, coordinator, attempts } = options;
  const rank = (self - coordinator + n) % n;
  const stagger = (rank * timeoutMs) / n;
  if (options.coordinatorSuspected === true && attempts === 0) return stagger;
  return timeoutMs * 2 ** Math.min(attempts, BACKOFF_MAX) + stagger;
}

/**
 * Per peer and source, since when the peer's reported committed frontier has stayed where it is;
 * says when this process should resend the commits the peer lacks.
 */
export class LaggingPeers {
  /** index (peer − 1) · n + (source − 1) */
  private readonly lastReported: Float64Array;
  private readonly sinceMs: Float64Array;

  constructor(private readonly n: number) {
    this.lastReported = new Float64Array(n * n);
    this.sinceMs = new Float64Array(n * n);
  }

  /**
   * The seqs of `source` to resend to `peer` now, as an inclusive range, or undefined: the peer's
   * reported frontier has been below ours, without moving, for `timeoutMs` (then the clock restarts).
   */
  due(peer: ProcessId, source: ProcessId, reported: number, mine: number, now: Time, timeoutMs: number): { readonly from: number; readonly to: number } | undefined {
    const i = (peer - 1) * this.n + (source - 1);
    // The clock runs from when the peer was last seen moving or not behind.
    if (reported !== this.lastReported[i] || reported >= mine) {
      this.lastReported[i] = reported;
      this.sinceMs[i] = now;
      return undefined;
    }
    if (now - this.sinceMs[i]! < timeoutMs) return undefined;
    this.sinceMs[i] = now;
    return { from: reported + 1, to: Math.min(mine, reported + CATCH_UP_DOTS_MAX) };
  }
}
