/**
 * bote: closed-form latency estimates ("back of the envelope") per client region, for the fast path
 * without contention. The arithmetic is the simulator's — integer nanoseconds of the same planet, the
 * same quorums (each process's closest, by (delay, id)), the same client placement — so at zero
 * conflict a simulated mean equals the estimate exactly.
 *
 * Per client region r with closest process p (delay d):
 * - FPaxos: d(r,p) + d(p,L) + max over L's f+1 closest q of [d(L,q) + d(q,L)] + d(L,p) + d(p,r),
 *   where a process reaching itself costs nothing.
 * - Leaderless (EPaxos, Atlas, Tempo): d(r,p) + max over p's fast quorum q ≠ p of [d(p,q) + d(q,p)] + d(p,r).
 */
import type { Config, ProtocolName } from '../core/config.js';
import { epaxosConfiguredFastQuorumSize, leaderlessFastQuorumSize, writeQuorumSize } from '../core/quorum.js';
import { sortByDistance } from '../core/quorum.js';
import type { Planet } from './planet.js';

export interface BoteOptions {
  readonly protocol: ProtocolName;
  readonly config: Config;
  readonly planet: Planet;
  readonly processRegions: readonly string[];
  readonly clientRegions: readonly string[];
}

export interface BoteEstimate {
  readonly region: string;
  /** The process the region's clients connect to. */
  readonly process: number;
  readonly latencyNs: number;
}

/** The fast-path latency of every client region, in integer nanoseconds. */
export function bote(options: BoteOptions): BoteEstimate[] {
  const { planet, processRegions, config } = options;
  const regionOf = processRegions.map((r) => planet.regionIndex(r));
  const ids = processRegions.map((_, i) => i + 1);
  const delay = (from: number, to: number) => (from === to ? 0 : planet.oneWayNs(regionOf[from - 1]!, regionOf[to - 1]!));
  const sorted = (p: number) => sortByDistance(p, ids, (q) => delay(p, q));
  const roundTrip = (p: number, quorum: readonly number[]) => {
    let worst = 0;
    for (const q of quorum) if (q !== p) worst = Math.max(worst, delay(p, q) + delay(q, p));
    return worst;
  };
  const commitNs = (p: number): number => {
    switch (options.protocol) {
      case 'fpaxos': {
        const leader = config.leader;
        const quorum = sorted(leader).slice(0, writeQuorumSize(config.f));
        return delay(p, leader) + roundTrip(leader, quorum) + delay(leader, p);
      }
      case 'epaxos':
        return roundTrip(p, sorted(p).slice(0, epaxosConfiguredFastQuorumSize(config)));
      case 'atlas':
      case 'tempo':
        return roundTrip(p, sorted(p).slice(0, leaderlessFastQuorumSize(config.n, config.f)));
    }
  };
  return options.clientRegions.map((region) => {
    const r = planet.regionIndex(region);
    let closest = 1;
    for (let p = 2; p <= ids.length; p++) {
      if (planet.oneWayNs(r, regionOf[p - 1]!) < planet.oneWayNs(r, regionOf[closest - 1]!)) closest = p;
    }
    const toProcess = planet.oneWayNs(r, regionOf[closest - 1]!);
    const back = planet.oneWayNs(regionOf[closest - 1]!, r);
    return { region, process: closest, latencyNs: toProcess + commitNs(closest) + back };
  });
}
