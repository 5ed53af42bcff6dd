import { describe, expect, test } from 'vitest';
import { makeCommand } from '../core/command.js';
import { makeDot, makeRifl } from '../core/ids.js';
import { DependencyIndex } from '../protocols/common/dependency-index.js';
import { sortUniqueDeps, unionDeps, withoutDeps } from '../protocols/common/deps.js';
import { Synod } from '../protocols/common/synod.js';

const write = (id: number, ...keys: string[]) => makeCommand(makeRifl(id, 1), keys.map((key) => ({ key, ops: [{ op: 'put' as const, value: 'v' }] })));
const read = (id: number, ...keys: string[]) => makeCommand(makeRifl(id, 1), keys.map((key) => ({ key, ops: [{ op: 'get' as const }] })));

describe('Option-F dependency index', () => {
  test('a read depends on the writes, a write on the reads and the writes (two reads then a write)', () => {
    const index = new DependencyIndex();
    const [w1, r1, r2] = [makeDot(1, 1), makeDot(2, 1), makeDot(3, 1)];
    index.register(w1, write(1, 'k'), 1);
    expect(index.conflicts(read(2, 'k'))).toEqual([w1]);
    index.register(r1, read(2, 'k'), 2);
    expect(index.conflicts(read(3, 'k'))).toEqual([w1]); // reads do not depend on reads
    index.register(r2, read(3, 'k'), 2);
    expect(index.conflicts(write(4, 'k'))).toEqual([w1, r1, r2]);
    expect(index.nextSeq([w1, r1, r2])).toBe(3);
    expect(index.conflicts(write(5, 'other'))).toEqual([]);
  });

  test('multi-key commands get the sorted union; pruning forgets a command on every key', () => {
    const index = new DependencyIndex();
    const [a, b] = [makeDot(2, 1), makeDot(1, 1)];
    index.register(a, write(1, 'x', 'y'), 1);
    index.register(b, write(2, 'y'), 2);
    expect(index.conflicts(write(3, 'x', 'y'))).toEqual([b, a]);
    index.prune(a);
    expect(index.conflicts(write(3, 'x', 'y'))).toEqual([b]);
    expect(index.keyCount).toBe(1);
    index.prune(b);
    expect(index.size).toBe(0);
    expect(index.keyCount).toBe(0);
  });
});

describe('sorted dependency arrays', () => {
  test('union, dedupe and filter', () => {
    expect(unionDeps([1, 3, 5], [2, 3, 6])).toEqual([1, 2, 3, 5, 6]);
    const same = [1, 2];
    expect(unionDeps(same, [2])).toBe(same);
    expect(sortUniqueDeps([5, 1, 5, 3, 1])).toEqual([1, 3, 5]);
    expect(withoutDeps([1, 2, 3, 4], (d) => d % 2 === 0)).toEqual([1, 3]);
  });
});

describe('single-decree synod', () => {
  test('bal and abal are kept apart; lower ballots are rejected; acks count once per acceptor for the current ballot', () => {
    const acceptor = new Synod<string>();
    acceptor.setInitialValue('mine');
    expect([acceptor.bal, acceptor.abal, acceptor.aval]).toEqual([0, 0, 'mine']);
    expect(acceptor.accept(7, 'v7')).toEqual({ kind: 'accepted', ballot: 7 });
    expect(acceptor.accept(3, 'v3')).toEqual({ kind: 'rejected', bal: 7 });
    expect([acceptor.bal, acceptor.abal, acceptor.aval]).toEqual([7, 7, 'v7']);
    acceptor.setInitialValue('late'); // an MCollect after an Accept does not overwrite the accepted value
    expect(acceptor.aval).toBe('v7');
    expect(acceptor.recoveryBallot(2, 5)).toBe(12);

    const proposer = new Synod<string>();
    proposer.propose(Synod.roundZeroBallot(1), 'x');
    expect(proposer.accepted(2, 1, 2)).toBeUndefined();
    expect(proposer.accepted(2, 1, 2)).toBeUndefined();
    expect(proposer.accepted(3, 6, 2)).toBeUndefined(); // another ballot
    expect(proposer.accepted(3, 1, 2)).toBe('x');
    proposer.choose('x');
    expect(proposer.accept(100, 'y')).toEqual({ kind: 'chosen', value: 'x' });
  });
});
