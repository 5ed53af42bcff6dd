import { describe, expect, test } from 'vitest';
import { projectByKey, type History } from '../check/history.js';
import { checkKeyLinearizability, checkLinearizability, describeReport, LinearizabilityLimitError, type KeyVerdict } from '../check/linearizability.js';
import { formatRifl, makeRifl } from '../core/ids.js';
import { d, del, get, onKey, put, r, single, w, witnessProblem } from './support/histories.js';

/** The one verdict of a single-key history, with its witness checked independently when ok. */
function verdictOf(history: History, key = 'x'): KeyVerdict {
  const report = checkLinearizability(history);
  const verdict = report.verdicts.find((v) => v.key === key)!;
  if (verdict.verdict === 'ok') expect(witnessProblem(onKey(history, key), verdict.linearization)).toBeUndefined();
  return verdict;
}

describe('linearizable histories', () => {
  test('overlapping put and get: the get may see either the old or the new value', () => {
    // put(a) completes, then put(b) overlaps a get.
    for (const seen of ['a', 'b']) {
      const verdict = verdictOf([w(1, 1, 0, 10, 'a'), w(1, 2, 20, 40, 'b'), r(2, 1, 25, 35, seen)]);
      expect(verdict.verdict).toBe('ok');
    }
  });

  test('a get before any write reads null, and a get overlapping the first put may read null', () => {
    expect(verdictOf([r(1, 1, 0, 5, null), w(2, 1, 10, 20, 'a'), r(1, 2, 12, 18, null), r(1, 3, 21, 22, 'a')]).verdict).toBe('ok');
  });

  test('two concurrent puts may land in either order, and later reads agree on the winner', () => {
    for (const winner of ['a', 'b']) {
      const verdict = verdictOf([w(1, 1, 0, 10, 'a'), w(2, 1, 0, 10, 'b'), r(3, 1, 11, 12, winner), r(1, 2, 13, 14, winner)]);
      expect(verdict.verdict).toBe('ok');
    }
  });

  test('the witness puts the overlapping put before a read that saw it, even when the read was invoked first', () => {
    const verdict = verdictOf([r(1, 1, 0, 30, 'a'), w(2, 1, 10, 20, 'a')]);
    expect(verdict.verdict).toBe('ok');
    expect(verdict.verdict === 'ok' && verdict.linearization.map(formatRifl)).toEqual(['2.1', '1.1']);
  });

  test('an empty history and a key with only reads of null are linearizable', () => {
    expect(checkLinearizability([])).toEqual({ keysChecked: 0, ok: 0, violations: 0, unknown: 0, verdicts: [] });
    expect(verdictOf([r(1, 1, 0, 1, null), r(2, 1, 0, 1, null)]).verdict).toBe('ok');
  });
});

describe('violations', () => {
  test('a stale read after a completed write', () => {
    const verdict = verdictOf([w(1, 1, 0, 10, 'a'), w(1, 2, 20, 30, 'b'), r(2, 1, 40, 50, 'a')]);
    expect(verdict.verdict).toBe('violation');
    expect(verdict.verdict === 'violation' && verdict.explanation).toMatch(/2\.1 get → "a"/);
  });

  test('a read of null after a completed write', () => {
    expect(verdictOf([w(1, 1, 0, 10, 'a'), r(2, 1, 11, 12, null)]).verdict).toBe('violation');
  });

  test('two gets observing two concurrent writes in opposite orders', () => {
    // Writes a and b overlap each other; client 3 sees a then b, client 4 sees b then a, all reads after both writes start
    // and the two pairs of reads are sequential per client and overlapping across clients.
    const history = [
      w(1, 1, 0, 100, 'a'),
      w(2, 1, 0, 100, 'b'),
      r(3, 1, 10, 20, 'a'),
      r(3, 2, 30, 40, 'b'),
      r(4, 1, 10, 20, 'b'),
      r(4, 2, 30, 40, 'a'),
    ];
    const verdict = verdictOf(history);
    expect(verdict.verdict).toBe('violation');
    // Dropping one of the four reads makes the order possible again: the checker is not just saying no.
    expect(verdictOf(history.slice(0, 5)).verdict).toBe('ok');
  });

  test('a get returning a value never written is caught before any search, with a plain sentence', () => {
    const verdict = verdictOf([w(1, 1, 0, 10, 'a'), r(2, 1, 0, 10, 'zzz')]);
    expect(verdict).toMatchObject({ verdict: 'violation', steps: 0, longestPrefix: [] });
    expect(verdict.verdict === 'violation' && verdict.explanation).toMatch(/returned "zzz", which no operation on key x ever wrote/);
  });

  test('a put that returned a value', () => {
    const verdict = verdictOf([single(1, 1, 0, 10, [put('a')], ['a'])]);
    expect(verdict.verdict === 'violation' && verdict.explanation).toMatch(/a put returns null/);
  });

  test('a read that sees a write before the write was invoked', () => {
    expect(verdictOf([r(1, 1, 0, 10, 'a'), w(2, 1, 20, 30, 'a')]).verdict).toBe('violation');
  });

  test("one client's own order counts even when its completion and next invocation share an instant", () => {
    // Client 1 writes a, then (at the very instant of the reply) reads; reading null is stale.
    expect(verdictOf([w(1, 1, 0, 10, 'a'), r(1, 2, 10, 20, null)]).verdict).toBe('violation');
    // Across clients the same instant counts as concurrent: the read may come first.
    expect(verdictOf([w(1, 1, 0, 10, 'a'), r(2, 1, 10, 20, null)]).verdict).toBe('ok');
  });

  test('the explanation names the longest legal prefix and the operations that cannot follow it', () => {
    const history = [w(1, 1, 0, 10, 'a'), r(2, 1, 20, 30, 'a'), w(1, 2, 40, 50, 'b'), r(2, 2, 60, 70, 'a')];
    const verdict = verdictOf(history);
    expect(verdict.verdict).toBe('violation');
    if (verdict.verdict !== 'violation') return;
    // Placing 1.2 would overwrite "a" for good while 2.2 still has to read it: the search stops there.
    expect(verdict.longestPrefix.map(formatRifl)).toEqual(['1.1', '2.1']);
    expect(verdict.explanation).toMatch(/longest legal order covers 2 of 4 operations/);
    expect(verdict.explanation).toMatch(/1\.2 put\("b"\) → null \[40–50 ms\], after which nothing could bring "a" back for 2\.2 get → "a" \[60–70 ms\]/);
  });

  test('the explanation says which read cannot see the register', () => {
    const verdict = verdictOf([r(1, 1, 0, 10, 'a'), w(2, 1, 20, 30, 'a')]);
    expect(verdict.verdict === 'violation' && verdict.explanation).toMatch(
      /no operation can take effect first .*1\.1 get → "a" \[0–10 ms\] cannot see the value null; 1 other was invoked after 1\.1 completed at 10 ms/,
    );
  });
});

describe('delete semantics', () => {
  test('delete returns the previous value and leaves the key empty', () => {
    expect(verdictOf([w(1, 1, 0, 10, 'a'), d(1, 2, 20, 30, 'a'), r(1, 3, 40, 50, null)]).verdict).toBe('ok');
  });

  test('delete of an empty key returns null', () => {
    expect(verdictOf([d(1, 1, 0, 10, null)]).verdict).toBe('ok');
    expect(verdictOf([w(1, 1, 0, 10, 'a'), d(2, 1, 20, 30, null)]).verdict).toBe('violation');
  });

  test('two sequential deletes cannot both return the value', () => {
    expect(verdictOf([w(1, 1, 0, 10, 'a'), d(2, 1, 20, 30, 'a'), d(3, 1, 40, 50, 'a')]).verdict).toBe('violation');
    // Concurrent, still only one of them can remove it.
    expect(verdictOf([w(1, 1, 0, 10, 'a'), d(2, 1, 20, 30, 'a'), d(3, 1, 20, 30, 'a')]).verdict).toBe('violation');
    expect(verdictOf([w(1, 1, 0, 10, 'a'), d(2, 1, 20, 30, 'a'), d(3, 1, 20, 30, null)]).verdict).toBe('ok');
  });

  test('a read after a completed delete cannot see the deleted value', () => {
    expect(verdictOf([w(1, 1, 0, 10, 'a'), d(1, 2, 20, 30, 'a'), r(2, 1, 40, 50, 'a')]).verdict).toBe('violation');
  });
});

describe('several operations per command apply in order, atomically', () => {
  test('put then get inside one command reads its own write', () => {
    expect(verdictOf([single(1, 1, 0, 10, [put('a'), get], [null, 'a'])]).verdict).toBe('ok');
    expect(verdictOf([single(1, 1, 0, 10, [put('a'), get], [null, null])]).verdict).toBe('violation');
  });

  test('get, put, delete in one command', () => {
    const history = [w(1, 1, 0, 10, 'a'), single(2, 1, 20, 30, [get, put('b'), del], ['a', null, 'b']), r(1, 2, 40, 50, null)];
    expect(verdictOf(history).verdict).toBe('ok');
  });

  test('no other operation can slip between the ops of one command', () => {
    // Command 1.1 writes a then b atomically; a concurrent reader can see b or null but never the intermediate a.
    expect(verdictOf([single(1, 1, 0, 100, [put('a'), put('b')], [null, null]), r(2, 1, 10, 20, 'b')]).verdict).toBe('ok');
    expect(verdictOf([single(1, 1, 0, 100, [put('a'), put('b')], [null, null]), r(2, 1, 10, 20, 'a')]).verdict).toBe('violation');
  });
});

describe('pending operations may or may not take effect', () => {
  test('a pending put that a later read saw took effect', () => {
    expect(verdictOf([w(1, 1, 0, null, 'a'), r(2, 1, 50, 60, 'a')]).verdict).toBe('ok');
  });

  test('a pending put that no one saw need not take effect', () => {
    const verdict = verdictOf([w(1, 1, 0, 10, 'a'), w(2, 1, 5, null, 'b'), r(3, 1, 50, 60, 'a')]);
    expect(verdict.verdict).toBe('ok');
    expect(verdict.verdict === 'ok' && verdict.linearization.map(formatRifl)).not.toContain('2.1');
  });

  test('a pending put cannot take effect before it was invoked', () => {
    expect(verdictOf([r(2, 1, 0, 10, 'a'), w(1, 1, 20, null, 'a')]).verdict).toBe('violation');
  });

  test('a pending put can take effect once but not be seen, unseen, then seen again', () => {
    const history = [w(1, 1, 0, 10, 'a'), w(2, 1, 5, null, 'b'), r(3, 1, 20, 30, 'b'), r(3, 2, 40, 50, 'a')];
    expect(verdictOf(history).verdict).toBe('violation');
  });

  test('a pending read constrains nothing and is not searched', () => {
    const verdict = verdictOf([w(1, 1, 0, 10, 'a'), r(2, 1, 0, null, 'ignored')]);
    expect(verdict).toMatchObject({ verdict: 'ok', operations: 1 });
  });
});

describe('keys are checked independently', () => {
  test('one verdict per key, sorted, and the summary counts them', () => {
    const history = [w(1, 1, 0, 10, 'a', 'k2'), r(2, 1, 20, 30, null, 'k2'), w(1, 2, 40, 50, 'b', 'k1'), r(2, 2, 60, 70, 'b', 'k1')];
    const report = checkLinearizability(history);
    expect(report.verdicts.map((v) => [v.key, v.verdict])).toEqual([
      ['k1', 'ok'],
      ['k2', 'violation'],
    ]);
    expect(report).toMatchObject({ keysChecked: 2, ok: 1, violations: 1, unknown: 0 });
    expect(describeReport(report)).toEqual([expect.stringMatching(/^key k2: not linearizable: /)]);
  });

  test('a multi-key command contributes one sub-operation per key', () => {
    const multi = {
      client: 1,
      rifl: makeRifl(1, 1),
      invokeMs: 0,
      completeMs: 10,
      keys: [
        { key: 'a', ops: [put('1')], results: [null] },
        { key: 'b', ops: [get], results: ['never'] },
      ],
    };
    const report = checkLinearizability([multi]);
    expect(report.verdicts.map((v) => [v.key, v.verdict])).toEqual([
      ['a', 'ok'],
      ['b', 'violation'],
    ]);
  });
});

describe('limits and budgets', () => {
  test('a key above maxOperationsPerKey is refused with an error naming the limit', () => {
    const history = [w(1, 1, 0, 1, 'a'), w(1, 2, 2, 3, 'b'), w(1, 3, 4, 5, 'c')];
    expect(() => checkLinearizability(history, { maxOperationsPerKey: 2 })).toThrow(LinearizabilityLimitError);
    expect(() => checkLinearizability(history, { maxOperationsPerKey: 2 })).toThrow(/maxOperationsPerKey=2/);
  });

  test('a zero step budget makes a non-trivial key unknown, never ok', () => {
    const verdict = checkLinearizability([w(1, 1, 0, 10, 'a')], { budgetSteps: 0 }).verdicts[0]!;
    expect(verdict.verdict).toBe('unknown');
    expect(verdict.verdict === 'unknown' && verdict.reason).toMatch(/budgetSteps/);
  });

  test('an injected clock that runs out makes keys unknown', () => {
    let time = 0;
    const now = (): number => (time += 10);
    const history = [w(1, 1, 0, 10, 'a', 'k1'), w(1, 2, 20, 30, 'a', 'k2')];
    const report = checkLinearizability(history, { now, budgetMs: 5 });
    expect(report).toMatchObject({ keysChecked: 2, unknown: 2 });
  });

  test('a clock without a budget (or the reverse) is a usage mistake', () => {
    expect(() => checkLinearizability([], { budgetMs: 5 })).toThrow(/budgetMs and now go together/);
    expect(() => checkLinearizability([], { budgetSteps: -1 })).toThrow(/budgetSteps/);
  });

  test('the search is the same without its cache (the cache only prunes)', () => {
    const history = [w(1, 1, 0, 100, 'a'), w(2, 1, 0, 100, 'b'), r(3, 1, 10, 20, 'a'), r(3, 2, 30, 40, 'b'), r(4, 1, 10, 20, 'b'), r(4, 2, 30, 40, 'a')];
    const cached = checkLinearizability(history).verdicts[0]!;
    const uncached = checkLinearizability(history, { maxCacheWords: 0 }).verdicts[0]!;
    expect(uncached.verdict).toBe(cached.verdict);
    expect(uncached.steps).toBeGreaterThanOrEqual(cached.steps);
  });

  test('checkKeyLinearizability takes one projected key in any order', () => {
    const history = [r(2, 1, 20, 30, 'a'), w(1, 1, 0, 10, 'a')];
    const operations = projectByKey(history).get('x')!.reverse();
    expect(checkKeyLinearizability('x', operations).verdict).toBe('ok');
  });
});

test('a delete that empties the key for good strands a later read of null, and the explanation says so', () => {
  // 2.1 reads null after 1.2 completed, so 1.3's put must come after 2.1; but 1.3 completed before 2.1 began.
  const history = [w(1, 1, 0, 10, 'a'), d(1, 2, 20, 30, 'a'), w(1, 3, 40, 50, 'b'), r(2, 1, 60, 70, null)];
  const verdict = verdictOf(history);
  expect(verdict.verdict === 'violation' && verdict.explanation).toMatch(/after which nothing could bring null back for 2\.1 get → null/);
});
