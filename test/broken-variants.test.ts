/**
 * The checker is itself tested: each deliberately broken variant (test/support/broken-variants.ts,
 * reachable only from tests) must be caught within the default budget of random schedules, shrunk,
 * and replayed bit for bit from the printed replay command.
 *
 * | Variant                                         | What it breaks                                              | Caught by (typically)                    |
 * |-------------------------------------------------|-------------------------------------------------------------|------------------------------------------|
 * | fpaxos: a new leader skips phase 1              | learns nothing of slots the old leader got accepted         | commit agreement / order / liveness      |
 * | fpaxos: phase-2 quorum of f instead of f+1      | f + (n−f) = n: phase 1 can miss a chosen slot               | order / commit agreement / linearizability |
 * | fpaxos: the executor skips missing slots        | runs slots as they arrive, not in slot order                | execution-order agreement                |
 * | tempo: stability threshold ⌊n/2⌋                | a minority declares a timestamp stable                      | executor assertion / order               |
 * | tempo: fast quorum one too small                | timestamps from ⌊n/2⌋+f−1 proposals                         | executor assertion / order               |
 * | atlas: slow path proposes the coordinator's deps | drops dependencies only other members reported              | execution order                          |
 * | atlas: fast quorum one too small                | n=3: the coordinator alone collects dependencies            | execution order                          |
 *
 * Caught only beyond the default budget (SOAK_ONLY_VARIANTS, run with ORRERY_SOAK=1): the fast-path
 * thresholds f−1 of Atlas and Tempo, which matter only when a recovery follows a fast path decided on
 * too few reports (atlas: seed 7, run 76; tempo: seed 7, run 1067).
 */
import { describe, expect, test } from 'vitest';
import { decodeCase } from '../check/case.js';
import { runCase } from '../check/run-case.js';
import { checkProtocol } from '../check/runner.js';
import { runCheckCommand } from '../cli/check-command.js';
import { BROKEN_VARIANTS, SOAK_ONLY_VARIANTS } from './support/broken-variants.js';

/** The same budget as the default property runs. */
const RUNS = 200;

describe('broken variants are caught within the budget', () => {
  for (const variant of BROKEN_VARIANTS) {
    test(variant.name, () => {
      const summary = checkProtocol({ protocol: variant.definition, runs: RUNS, seed: 20250101 });
      expect(summary.violations, `not caught: ${variant.breaks}`).toBe(1);
      const failure = summary.failure!;
      expect(failure.violations.length).toBeGreaterThan(0);
      // The minimal case is no bigger than the first failing one.
      const size = (c: typeof failure.minimal) =>
        c.n * 1000 + c.commandsPerClient * c.clientsPerRegion + Object.values(c.faults).flat().length * 10_000;
      expect(size(failure.minimal)).toBeLessThanOrEqual(size(failure.original));
      expect(failure.replay).toMatch(new RegExp(`^orrery check --protocol ${failure.minimal.protocol} --replay [A-Za-z0-9_-]+$`));
    });
  }

  test('the variants caught only by longer runs are listed explicitly', () => {
    expect(SOAK_ONLY_VARIANTS.map((v) => v.name)).toEqual(['tempo: fast-path threshold f−1 instead of f', 'atlas: fast-path threshold f−1 instead of f']);
  });

  for (const variant of SOAK_ONLY_VARIANTS) {
    test.runIf(process.env['ORRERY_SOAK'] !== undefined)(`${variant.name} (soak: 2000 schedules, seed 7)`, () => {
      const summary = checkProtocol({ protocol: variant.definition, runs: 2000, seed: 7, maxShrinks: 0 });
      expect(summary.violations, `not caught: ${variant.breaks}`).toBe(1);
    }, 600_000);
  }
});

describe('a printed replay command reproduces the same failure bit for bit', () => {
  const variant = BROKEN_VARIANTS.find((v) => v.name === 'fpaxos: phase-2 quorum of f instead of f+1')!;

  test('the check output, then the replay command run through the CLI code with the same protocol', () => {
    const printed: string[] = [];
    const code = runCheckCommand({ protocol: 'fpaxos', runs: String(RUNS), seed: '20250101' }, (line) => printed.push(line), () => variant.definition);
    expect(code).toBe(1);
    const replayLine = printed.find((line) => line.startsWith('  replay: '))!;
    const [, , , , protocol, flag, encoded] = replayLine.trim().split(' ');
    expect([protocol, flag]).toEqual(['fpaxos', '--replay']);
    const reported = printed.filter((line) => line.startsWith('  - '));
    expect(reported.length).toBeGreaterThan(0);

    const replayed: string[] = [];
    const again = runCheckCommand({ protocol: protocol!, replay: encoded! }, (line) => replayed.push(line), () => variant.definition);
    expect(again).toBe(1);
    expect(replayed.filter((line) => line.startsWith('  - '))).toEqual(reported);

    // And the whole outcome, not only the sentences, is identical run after run.
    const c = decodeCase(encoded!);
    expect(JSON.stringify(runCase(variant.definition, c))).toBe(JSON.stringify(runCase(variant.definition, c)));
  });
});
