/**
 * Property runs of the adapter-deploy scenario: fast-check draws a version stream (which versions are
 * regressed), a fault schedule (a minority of validators crashing at any time, a partition of the
 * group, lost, duplicated and reordered messages, slow validators, corrupted downloads) and a protocol, runs the register strategy, and asserts
 * safety, integrity and monotonic progression on every run, and fault tolerance (a good version
 * not superseded is released, a regressed one never) whenever no download could be corrupted.
 * Fixed seed, so a failure replays; the shrunk counterexample names the stream and the schedule.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { protocolByName } from '../protocols/index.js';
import { validateDeployFaults } from '../sim/adapter-deploy/faults.js';
import { REFERENCE_FACTORY, REFERENCE_SUITE } from '../sim/adapter-deploy/reference.js';
import { runAdapterDeploy } from '../sim/adapter-deploy/scenario.js';

const VALIDATORS = 5;
const RUNS = 40;

const kinds = fc.array(fc.constantFrom('good' as const, 'regressed' as const), { minLength: 2, maxLength: 4 });

const schedule = fc.record({
  // A minority: at most two of the five validators crash, each at its own time.
  crashes: fc.uniqueArray(fc.record({ process: fc.integer({ min: 1, max: VALIDATORS }), atMs: fc.integer({ min: 0, max: 30_000 }) }), {
    maxLength: 2,
    selector: (crash) => crash.process,
  }),
  partition: fc.option(
    fc.record({ alone: fc.integer({ min: 1, max: VALIDATORS }), fromMs: fc.integer({ min: 0, max: 25_000 }), lengthMs: fc.integer({ min: 100, max: 8000 }) }),
    { nil: undefined },
  ),
  // Lost, duplicated and reordered messages between the validators' processes for a while.
  messages: fc.option(
    fc.record({
      drop: fc.double({ min: 0, max: 0.2, noNaN: true }),
      duplicate: fc.double({ min: 0, max: 0.1, noNaN: true }),
      reorder: fc.double({ min: 0, max: 0.2, noNaN: true }),
      untilMs: fc.integer({ min: 1000, max: 30_000 }),
    }),
    { nil: undefined },
  ),
  slow: fc.option(fc.record({ validator: fc.integer({ min: 1, max: VALIDATORS }), factor: fc.integer({ min: 1, max: 6 }) }), { nil: undefined }),
  corruption: fc.option(fc.double({ min: 0.05, max: 0.6, noNaN: true }), { nil: undefined }),
});

describe('adapter-deploy property runs (register strategy)', () => {
  test(`${RUNS} random streams × fault schedules × protocols: safety, integrity and monotonic progression always; fault tolerance without corruption`, () => {
    let releases = 0;
    let rejections = 0;
    let crashedRuns = 0;
    fc.assert(
      fc.property(fc.constantFrom('fpaxos', 'epaxos', 'atlas', 'tempo'), kinds, schedule, fc.integer({ min: 0, max: 1000 }), (protocol, streamKinds, s, seed) => {
        const faults = validateDeployFaults(
          {
            ...(s.crashes.length === 0 ? {} : { crashes: s.crashes }),
            ...(s.partition === undefined
              ? {}
              : { partitions: [{ groups: [[s.partition.alone]], fromMs: s.partition.fromMs, untilMs: s.partition.fromMs + s.partition.lengthMs }] }),
            ...(s.messages === undefined ? {} : { messageFaults: [{ ...s.messages, fromMs: 0 }] }),
            ...(s.slow === undefined ? {} : { slowValidators: [s.slow] }),
            ...(s.corruption === undefined ? {} : { corruptDownloads: [{ probability: s.corruption, fromMs: 0, untilMs: 40_000 }] }),
          },
          VALIDATORS,
        );
        const figures = runAdapterDeploy({
          protocol: protocolByName(protocol),
          strategy: 'register',
          factory: REFERENCE_FACTORY,
          suite: REFERENCE_SUITE,
          validators: VALIDATORS,
          fleet: 4,
          kinds: streamKinds,
          streamSeed: 11,
          seed,
          faults,
        });
        const holds = Object.fromEntries(figures.properties.map((result) => [result.property, result]));
        expect(figures.stuck).toBeNull();
        for (const name of ['safety', 'integrity', 'monotonic']) expect(holds[name]!.holds, `${name}: ${holds[name]!.detail}`).toBe(true);
        expect(figures.badVersionRequests).toBe(0);
        if (s.corruption === undefined) expect(holds['fault-tolerance']!.holds, holds['fault-tolerance']!.detail).toBe(true);
        releases += figures.versionFigures.filter((version) => version.outcome === 'released').length;
        rejections += figures.versionFigures.filter((version) => version.outcome === 'rejected').length;
        if (figures.faults.crashed.length > 0) crashedRuns++;
      }),
      { numRuns: RUNS, seed: 20261121 },
    );
    // Not vacuous: versions were released and rejected, and validators did crash.
    expect(releases).toBeGreaterThan(RUNS / 2);
    expect(rejections).toBeGreaterThan(0);
    expect(crashedRuns).toBeGreaterThan(0);
  });
});
