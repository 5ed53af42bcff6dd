import { beforeAll, describe, expect, test } from 'vitest';
import { UsageError } from '../core/invariant.js';
import { LinkFaults, validateFaults, type FaultSchedule } from '../sim/faults.js';
import { formatStuckCommand, runStuckCommand, type StuckCommandFigures } from '../sim/scenarios/stuck-command.js';
import { tempo } from '../protocols/tempo/index.js';
import { runTempo } from './tempo-harness.js';

describe('stuck-command scenario, Tempo', () => {
  let figures: StuckCommandFigures;
  beforeAll(() => {
    figures = runStuckCommand({ protocol: tempo, hold: 'replies' });
  });

  test("hold replies: Tempo runs nothing on the held command's keys while its commit is late, and runs it everywhere after", () => {
    expect(figures.orderViolations).toEqual([]);
    for (const p of figures.processes.filter((p) => p.process !== figures.heldProcess)) {
      // The commit reached the other processes only after their window: they ran the command after it.
      expect(p.heldExecutedAtMs).toBeGreaterThanOrEqual(p.windowEndMs - 1);
      // Without the hold these windows execute commands on the held keys; with it, none: commands
      // ordered after the held one wait for it, and (the stuck frontiers of its fast quorum) nothing
      // above the coordinator's pre-proposal clock becomes stable on those keys until the commit.
      expect(p.baselineOnHeldKeysDuringHold).toBeGreaterThan(0);
      expect(p.executedOnHeldKeysDuringHold).toBe(0);
      // Commands concurrent with it ran ahead of it: those whose timestamps were already stable.
      expect(p.concurrentExecutedBeforeHeld).toBeGreaterThan(0);
    }
  });

  test('the figures format as a table with one row per process', () => {
    const text = formatStuckCommand(figures);
    expect(text).toContain(`held: ${figures.heldRifl} on ${figures.heldKeys.join(',')} at process 1`);
    expect(text.split('\n').filter((line) => /^\s+[1-5]\s{2}/.test(line))).toHaveLength(5);
    expect(text).toContain('(hold: replies); links 2→1 3→1 4→1 5→1 +500 ms');
  });
});

describe('slow links (sim/faults.ts)', () => {
  test('impossible schedules are rejected with the entry, the field and what was expected', () => {
    const bad: Array<[unknown, RegExp]> = [
      [{ slowLink: [] }, /unknown fault kind 'slowLink'; accepted: slowLinks/],
      [{ slowLinks: [{ from: 0, extraMs: 1, fromMs: 0, untilMs: 1 }] }, /faults\.slowLinks\[0\]\.from must be a process id from 1 to 3 \(got 0\)/],
      [{ slowLinks: [{ from: 1, to: 4, extraMs: 1, fromMs: 0, untilMs: 1 }] }, /\.to must be a process id from 1 to 3 \(got 4\)/],
      [{ slowLinks: [{ from: 1, extraMs: -1, fromMs: 0, untilMs: 1 }] }, /\.extraMs must be a finite number of milliseconds ≥ 0 \(got -1\)/],
      [{ slowLinks: [{ from: 1, extraMs: 1, fromMs: 5, untilMs: 5 }] }, /untilMs \(5\) must be after fromMs \(5\)/],
      [{ slowLinks: [{ from: 1, extraMs: 1, fromMs: 0, untilMs: 1, extra: 3 }] }, /unknown field 'extra'/],
    ];
    for (const [faults, message] of bad) {
      expect(() => validateFaults(faults as FaultSchedule, 3)).toThrow(UsageError);
      expect(() => validateFaults(faults as FaultSchedule, 3)).toThrow(message);
    }
  });

  test('extra delay applies to matching links during the window only, and adds up', () => {
    const faults = new LinkFaults({ slowLinks: [{ from: 1, extraMs: 10, fromMs: 5, untilMs: 7 }, { from: 1, to: 2, extraMs: 1, fromMs: 0, untilMs: 6 }] }, 3);
    expect(faults.extraNs(0, 1, 4_000_000)).toBe(1_000_000);
    expect(faults.extraNs(0, 1, 5_000_000)).toBe(11_000_000);
    expect(faults.extraNs(0, 2, 6_500_000)).toBe(10_000_000);
    expect(faults.extraNs(0, 2, 7_000_000)).toBe(0);
    expect(faults.extraNs(1, 0, 5_000_000)).toBe(0);
  });

  test('a slowed link delays commands in the simulator and Tempo stays correct', () => {
    const regions = ['europe-west1', 'us-east1', 'asia-east1'];
    const plain = runTempo({ n: 3, f: 1, regions, workload: { conflictRate: 50 } });
    const slowed = runTempo({ n: 3, f: 1, regions, workload: { conflictRate: 50 }, extra: { faults: { slowLinks: [{ from: 2, extraMs: 300, fromMs: 100, untilMs: 400 }] } } });
    expect(slowed.result.commandsCompleted).toBe(plain.result.commandsCompleted);
    expect(slowed.result.latencyNs.max()).toBeGreaterThan(plain.result.latencyNs.max() + 250_000_000);
    expect(slowed.orderViolations).toEqual([]);
    expect(slowed.soundnessViolations).toEqual([]);
  });
});
