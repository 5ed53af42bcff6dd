/**
 * The property runs: at least 200 random fault schedules per protocol, each checked for safety and,
 * after the faults heal, liveness (check/runner.ts). Fixed seeds, so a failure here replays.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { caseArbitrary, scheduleKindsFor } from '../check/arbitraries.js';
import { decodeCase, encodeCase, validateCase } from '../check/case.js';
import { livenessRequired, runCase } from '../check/run-case.js';
import { checkProtocol } from '../check/runner.js';
import { UsageError } from '../core/invariant.js';
import { fpaxos } from '../protocols/fpaxos/index.js';
import { tempo } from '../protocols/tempo/index.js';
import { atlas } from '../protocols/atlas/index.js';
import { epaxos } from '../protocols/epaxos/index.js';

/** Swarm cases vary widely in cost; 100 per protocol keep this file near a minute on 2 cores. */
const RUNS = 100;

/**
 * Tempo with its fault tolerance left undeclared: how the runner treats a protocol that cannot recover
 * yet. (Its recovery timer is also set beyond the run below, so it really does not recover.)
 */
const { faultTolerance: _declared, ...WITHOUT_RECOVERY } = tempo;

describe('random fault schedules, checked', () => {
  for (const definition of [fpaxos, atlas, tempo]) {
    test(`${definition.name}: ${RUNS} schedules with crashes, partitions, drops, duplicates, reordering and slow links; no violation`, { timeout: 300_000 }, () => {
      const summary = checkProtocol({ protocol: definition, runs: RUNS, seed: 20250101 });
      expect(summary.failure?.violations ?? []).toEqual([]);
      expect(summary.runs).toBe(RUNS);
      expect(summary.note).toBeUndefined();
      // The schedules really exercise recovery, or "no violation" would say little.
      expect(summary.withCrashes).toBeGreaterThan(RUNS / 2);
      expect(summary.withPartitions).toBeGreaterThan(RUNS / 3);
      expect(summary.withDrops).toBeGreaterThan(RUNS / 3);
      expect(summary.withRecoveries).toBeGreaterThan(RUNS / 5);
      expect(summary.withReconfigurations).toBeGreaterThan(RUNS / 10);
      expect(summary.commands).toBeGreaterThan(RUNS * 20);
    });
  }
});

describe('cases and schedules', () => {
  test('generated cases are valid, faults stay within f crashes, and a protocol without recovery gets only dup/reorder/slow links', () => {
    for (const [definition, kinds] of [
      [fpaxos, scheduleKindsFor(fpaxos.faultTolerance)],
      [epaxos, scheduleKindsFor(epaxos.faultTolerance)],
      [atlas, scheduleKindsFor(atlas.faultTolerance)],
      [tempo, scheduleKindsFor(tempo.faultTolerance)],
      [WITHOUT_RECOVERY, scheduleKindsFor(undefined)],
    ] as const) {
      for (const c of fc.sample(caseArbitrary({ protocol: definition.name, kinds }), { seed: 5, numRuns: 300 })) {
        validateCase(c);
        expect([3, 5, 7]).toContain(c.n);
        expect(c.f).toBeLessThanOrEqual(Math.floor((c.n - 1) / 2));
        expect((c.faults.crashes ?? []).length).toBeLessThanOrEqual(c.f);
        expect(livenessRequired(definition, c)).toBe(true);
        if (definition === WITHOUT_RECOVERY) {
          expect(c.faults.crashes ?? []).toEqual([]);
          expect(c.faults.partitions ?? []).toEqual([]);
          expect((c.faults.messageFaults ?? []).every((m) => m.drop === undefined)).toBe(true);
        }
      }
    }
  });

  test('a case round-trips through base64url and JSON; a bad case names the field', () => {
    const [c] = fc.sample(caseArbitrary({ protocol: 'fpaxos', kinds: scheduleKindsFor(fpaxos.faultTolerance) }), { seed: 9, numRuns: 1 });
    expect(decodeCase(encodeCase(c!))).toEqual(c);
    expect(decodeCase(JSON.stringify(c))).toEqual(c);
    expect(() => decodeCase('not a case!')).toThrow(UsageError);
    expect(() => decodeCase(JSON.stringify({ ...c, n: 4 }))).toThrow(/replay case\.regions must list 4 GCP regions/);
    expect(() => decodeCase(JSON.stringify({ ...c, extra: 1 }))).toThrow(/replay case has unknown field 'extra'/);
  });

  test('liveness is required only for faults the protocol recovers from', () => {
    const [c] = fc.sample(caseArbitrary({ protocol: 'tempo', kinds: scheduleKindsFor(undefined) }), { seed: 2, numRuns: 1 });
    const dropping = { ...c!, faults: { messageFaults: [{ drop: 0.5, fromMs: 0, untilMs: 500 }] } };
    expect(livenessRequired(WITHOUT_RECOVERY, dropping)).toBe(false);
    expect(livenessRequired(tempo, dropping)).toBe(true);
    expect(livenessRequired(fpaxos, { ...dropping, protocol: 'fpaxos' })).toBe(true);
    const tooManyCrashes = { ...dropping, protocol: 'fpaxos' as const, n: 3, f: 1, faults: { crashes: [{ process: 1, atMs: 0 }, { process: 2, atMs: 0 }] } };
    expect(livenessRequired(fpaxos, tooManyCrashes)).toBe(false);
    // A protocol without recovery stuck behind lost messages: not a violation, only reported as stuck.
    const outcome = runCase(WITHOUT_RECOVERY, { ...dropping, recoveryTimeoutMs: 3_600_000, faults: { messageFaults: [{ drop: 1, fromMs: 0, untilMs: 300 }] } });
    expect(outcome.stuck).toBe(true);
    expect(outcome.violations).toEqual([]);
  });
});

describe('Tempo: regressions', () => {
  test('Tempo regression (check seed 11): a commit lost above a hole is sent along with the votes an asker lacks', () => {
    // Process 2 crashed; process 1 lost the MCommit of 2.19, which sat above a hole (2.18) in both
    // survivors' committed frontiers, so the frontier catch-up never resent it; process 1 asked for
    // the missing vote on the key, got it attached to 2.19, and buffered it forever. Now the answer to
    // a votes request carries the commit of every attached dot above the asker's reported frontier.
    // The case has no failureDetectionMs: it fails the same way without the detector.
    const c = decodeCase('eyJwcm90b2NvbCI6InRlbXBvIiwic2VlZCI6OTczOTUxMDg4LCJuIjozLCJmIjoxLCJyZWdpb25zIjpbImF1c3RyYWxpYS1zb3V0aGVhc3QxIiwidXMtZWFzdDEiLCJhc2lhLW5vcnRoZWFzdDEiXSwiY2xpZW50c1BlclJlZ2lvbiI6MiwiY29tbWFuZHNQZXJDbGllbnQiOjEzLCJjb25mbGljdFJhdGUiOjgwLCJzaGFyZWRLZXlzIjozLCJyZWFkUmF0aW8iOjMwLCJrZXlzUGVyQ29tbWFuZCI6MSwicmVjb3ZlcnlUaW1lb3V0TXMiOjUwMCwiZmF1bHRzIjp7ImNyYXNoZXMiOlt7InByb2Nlc3MiOjIsImF0TXMiOjE3Mzl9XSwibWVzc2FnZUZhdWx0cyI6W3siZHJvcCI6MC41LCJkdXBsaWNhdGUiOjAuMywicmVvcmRlciI6MC4wNSwicmVvcmRlck1zIjoxLCJmcm9tTXMiOjE0NjcsInVudGlsTXMiOjMwMzR9XSwicGFydGl0aW9ucyI6W3siZ3JvdXBzIjpbWzIsM10sWzFdXSwiZnJvbU1zIjoxMDIwLCJ1bnRpbE1zIjoxMDIxfV0sInNsb3dMaW5rcyI6W3siZnJvbSI6MiwidG8iOjIsImV4dHJhTXMiOjIxMiwiZnJvbU1zIjozMjY5LCJ1bnRpbE1zIjo0MDAwfSx7ImZyb20iOjEsInRvIjozLCJleHRyYU1zIjoxNjIsImZyb21NcyI6MTczMiwidW50aWxNcyI6NDAwMH1dLCJjbGllbnRUaW1lb3V0TXMiOjIwMDB9fQ');
    expect(c.failureDetectionMs).toBeUndefined();
    const outcome = runCase(tempo, c);
    expect(outcome.violations).toEqual([]);
    expect(outcome.livenessRequired).toBe(true);
    expect(outcome.faults.crashed).toEqual([2]);
    expect(outcome.commandsCompleted).toBe(outcome.commandsIssued);
    // With the detector on, the same.
    expect(runCase(tempo, { ...c, failureDetectionMs: 579 }).violations).toEqual([]);
  });
});

describe('EPaxos: random fault schedules, checked', () => {
  test(`${RUNS} schedules with up to f ≤ F=⌊n/2⌋ crashes, partitions, drops, duplicates, reordering and slow links; no violation`, { timeout: 300_000 }, () => {
    const summary = checkProtocol({ protocol: epaxos, runs: RUNS, seed: 20250101 });
    expect(summary.failure?.violations ?? []).toEqual([]);
    expect(summary.runs).toBe(RUNS);
    expect(summary.note).toBeUndefined();
    // The schedules really exercise recovery, or "no violation" would say little.
    expect(summary.withCrashes).toBeGreaterThan(RUNS / 2);
    expect(summary.withPartitions).toBeGreaterThan(RUNS / 3);
    expect(summary.withDrops).toBeGreaterThan(RUNS / 3);
    expect(summary.withRecoveries).toBeGreaterThan(RUNS / 5);
    expect(summary.commands).toBeGreaterThan(RUNS * 20);
  });

  test('regression (soak seed 3): with two of seven crashed, recovered commands no longer wait for newer ones that need recovery in turn', () => {
    // Every fast quorum held a crashed process, so every command waited for recovery; a re-collect
    // answered with the conflicts registered *since* the command, so each recovered command waited
    // for newer uncommitted ones, forever. Now a re-collect answers with the registration-time
    // report, and a coordinator missing fast-quorum replies takes the slow path after half a timeout.
    const outcome = runCase(epaxos, decodeCase('eyJwcm90b2NvbCI6ImVwYXhvcyIsInNlZWQiOjU0OTk1NzY4OCwibiI6NywiZiI6MiwicmVnaW9ucyI6WyJhc2lhLXNvdXRoZWFzdDEiLCJhc2lhLW5vcnRoZWFzdDEiLCJzb3V0aGFtZXJpY2EtZWFzdDEiLCJldXJvcGUtbm9ydGgxIiwiZXVyb3BlLXdlc3QyIiwiYXVzdHJhbGlhLXNvdXRoZWFzdDEiLCJ1cy13ZXN0MSJdLCJjbGllbnRzUGVyUmVnaW9uIjoyLCJjb21tYW5kc1BlckNsaWVudCI6NiwiY29uZmxpY3RSYXRlIjo4MCwic2hhcmVkS2V5cyI6MSwicmVhZFJhdGlvIjozMCwia2V5c1BlckNvbW1hbmQiOjEsInJlY292ZXJ5VGltZW91dE1zIjo1MDAsImZhdWx0cyI6eyJjcmFzaGVzIjpbeyJwcm9jZXNzIjo3LCJhdE1zIjoyOTkyfSx7InByb2Nlc3MiOjIsImF0TXMiOjE4NTl9XSwibWVzc2FnZUZhdWx0cyI6W3siZnJvbSI6NSwidG8iOjUsImRyb3AiOjAuMjUsImR1cGxpY2F0ZSI6MC4xNSwicmVvcmRlciI6MC4xNSwicmVvcmRlck1zIjoyMjgsImZyb21NcyI6MTE0NywidW50aWxNcyI6MTIxN30seyJmcm9tIjoxLCJ0byI6MSwiZHJvcCI6MC4zNSwiZHVwbGljYXRlIjowLjI1LCJyZW9yZGVyIjowLjM1LCJyZW9yZGVyTXMiOjQ2LCJmcm9tTXMiOjExMzYsInVudGlsTXMiOjQwMDB9LHsidG8iOjYsImRyb3AiOjAuNSwiZHVwbGljYXRlIjowLjQ1LCJyZW9yZGVyIjowLjQ1LCJyZW9yZGVyTXMiOjExMCwiZnJvbU1zIjoxOTkwLCJ1bnRpbE1zIjozNzY1fV0sInBhcnRpdGlvbnMiOlt7Imdyb3VwcyI6W1sxLDUsN10sWzJdLFszLDQsNl1dLCJmcm9tTXMiOjE5NDIsInVudGlsTXMiOjIyNTV9XSwiY2xpZW50VGltZW91dE1zIjoyMDAwfX0'));
    expect(outcome.violations).toEqual([]);
    expect(outcome.livenessRequired).toBe(true);
    expect(outcome.faults.crashed).toEqual([2, 7]);
    expect(outcome.commandsCompleted).toBe(outcome.commandsIssued);
  });

  test('generated EPaxos cases never crash more processes than EPaxos tolerates, and always require liveness', () => {
    for (const c of fc.sample(caseArbitrary({ protocol: 'epaxos', kinds: scheduleKindsFor(epaxos.faultTolerance) }), { seed: 5, numRuns: 300 })) {
      validateCase(c);
      // The case's f is at most ⌊(n−1)/2⌋, and n is odd, so f ≤ F = ⌊n/2⌋.
      expect((c.faults.crashes ?? []).length).toBeLessThanOrEqual(Math.floor(c.n / 2));
      expect(livenessRequired(epaxos, c)).toBe(true);
    }
  });
});
