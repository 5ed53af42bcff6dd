/**
 * The failure-detector hook (Process.suspect) in every protocol, driven by the simulator's crash
 * schedule (SimulationOptions.failureDetectionMs). Process 1 (FPaxos's leader; in the leaderless
 * protocols a member of the others' closest quorums) crashes; the recovery timeout is long.
 *
 * - FPaxos: a follower that suspects its leader starts the leader change after its stagger alone.
 * - Tempo, Atlas, EPaxos: each process proposes from then on with fast and write quorums without the
 *   suspected process (core/quorum.ts QuorumChoice), and recovers the suspect's dots after its
 *   stagger alone; without the detector every later command of a process whose quorum holds the
 *   crashed one waits for a recovery.
 *
 * Simulated time, deterministic.
 */
import { describe, expect, test } from 'vitest';
import type { ProtocolName } from '../core/config.js';
import type { CpuOptions } from '../sim/cpu.js';
import { SimulationStuckError } from '../sim/simulation.js';
import { toyCosts, toyProfile } from './support/cpu-profiles.js';
import { runMonitored, simulationOptions } from './support/simulate.js';

const REGIONS = ['us-east1', 'us-central1', 'us-west1'];
const RECOVERY_TIMEOUT_MS = 3_000;
const CRASH_AT_MS = 300;
const COMMANDS = 6 * 30;
const HORIZON_MS = CRASH_AT_MS + 3 * RECOVERY_TIMEOUT_MS;

function run(protocol: ProtocolName, failureDetectionMs: number | undefined, cpu?: CpuOptions) {
  const options = simulationOptions({
    protocol,
    regions: REGIONS,
    clientsPerRegion: 2,
    config: { recoveryTimeoutMs: RECOVERY_TIMEOUT_MS, f: 1 },
    workload: { commandsPerClient: 30, conflictRate: 50 },
  });
  const monitored = runMonitored({
    ...options,
    maxSimTimeMs: HORIZON_MS,
    faults: { crashes: [{ process: 1, atMs: CRASH_AT_MS }], clientTimeoutMs: 400 },
    ...(failureDetectionMs === undefined ? {} : { failureDetectionMs }),
    ...(cpu === undefined ? {} : { cpu }),
  });
  const lastReplyMs = Math.max(...monitored.result.history!.map((h) => h.completeMs));
  return { monitored, lastReplyMs, completed: monitored.result.commandsCompleted };
}

describe('failure detection drives recovery (Process.suspect)', () => {
  for (const protocol of ['fpaxos', 'tempo', 'atlas', 'epaxos'] as const) {
    test(`${protocol}: once the detector suspects the crashed process, the run finishes well within ${HORIZON_MS} ms; without it, not`, () => {
      const withDetector = run(protocol, 200);
      expect(withDetector.completed).toBe(COMMANDS);
      expect(withDetector.monitored.violations).toEqual([]);
      // The leader change (FPaxos) or the quorums without process 1 (the others) need no recovery timeout.
      expect(withDetector.lastReplyMs - CRASH_AT_MS).toBeLessThan(protocol === 'fpaxos' ? RECOVERY_TIMEOUT_MS : 2 * RECOVERY_TIMEOUT_MS);
      expect(run(protocol, 200).lastReplyMs).toBe(withDetector.lastReplyMs); // same seed, same run
      if (protocol === 'fpaxos') {
        // Without the detector the followers wait out the recovery timeout before the leader change.
        const without = run(protocol, undefined);
        expect(without.completed).toBe(COMMANDS);
        expect(without.lastReplyMs - CRASH_AT_MS).toBeGreaterThan(RECOVERY_TIMEOUT_MS);
      } else {
        // Without it, every command whose quorum holds process 1 waits for a recovery: not done by the horizon.
        expect(() => run(protocol, undefined)).toThrow(SimulationStuckError);
      }
    });
  }

  // The CPU model wraps each process (sim/cpu.ts MeteredProcess); the wrapper must pass suspicions on,
  // or the detector is silently off whenever the model is on.
  for (const protocol of ['fpaxos', 'tempo'] as const) {
    test(`${protocol} with the CPU model: the detector's suspicions reach the process, as without the model`, () => {
      const cpu: CpuOptions = { profile: toyProfile([protocol], toyCosts(10_000)), cores: 1 };
      const withDetector = run(protocol, 200, cpu);
      expect(withDetector.completed).toBe(COMMANDS);
      expect(withDetector.lastReplyMs - CRASH_AT_MS).toBeLessThan(protocol === 'fpaxos' ? RECOVERY_TIMEOUT_MS : 2 * RECOVERY_TIMEOUT_MS);
      if (protocol === 'fpaxos') expect(run(protocol, undefined, cpu).lastReplyMs - CRASH_AT_MS).toBeGreaterThan(RECOVERY_TIMEOUT_MS);
      else expect(() => run(protocol, undefined, cpu)).toThrow(SimulationStuckError);
    });
  }

  test('a negative detection delay is refused', () => {
    expect(() => run('tempo', -1)).toThrow(/failure detection must take 0 to 3600000 ms \(got -1\)/);
  });
});

describe('recoveryWaitMs: a suspected coordinator', async () => {
  const { recoveryWaitMs } = await import('../protocols/common/recovery.js');
  test('a first attempt waits for the stagger alone; later ones keep the timeout and its backoff', () => {
    const base = { timeoutMs: 900, n: 3, self: 3, coordinator: 1 } as const;
    expect(recoveryWaitMs({ ...base, attempts: 0 })).toBe(900 + 600);
    expect(recoveryWaitMs({ ...base, attempts: 0, coordinatorSuspected: true })).toBe(600);
    expect(recoveryWaitMs({ ...base, attempts: 1, coordinatorSuspected: true })).toBe(1800 + 600);
  });
});

describe('QuorumChoice: suspected processes last', async () => {
  const { QuorumChoice } = await import('../core/quorum.js');
  test('the closest trusted processes, a suspected one only to fill in, and back when no longer suspected', () => {
    const choice = new QuorumChoice(1, 3, 2);
    choice.discover([1, 4, 2, 5, 3]);
    expect([choice.fast, choice.write]).toEqual([[1, 4, 2], [1, 4]]);
    expect(choice.suspect(4)).toBe(true);
    expect([choice.fast, choice.write]).toEqual([[1, 2, 5], [1, 2]]);
    expect(choice.suspect(4)).toBe(false); // already suspected
    expect(choice.suspects(4)).toBe(true);
    expect(choice.suspect(1)).toBe(false); // never itself
    choice.suspect(2);
    choice.suspect(5);
    // Too few trusted processes: the closest suspected ones fill in.
    expect(choice.fast).toEqual([1, 3, 4]);
    expect(choice.unsuspect(4)).toBe(true);
    expect(choice.fast).toEqual([1, 4, 3]);
    expect(choice.unsuspect(7)).toBe(false);
  });
});
