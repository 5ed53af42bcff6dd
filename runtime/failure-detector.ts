/**
 * An eventually perfect failure detector (◇P, Chandra–Toueg) from heartbeats with growing timeouts.
 *
 * Every peer link carries a heartbeat every `heartbeatMs`, and any frame from a peer counts as a sign
 * of life. A peer silent for longer than its timeout is suspected. When a suspected peer is heard
 * again the suspicion was wrong: it is withdrawn and that peer's timeout doubles (up to
 * `timeoutMsMax`), so after the network stabilises a correct peer is eventually never suspected,
 * while a crashed one stays suspected forever.
 *
 * Pure: time comes in as arguments, events come out as values; the replica host feeds them to the
 * protocol through `Replica.suspect` / `Replica.unsuspect`.
 */
import type { ProcessId } from '../core/ids.js';

export interface FailureDetectorOptions {
  readonly heartbeatMs: number;
  /** First timeout per peer. */
  readonly timeoutMs: number;
  /** Upper bound on a peer's timeout after doublings. */
  readonly timeoutMsMax: number;
}

export const FAILURE_DETECTOR_DEFAULTS: FailureDetectorOptions = { heartbeatMs: 100, timeoutMs: 1000, timeoutMsMax: 30_000 };

/** A change of opinion about one peer. */
export interface SuspicionEvent {
  readonly kind: 'suspect' | 'unsuspect';
  readonly process: ProcessId;
  readonly atMs: number;
  /** The peer's timeout after this event. */
  readonly timeoutMs: number;
}

interface PeerState {
  lastHeardMs: number;
  timeoutMs: number;
  suspected: boolean;
}

export class FailureDetector {
  private readonly peers = new Map<ProcessId, PeerState>();

  constructor(
    peers: readonly ProcessId[],
    nowMs: number,
    private readonly options: FailureDetectorOptions = FAILURE_DETECTOR_DEFAULTS,
  ) {
    for (const peer of peers) this.peers.set(peer, { lastHeardMs: nowMs, timeoutMs: options.timeoutMs, suspected: false });
  }

  /** Something arrived from `peer`; returns an unsuspect event when it was suspected. */
  heard(peer: ProcessId, nowMs: number): SuspicionEvent | undefined {
    const state = this.peers.get(peer);
    if (state === undefined) return undefined;
    state.lastHeardMs = nowMs;
    if (!state.suspected) return undefined;
    state.suspected = false;
    state.timeoutMs = Math.min(state.timeoutMs * 2, this.options.timeoutMsMax);
    return { kind: 'unsuspect', process: peer, atMs: nowMs, timeoutMs: state.timeoutMs };
  }

  /** Peers newly suspected at `nowMs`, ascending by id. */
  check(nowMs: number): SuspicionEvent[] {
    const events: SuspicionEvent[] = [];
    for (const [peer, state] of [...this.peers].sort((a, b) => a[0] - b[0])) {
      if (state.suspected || nowMs - state.lastHeardMs <= state.timeoutMs) continue;
      state.suspected = true;
      events.push({ kind: 'suspect', process: peer, atMs: nowMs, timeoutMs: state.timeoutMs });
    }
    return events;
  }

  /** Restarts every peer's silence clock (e.g. once all links are up). */
  reset(nowMs: number): void {
    for (const state of this.peers.values()) state.lastHeardMs = nowMs;
  }

  suspected(peer: ProcessId): boolean {
    return this.peers.get(peer)?.suspected ?? false;
  }

  timeoutMs(peer: ProcessId): number | undefined {
    return this.peers.get(peer)?.timeoutMs;
  }
}
