/**
 * The recovery machinery EPaxos-style leaderless protocols share (PROTOCOLS.md §7.1), in one place:
 *
 * - **When to recover.** A process that holds a dot's payload and quorum but has not seen it commit
 *   starts a recovery after `recoveryTimeoutMs`, plus a stagger by its rank after the dot's
 *   coordinator (so that, usually, one process goes first: the coordinator itself, then the process
 *   after it in id order, ...).
 * - **One attempt in flight, backoff with jitter.** A process has at most one recovery of a dot in
 *   flight; it starts the next only once the last one's wait ran out without a commit. The wait
 *   doubles per failed attempt ({@link backoffMs}) up to 2^{@link BACKOFF_MAX} timeouts, and keeps
 *   doubling past that while it is shorter than {@link BACKOFF_REACH_MS}: however short the configured
 *   timeout, an attempt eventually gets longer than a round trip to finish before its own successor
 *   (or a rival's) pre-empts it. Attempts after the first add a jitter of up to half the backoff,
 *   derived from the dot, the process and the attempt ({@link recoveryJitter}): deterministic, and
 *   different for two processes that would otherwise keep pre-empting each other in step.
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
/** Failed attempts double the wait up to 2^BACKOFF_MAX times the timeout (and further, see BACKOFF_REACH_MS). */
export const BACKOFF_MAX = 3;
/**
 * Past 2^BACKOFF_MAX timeouts the wait still doubles while it is shorter than this. It is well above
 * a round trip on any planet-scale deployment (≤ ~0.4 s), so that with a timeout shorter than the
 * time a recovery or a leader change takes (which would otherwise keep pre-empting itself), the
 * attempts still end up long enough to finish (docs/faults-and-checking.md, "Liveness at every
 * timeout setting").
 */
export const BACKOFF_REACH_MS = 2_000;
/** Limit on doublings, whatever the timeout (a timeout of 1 µs reaches BACKOFF_REACH_MS after 21). */
const DOUBLINGS_MAX = 40;
/** Limit on commits resent to one lagging peer for one source per timeout. */
export const CATCH_UP_DOTS_MAX = 256;

/** The recovery timer's period for a timeout. */
export function recoveryTickMs(recoveryTimeoutMs: number): number {
  return recoveryTimeoutMs / RECOVERY_TICKS_PER_TIMEOUT;
}

/**
 * The backoff after `attempts` failed attempts: the timeout doubled per attempt, up to 2^BACKOFF_MAX
 * times, and beyond that only while below BACKOFF_REACH_MS.
 */
export function backoffMs(timeoutMs: number, attempts: number): number {
  let waitMs = timeoutMs;
  for (let i = 0; i < attempts && i < DOUBLINGS_MAX && (i < BACKOFF_MAX || waitMs < BACKOFF_REACH_MS); i++) waitMs *= 2;
  return waitMs;
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85eb_ca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2_ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A fraction in [0, 1) that depends only on what is retried (`subject`: a dot, or any non-negative
 * safe integer), who retries and the attempt: the jitter of a backoff, without a random generator
 * (same inputs, same run).
 */
export function recoveryJitter(subject: number, self: ProcessId, attempt: number): number {
  let h = mix32((subject >>> 0) ^ 0x9e37_79b9);
  h = mix32(h ^ Math.floor(subject / 0x1_0000_0000));
  h = mix32(h ^ self);
  h = mix32(h ^ attempt);
  return h / 0x1_0000_0000;
}

/**
 * How long `self` waits, since it first saw a dot of `coordinator` (or since its last attempt),
 * before it recovers the dot: the timeout, backed off per failed attempt ({@link backoffMs}), plus
 * `rank · timeout / n` where rank is self's distance after the coordinator in id order (the
 * coordinator has rank 0), plus, after the first attempt, a jitter of up to half the backoff.
 */
export function recoveryWaitMs(options: {
  readonly timeoutMs: number;
  readonly n: number;
  readonly self: ProcessId;
  readonly coordinator: ProcessId;
  readonly attempts: number;
  /** The host's failure detector suspects the coordinator: a first attempt waits for the stagger alone. */
  readonly coordinatorSuspected?: boolean;
  /** What is recovered (the dot): names the jitter of attempts after the first; none without it. */
  readonly subject?: number;
}): number {
  const { timeoutMs, n, self, coordinator, attempts } = options;
  const rank = (self - coordinator + n) % n;
  const stagger = (rank * timeoutMs) / n;
  if (attempts === 0) return options.coordinatorSuspected === true ? stagger : timeoutMs + stagger;
  const backoff = backoffMs(timeoutMs, attempts);
  const jitter = options.subject === undefined ? 0 : (backoff / 2) * recoveryJitter(options.subject, self, attempts);
  return backoff + stagger + jitter;
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
