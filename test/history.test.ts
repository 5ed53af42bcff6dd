import { describe, expect, test } from 'vitest';
import { describeKeyOperation, historyFromSimulation, precedes, projectByKey, validateHistory, type CompletedEntry, type Operation } from '../check/history.js';
import { makeRifl } from '../core/ids.js';
import { del, get, put, r, w } from './support/histories.js';

function entry(client: number, seq: number, invokeMs: number, completeMs: number, keys: CompletedEntry['command']['keys'], results: CompletedEntry['results']): CompletedEntry {
  return { client, rifl: makeRifl(client, seq), command: { keys }, invokeMs, completeMs, results };
}

describe('historyFromSimulation', () => {
  test('matches each key result to its key whatever order the executors answered in', () => {
    const history = historyFromSimulation([
      entry(
        1,
        1,
        0,
        10,
        [
          { key: 'a', ops: [put('1')] },
          { key: 'b', ops: [get, del] },
        ],
        [
          { key: 'b', results: ['old', 'old'] },
          { key: 'a', results: [null] },
        ],
      ),
    ]);
    expect(history).toEqual([
      {
        client: 1,
        rifl: makeRifl(1, 1),
        invokeMs: 0,
        completeMs: 10,
        keys: [
          { key: 'a', ops: [put('1')], results: [null] },
          { key: 'b', ops: [get, del], results: ['old', 'old'] },
        ],
      },
    ]);
  });

  test('commands that never completed become pending operations without results', () => {
    const history = historyFromSimulation([], [{ client: 2, rifl: makeRifl(2, 4), command: { keys: [{ key: 'k', ops: [put('v')] }] }, invokeMs: 7 }]);
    expect(history).toEqual([{ client: 2, rifl: makeRifl(2, 4), invokeMs: 7, completeMs: null, keys: [{ key: 'k', ops: [put('v')], results: null }] }]);
  });

  test('results that do not fit the command are refused, naming the rifl', () => {
    const keys = [{ key: 'a', ops: [get] }];
    expect(() => historyFromSimulation([entry(1, 1, 0, 1, keys, [])])).toThrow(/1\.1: 0 key results for a command on 1 keys/);
    expect(() => historyFromSimulation([entry(1, 1, 0, 1, keys, [{ key: 'z', results: [null] }])])).toThrow(/1\.1: no result for key a/);
    expect(() =>
      historyFromSimulation([
        entry(1, 1, 0, 1, keys, [
          { key: 'a', results: [null] },
          { key: 'a', results: [null] },
        ]),
      ]),
    ).toThrow(/two results for key a/);
    expect(() => historyFromSimulation([entry(1, 1, 0, 1, keys, [{ key: 'a', results: [null, null] }])])).toThrow(/2 results for 1 operations/);
  });
});

describe('validateHistory', () => {
  const cases: Array<[string, Operation[], RegExp]> = [
    ['a rifl twice', [w(1, 1, 0, 1, 'a'), w(1, 1, 2, 3, 'b')], /1\.1 appears twice/],
    ['a completion before the invocation', [w(1, 1, 5, 4, 'a')], /completes at 4 ms, before its invocation at 5 ms/],
    ['a rifl of another client', [{ ...w(1, 1, 0, 1, 'a'), client: 2 }], /belongs to client 1, not 2/],
    ['a time that is not a number', [w(1, 1, Number.NaN, 1, 'a')], /invocation time NaN/],
    ['results on a pending operation', [{ ...w(1, 1, 0, 1, 'a'), completeMs: null }], /never completed but has results/],
    ['no results on a completed operation', [{ ...w(1, 1, 0, 1, 'a'), keys: [{ key: 'x', ops: [get], results: null }] }], /completed without results/],
    ['no keys', [{ ...w(1, 1, 0, 1, 'a'), keys: [] }], /touches no key/],
  ];
  for (const [what, history, message] of cases) {
    test(`refuses ${what}`, () => expect(() => validateHistory(history)).toThrow(message));
  }
});

describe('projectByKey', () => {
  test('one sub-operation per key of each command, keys sorted, each key by invocation time then rifl', () => {
    const multi: Operation = {
      client: 3,
      rifl: makeRifl(3, 1),
      invokeMs: 5,
      completeMs: 9,
      keys: [
        { key: 'a', ops: [put('p')], results: [null] },
        { key: 'b', ops: [get], results: [null] },
      ],
    };
    const projected = projectByKey([r(2, 1, 5, 6, null, 'b'), w(1, 1, 1, 2, 'q', 'b'), multi]);
    expect([...projected.keys()]).toEqual(['a', 'b']);
    expect(projected.get('a')!.map((o) => o.rifl)).toEqual([makeRifl(3, 1)]);
    expect(projected.get('b')!.map((o) => o.rifl)).toEqual([makeRifl(1, 1), makeRifl(2, 1), makeRifl(3, 1)]);
    expect(projected.get('b')![2]!.ops).toEqual([get]);
  });
});

describe('precedes', () => {
  const a = { client: 1, rifl: makeRifl(1, 1), invokeMs: 0, completeMs: 10 };
  test('strictly earlier completion precedes; the same instant is concurrent across clients', () => {
    expect(precedes(a, { client: 2, rifl: makeRifl(2, 1), invokeMs: 11 })).toBe(true);
    expect(precedes(a, { client: 2, rifl: makeRifl(2, 1), invokeMs: 10 })).toBe(false);
  });
  test("but one client's next request at the instant of its reply follows it", () => {
    expect(precedes(a, { client: 1, rifl: makeRifl(1, 2), invokeMs: 10 })).toBe(true);
  });
  test('a pending operation precedes nothing', () => {
    expect(precedes({ ...a, completeMs: null }, { client: 2, rifl: makeRifl(2, 1), invokeMs: 1000 })).toBe(false);
  });
});

test('describeKeyOperation writes an operation the way violation sentences show it', () => {
  const [operation] = projectByKey([w(4, 2, 1.5, 20, 'v')]).get('x')!;
  expect(describeKeyOperation(operation!)).toBe('4.2 put("v") → null [1.5–20 ms]');
  const [pending] = projectByKey([{ ...r(1, 1, 3, 4, null), completeMs: null, keys: [{ key: 'x', ops: [get], results: null }] }]).get('x')!;
  expect(describeKeyOperation(pending!)).toBe('1.1 get [3–never completed]');
});
