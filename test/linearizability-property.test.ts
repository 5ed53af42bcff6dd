import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { History, Operation } from '../check/history.js';
import { checkLinearizability } from '../check/linearizability.js';
import { formatRifl } from '../core/ids.js';
import { bruteForceLinearizable, linearizableHistory, onKey, r, randomSteps, w, witnessProblem, type GeneratedStep } from './support/histories.js';

const KEYS = ['x', 'y'];

const stepArbitrary = (clients: number, keys: readonly string[]): fc.Arbitrary<GeneratedStep> =>
  fc.record(
    {
      client: fc.integer({ min: 1, max: clients }),
      key: fc.constantFrom(...keys),
      kind: fc.constantFrom<GeneratedStep['kind']>('get', 'get', 'put', 'put', 'delete', 'put-get'),
      durationMs: fc.integer({ min: 1, max: 60 }),
      pointFraction: fc.double({ min: 0.01, max: 0.99, noNaN: true }),
      pending: fc.record({ tookEffect: fc.boolean() }),
    },
    { requiredKeys: ['client', 'key', 'kind', 'durationMs', 'pointFraction'] },
  );

/** Replaces one recorded result of `operation` (its first op whose result is `from`-able) with `value`. */
function withResult(operation: Operation, value: string | null): Operation {
  const record = operation.keys[0]!;
  const index = record.ops.findIndex((op) => op.op !== 'put');
  const results = [...record.results!];
  results[index] = value;
  return { ...operation, keys: [{ ...record, results }] };
}

function readers(history: History): number[] {
  const found: number[] = [];
  history.forEach((o, i) => {
    if (o.completeMs !== null && o.keys[0]!.ops.some((op) => op.op !== 'put')) found.push(i);
  });
  return found;
}

describe('linearizability properties', () => {
  test('a history built from a sequential execution, with intervals around each linearization point, is ok', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary(4, KEYS), { minLength: 1, maxLength: 40 }), (steps) => {
        const history = linearizableHistory(steps);
        const report = checkLinearizability(history);
        expect(report.violations + report.unknown).toBe(0);
        for (const verdict of report.verdicts) {
          expect(verdict.verdict).toBe('ok');
          if (verdict.verdict === 'ok') expect(witnessProblem(onKey(history, verdict.key), verdict.linearization)).toBeUndefined();
        }
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  test('the same history with one read changed to a value never written is a violation', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary(4, KEYS), { minLength: 1, maxLength: 40 }), fc.nat(), (steps, pick) => {
        const history = [...linearizableHistory(steps)];
        const candidates = readers(history);
        fc.pre(candidates.length > 0);
        const index = candidates[pick % candidates.length]!;
        history[index] = withResult(history[index]!, 'never-written');
        const report = checkLinearizability(history);
        const key = history[index]!.keys[0]!.key;
        expect(report.verdicts.find((v) => v.key === key)!.verdict).toBe('violation');
        expect(report.violations).toBe(1);
      }),
      { numRuns: 200, seed: 2 },
    );
  });

  test('a read changed to a value whose put was invoked after the read completed is a violation found by the search', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary(3, ['x']), { minLength: 2, maxLength: 40 }), fc.nat(), (steps, pick) => {
        const history = [...linearizableHistory(steps)];
        // Pairs (completed read R, put P invoked strictly after R completed): R cannot have seen P.
        const pairs: Array<[number, string]> = [];
        for (const i of readers(history)) {
          for (const p of history) {
            const op = p.keys[0]!.ops.find((o) => o.op === 'put');
            if (op !== undefined && op.op === 'put' && p.invokeMs > history[i]!.completeMs!) pairs.push([i, op.value]);
          }
        }
        fc.pre(pairs.length > 0);
        const [index, value] = pairs[pick % pairs.length]!;
        history[index] = withResult(history[index]!, value);
        const verdict = checkLinearizability(history).verdicts[0]!;
        expect(verdict.verdict).toBe('violation');
        // Not the cheap "never written" pre-check: the value was written, just too late.
        expect(verdict.verdict === 'violation' && verdict.explanation).not.toMatch(/ever wrote/);
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  test('differential: on small histories the search agrees with trying every permutation', () => {
    // Values from a set of two (so puts repeat values), random pending ops, then up to two results
    // changed and up to two operations moved in time.
    const perturbation = fc.record({ index: fc.nat(), value: fc.constantFrom(null, 'a', 'b') });
    const shift = fc.record({ index: fc.nat(), deltaMs: fc.integer({ min: -60, max: 60 }) });
    let violations = 0;
    let oks = 0;
    fc.assert(
      fc.property(
        fc.array(stepArbitrary(3, ['x']), { minLength: 3, maxLength: 7 }),
        fc.array(perturbation, { minLength: 1, maxLength: 2 }),
        fc.array(shift, { maxLength: 2 }),
        (steps, perturbations, shifts) => {
          const history = [...linearizableHistory(steps, (client, seq) => ((client + seq) % 2 === 0 ? 'a' : 'b'))];
          const candidates = readers(history);
          for (const p of perturbations) {
            if (candidates.length === 0) break;
            const index = candidates[p.index % candidates.length]!;
            history[index] = withResult(history[index]!, p.value);
          }
          for (const s of shifts) {
            const index = s.index % history.length;
            const o = history[index]!;
            history[index] = { ...o, invokeMs: o.invokeMs + s.deltaMs, completeMs: o.completeMs === null ? null : o.completeMs + s.deltaMs };
          }
          const expected = bruteForceLinearizable(onKey(history));
          const verdict = checkLinearizability(history).verdicts[0]!;
          expect(verdict.verdict).toBe(expected ? 'ok' : 'violation');
          if (expected) oks++;
          else violations++;
        },
      ),
      { numRuns: 1000, seed: 4 },
    );
    // Both outcomes must actually occur, or the comparison proves little.
    expect(oks).toBeGreaterThan(200);
    expect(violations).toBeGreaterThan(80);
  });
});

describe('budgets', () => {
  test('a tiny step budget on a large concurrent history gives unknown, for every key', () => {
    const history = linearizableHistory(randomSteps(7, 600, 5, KEYS));
    const report = checkLinearizability(history, { budgetSteps: 50 });
    expect(report).toMatchObject({ keysChecked: 2, ok: 0, violations: 0, unknown: 2 });
    // With the default budget the same history is fine.
    expect(checkLinearizability(history)).toMatchObject({ keysChecked: 2, ok: 2 });
  });

  test('30 concurrent puts and a read of the first one: pruning finds the only orders (v0 last) at once', () => {
    // Plain Wing–Gong search would try put("v0") first and explore ~2^29 subsets under it; once
    // v0 is overwritten with its read still to come, the lost-value rule cuts every such branch.
    const history: Operation[] = [];
    for (let c = 1; c <= 30; c++) history.push(w(c, 1, 0, 1000, `v${c - 1}`));
    history.push(r(31, 1, 1001, 1002, 'v0'));
    const verdict = checkLinearizability(history).verdicts[0]!;
    expect(verdict.verdict).toBe('ok');
    expect(verdict.verdict === 'ok' && verdict.linearization.slice(-2).map(formatRifl)).toEqual(['1.1', '31.1']);
    expect(verdict.steps).toBeLessThan(2000);
  });

  test('30 concurrent puts and two later reads of different values: unknown within the budget, a violation when small', () => {
    // The two reads each need their put last; no rule here sees that early, so the search walks the
    // subsets of the other 28 puts: exponentially many configurations.
    const history: Operation[] = [];
    for (let c = 1; c <= 30; c++) history.push(w(c, 1, 0, 1000, `v${c - 1}`));
    const reads = [r(31, 1, 1001, 1002, 'v0'), r(32, 1, 1001, 1002, 'v1')];
    const large = checkLinearizability([...history, ...reads], { budgetSteps: 20_000 }).verdicts[0]!;
    expect(large).toMatchObject({ verdict: 'unknown', steps: 20_000 });
    const small = checkLinearizability([...history.slice(0, 8), ...reads], { budgetSteps: 20_000 }).verdicts[0]!;
    expect(small.verdict).toBe('violation');
  });

  test('1,000 operations by 5 closed-loop clients on one key: ok, with few steps per operation', () => {
    const history = linearizableHistory(randomSteps(11, 1000, 5, ['x']));
    const verdict = checkLinearizability(history).verdicts[0]!;
    expect(verdict.verdict).toBe('ok');
    expect(verdict.operations).toBe(1000);
    expect(verdict.steps).toBeLessThan(20 * 1000);
  });
});
