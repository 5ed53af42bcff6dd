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
import { BROKEN_EPAXOS_VARIANTS } from './support/broken-epaxos.js';
import type { CheckCase } from '../check/case.js';
import type { Config } from '../core/config.js';
import type { ProtocolDefinition } from '../core/process.js';
import { epaxosOptimizedFastQuorumSize } from '../core/quorum.js';
import type { GraphInfo } from '../protocols/common/graph-executor.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { EPaxosProcess } from '../protocols/epaxos/epaxos.js';
import type { EPaxosMessage } from '../protocols/epaxos/messages.js';

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
    // The original case's violations are printed too (shrinking may change their kind).
    expect(printed.filter((line) => line.startsWith('  original case: ')).length).toBeGreaterThan(0);

    const replayed: string[] = [];
    const again = runCheckCommand({ protocol: protocol!, replay: encoded! }, (line) => replayed.push(line), () => variant.definition);
    expect(again).toBe(1);
    expect(replayed.filter((line) => line.startsWith('  - '))).toEqual(reported);

    // And the whole outcome, not only the sentences, is identical run after run.
    const c = decodeCase(encoded!);
    expect(JSON.stringify(runCase(variant.definition, c))).toBe(JSON.stringify(runCase(variant.definition, c)));
  });
});

describe('broken EPaxos variants are caught within the budget', () => {
  for (const variant of BROKEN_EPAXOS_VARIANTS) {
    test(variant.name, () => {
      const summary = checkProtocol({ protocol: variant.definition, runs: RUNS, seed: 20250101 });
      expect(summary.violations, `not caught: ${variant.breaks}`).toBe(1);
      const failure = summary.failure!;
      expect(failure.violations.length).toBeGreaterThan(0);
      expect(failure.replay).toMatch(/^orrery check --protocol epaxos --replay [A-Za-z0-9_-]+$/);
      // The minimal case replays to the same violations.
      expect(runCase(variant.definition, failure.minimal).violations).toEqual(failure.violations);
    });
  }
});

describe('why EPaxos runs the simple 2F fast quorum (docs/epaxos-recovery.md)', () => {
  // Found by running the optimized quorum through the checker (seed 7, n ≥ 5 cases); commands shrunk
  // by hand. No crash at all: partitions and lost messages make processes recover each other's dots.
  const CASE: CheckCase = {
    protocol: 'epaxos',
    seed: 26,
    n: 5,
    f: 1,
    regions: ['southamerica-east1', 'us-west1', 'europe-west2', 'asia-northeast1', 'australia-southeast1'],
    clientsPerRegion: 1,
    commandsPerClient: 3,
    conflictRate: 50,
    sharedKeys: 3,
    readRatio: 0,
    keysPerCommand: 1,
    recoveryTimeoutMs: 500,
    faults: {
      messageFaults: [
        { from: 1, drop: 0.05, duplicate: 0.45, reorder: 0.45, reorderMs: 119, fromMs: 3897, untilMs: 4000 },
        { from: 3, to: 1, drop: 0.45, duplicate: 0.1, reorderMs: 167, fromMs: 706, untilMs: 4000 },
      ],
      partitions: [
        { groups: [[1, 3], [2, 4, 5]], fromMs: 360, untilMs: 3055 },
        { groups: [[2, 4, 5], [1, 3]], fromMs: 2104, untilMs: 3101 },
      ],
      clientTimeoutMs: 2000,
    },
  };

  test('with the optimized quorum F+⌊(F+1)/2⌋, rules 1–5 lose a fast-path decision; with 2F the same case is clean', () => {
    const optimized = {
      ...epaxos,
      createProcess: (id: number, config: Config) => new EPaxosProcess(id, config, { fastQuorumSize: epaxosOptimizedFastQuorumSize(config.n) }),
    } as ProtocolDefinition<EPaxosMessage, GraphInfo>;
    const broken = runCase(optimized, CASE).violations;
    expect(broken.some((v) => /^commit: dot .* \(commit agreement\)$/.test(v))).toBe(true);
    expect(runCase(epaxos, CASE).violations).toEqual([]);
  });
});
