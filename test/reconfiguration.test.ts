/**
 * Membership changes (core/membership.ts, docs/reconfiguration.md):
 * - the service alone: every process learns the same sequence of configurations, whatever the
 *   interleaving of concurrent proposers and lost messages; removals below n − f are refused; a
 *   removed process learns that it was removed;
 * - every protocol in the simulator: after a permanent crash, removal lets garbage collection run
 *   again (per-command state stays bounded instead of growing with the run), commands proposed after
 *   the removal never wait for a recovery timeout, and executions agree everywhere.
 */
import { describe, expect, test } from 'vitest';
import type { ProtocolName } from '../core/config.js';
import { Membership, type MembershipMessage } from '../core/membership.js';
import { Replica } from '../core/replica.js';
import { decodeCase } from '../check/case.js';
import { runCapAfterHealMs, runCase } from '../check/run-case.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { fpaxos } from '../protocols/fpaxos/index.js';
import { Rng } from '../core/rng.js';
import { Simulation } from '../sim/simulation.js';
import type { FaultSchedule } from '../sim/faults.js';
import { runMonitored, simulationOptions } from './support/simulate.js';

/** n membership services over a network that delivers in a seeded random order and may drop. */
function cluster(n: number, f: number, seed: number, dropRate = 0) {
  const services = Array.from({ length: n }, (_, i) => new Membership(i + 1, { n, f, retryMs: 100 }));
  const wire: { from: number; to: number; msg: MembershipMessage }[] = [];
  const rng = new Rng(seed);
  let now = 0;
  const take = (p: number) => {
    for (const out of services[p - 1]!.drain()) for (const to of out.to) wire.push({ from: p, to, msg: out.msg });
  };
  const step = () => {
    now += 1;
    if (wire.length > 0) {
      const i = Math.floor(rng.next() * wire.length);
      const [m] = wire.splice(i, 1);
      if (rng.next() >= dropRate) {
        services[m!.to - 1]!.handle(m!.from, m!.msg, now);
        take(m!.to);
      }
    }
    if (now % 25 === 0) for (let p = 1; p <= n; p++) (services[p - 1]!.tick(now), take(p));
  };
  return { services, take, step, now: () => now };
}

describe('membership service', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    test(`seed ${seed}: concurrent proposers, lost messages: every process learns the same configurations`, () => {
      const { services, take, step } = cluster(5, 2, seed, seed > 4 ? 0.2 : 0);
      // Processes 1 and 2 want 5 removed, process 3 wants 4 removed: both changes happen, in one order.
      expect(services[0]!.requestRemoval(5, 0)).toBeUndefined();
      expect(services[1]!.requestRemoval(5, 0)).toBeUndefined();
      expect(services[2]!.requestRemoval(4, 0)).toBeUndefined();
      for (const p of [1, 2, 3]) take(p);
      const seen = services.map(() => [] as string[]);
      for (let i = 0; i < 20_000 && !services.every((s) => s.epoch === 2); i++) {
        step();
        services.forEach((s, p) => {
          for (const c of s.takeChanges()) seen[p]!.push(`${c.epoch}:${c.members.join(',')}`);
        });
      }
      expect(services.map((s) => s.epoch)).toEqual([2, 2, 2, 2, 2]);
      expect(services.map((s) => s.members)).toEqual(services.map(() => [1, 2, 3]));
      for (const p of [1, 2, 3, 4]) expect(seen[p]).toEqual(seen[0]);
      // The removed processes learned it and stopped.
      expect(services[3]!.removedSelf).toBe(true);
      expect(services[4]!.removedSelf).toBe(true);
      expect(services[0]!.removedSelf).toBe(false);
    });
  }

  test('a removal that would leave fewer than n − f members is refused with the reason', () => {
    const { services } = cluster(3, 1, 1);
    expect(services[0]!.requestRemoval(3, 0)).toBeUndefined();
    const { services: five } = cluster(5, 1, 1);
    expect(five[0]!.requestRemoval(9, 0)).toMatch(/does not exist/);
    expect(five[0]!.requestRemoval(2, 0)).toBeUndefined();
    // With f = 1 of n = 5, four members must remain: a second removal waits for nothing, it is cut.
    const { services: decided, take, step } = cluster(5, 1, 3);
    decided[0]!.requestRemoval(5, 0);
    take(1);
    for (let i = 0; i < 5000 && decided[0]!.epoch < 1; i++) step();
    expect(decided[0]!.members).toEqual([1, 2, 3, 4]);
    expect(decided[0]!.requestRemoval(4, 0)).toMatch(/at least n − f = 4 must remain/);
  });
});

const REGIONS = ['us-east1', 'us-central1', 'us-west1', 'europe-west2', 'asia-east1'];
const RECOVERY_TIMEOUT_MS = 5_000;
const CRASH_AT_MS = 1_000;

function crashRun(protocol: ProtocolName, removeAfterMs: number | undefined, commandsPerClient: number) {
  const faults: FaultSchedule = {
    crashes: [
      { process: 4, atMs: CRASH_AT_MS },
      { process: 5, atMs: CRASH_AT_MS },
    ],
    clientTimeoutMs: 1_000,
    ...(removeAfterMs === undefined ? {} : { removeAfterMs }),
  };
  const options = {
    ...simulationOptions({
      protocol,
      regions: REGIONS,
      clientsPerRegion: 2,
      config: { f: 2, recoveryTimeoutMs: RECOVERY_TIMEOUT_MS, leader: 4 },
      workload: { commandsPerClient, conflictRate: 20 },
    }),
    faults,
    failureDetectionMs: 200,
  };
  return options;
}

describe('removal after a permanent crash (n = 5, f = 2, two processes crash for good)', () => {
  for (const protocol of ['fpaxos', 'tempo', 'atlas', 'epaxos'] as const) {
    test(`${protocol}: both crashed processes leave; state stays bounded; later commands never wait for a recovery timeout`, () => {
      const removeAfterMs = 300;
      const monitored = runMonitored(crashRun(protocol, removeAfterMs, 120));
      expect(monitored.violations).toEqual([]);
      expect(monitored.result.commandsCompleted).toBe(REGIONS.length * 2 * 120);
      const configurations = monitored.result.faults.configurations!;
      expect(configurations.at(-1)!.members).toEqual([1, 2, 3]);
      const removedAtMs = configurations.at(-1)!.atMs;
      // Commands invoked once the configuration excludes both crashed processes complete without
      // any recovery timeout (degraded mode for the leaderless protocols: the fast quorum of 4
      // cannot be formed from 3 members).
      const later = monitored.result.history!.filter((h) => h.invokeMs > removedAtMs + 1_000);
      expect(later.length).toBeGreaterThan(100);
      for (const h of later) expect(h.completeMs - h.invokeMs).toBeLessThan(RECOVERY_TIMEOUT_MS / 2);

      // Garbage collection: measured at the end of a longer run, survivors hold little per-command
      // state with the removal and about everything without it.
      const withRemoval = new Simulation(crashRun(protocol, removeAfterMs, 200));
      withRemoval.run();
      const without = new Simulation({ ...crashRun(protocol, undefined, 200), maxSimTimeMs: 600_000 });
      without.run();
      const held = withRemoval.heldState().slice(0, 3);
      const heldWithout = without.heldState().slice(0, 3);
      for (let p = 0; p < 3; p++) expect(held[p]!).toBeLessThan(heldWithout[p]! / 10);
    });
  }

  test('explicit removal from the fault schedule (removals), refused below n − f', () => {
    const options = crashRun('tempo', undefined, 40);
    const monitored = runMonitored({ ...options, faults: { ...options.faults!, removals: [{ process: 4, atMs: 1_500 }, { process: 5, atMs: 1_600, by: 2 }, { process: 3, atMs: 1_700 }] } });
    expect(monitored.violations).toEqual([]);
    expect(monitored.result.faults.configurations!.map((c) => c.members)).toEqual([
      [1, 2, 3, 5],
      [1, 2, 3],
    ]);
  });
});

describe('the replica holds messages from a configuration it has not learned', () => {
  interface Ping {
    readonly type: 'Ping';
  }
  function replicaOf(id: number) {
    const handled: string[] = [];
    const reconfigured: number[][] = [];
    const process = {
      id,
      timers: [],
      discover() {},
      submit() {},
      handle(from: number, msg: Ping) {
        handled.push(`${msg.type} from ${from}`);
      },
      onTimer() {},
      drain: () => [],
      metrics: () => ({ fastPath: 0, slowPath: 0 }),
      reconfigure(c: { members: readonly number[] }) {
        reconfigured.push([...c.members]);
      },
    };
    const executor = { handle() {}, drain: () => [] };
    const replica = new Replica<Ping | MembershipMessage, unknown>(process, { executors: [executor], membership: { n: 3, f: 1, retryMs: 100 } });
    return { replica, handled, reconfigured };
  }

  test('a member handles it once it learned the configuration; it first asks the sender for it', () => {
    const { replica, handled, reconfigured } = replicaOf(2);
    replica.handle(1, { type: 'Ping' }, 0, 1);
    expect(handled).toEqual([]);
    expect(replica.drain()).toEqual([{ kind: 'send', to: [1], msg: { type: 'MConfigStatus', epoch: 0 } }]);
    replica.handle(1, { type: 'MConfigDecided', epoch: 0, members: [1, 2] }, 1);
    expect(reconfigured).toEqual([[1, 2]]);
    expect(handled).toEqual(['Ping from 1']);
    // From now on the removed process is refused.
    replica.handle(3, { type: 'Ping' }, 2, 0);
    expect(handled).toEqual(['Ping from 1']);
    expect(replica.refusedFromNonMembers).toBe(1);
  });

  test('a process that learns it was removed never acts on what waited', () => {
    const { replica, handled, reconfigured } = replicaOf(3);
    replica.handle(1, { type: 'Ping' }, 0, 1);
    replica.handle(1, { type: 'MConfigDecided', epoch: 0, members: [1, 2] }, 1);
    expect(replica.membership!.removedSelf).toBe(true);
    expect(handled).toEqual([]);
    expect(reconfigured).toEqual([]);
    replica.handle(2, { type: 'Ping' }, 2, 0);
    expect(handled).toEqual([]);
  });
});

describe('regressions found by orrery check', () => {
  test('fpaxos, n = 5: a removal with a retry period (50 ms) below the round trip decides (the proposer backs off instead of restarting every attempt before its promises arrive)', () => {
    const c = decodeCase(
      '{"protocol":"fpaxos","seed":0,"n":5,"f":2,"regions":["europe-west2","southamerica-east1","asia-northeast1","australia-southeast1","europe-north1"],"clientsPerRegion":1,"commandsPerClient":21,"conflictRate":100,"sharedKeys":1,"readRatio":30,"keysPerCommand":1,"recoveryTimeoutMs":50,"faults":{"removals":[{"process":1,"atMs":0}],"removeAfterMs":50,"clientTimeoutMs":1000},"gcIntervalMs":200}',
    );
    const outcome = runCase(fpaxos, c);
    expect(outcome.violations).toEqual([]);
    expect(outcome.faults.configurations!.map((x) => x.members)).toEqual([[2, 3, 4, 5]]);
  });

  test('fpaxos, n = 5, no fault: a recovery timeout (50 ms) below the heartbeat period (gcIntervalMs 200 ms) no longer makes followers depose every leader', () => {
    const c = decodeCase(
      '{"protocol":"fpaxos","seed":0,"n":5,"f":2,"regions":["europe-west2","southamerica-east1","asia-northeast1","australia-southeast1","europe-north1"],"clientsPerRegion":1,"commandsPerClient":21,"conflictRate":100,"sharedKeys":1,"readRatio":30,"keysPerCommand":1,"recoveryTimeoutMs":50,"faults":{"clientTimeoutMs":1000},"gcIntervalMs":200}',
    );
    const outcome = runCase(fpaxos, c);
    expect(outcome.violations).toEqual([]);
    expect(outcome.stuck).toBe(false);
  });

  test('epaxos, n = 3, a crash, no detector, 96 commands per client, recovery timeout 5 s: every command waits for a recovery, so the run needs more than the fixed 600 s cap; the cap grows with the case', () => {
    const c = decodeCase(
      '{"protocol":"epaxos","seed":0,"n":3,"f":1,"regions":["europe-west2","us-east1","us-west1"],"clientsPerRegion":1,"commandsPerClient":96,"conflictRate":100,"sharedKeys":1,"readRatio":30,"keysPerCommand":1,"recoveryTimeoutMs":5000,"faults":{"crashes":[{"process":2,"atMs":0}],"clientTimeoutMs":100},"gcIntervalMs":10}',
    );
    expect(runCapAfterHealMs(c)).toBeGreaterThan(600_000);
    const outcome = runCase(epaxos, c);
    expect(outcome.violations).toEqual([]);
    expect(outcome.commandsCompleted).toBe(outcome.commandsIssued);
  });
});
