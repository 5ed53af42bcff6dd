import { describe, expect, test } from 'vitest';
import { ConfigError, makeConfig } from '../core/config.js';
import { conflicts, isReadOnly, makeCommand } from '../core/command.js';
import { dotSeq, dotSource, formatDot, makeDot, makeRifl } from '../core/ids.js';
import { FrontierSet } from '../core/frontier.js';
import { KVStore } from '../apps/kv/store.js';

describe('config validation', () => {
  test('one clear sentence per mistake', () => {
    expect(() => makeConfig('fpaxos', { n: 5, f: 3 })).toThrow(new ConfigError('f=3 needs at least 7 processes (got n=5)'));
    expect(() => makeConfig('atlas', { n: 4, f: 2 })).toThrow('f=2 needs at least 5 processes (got n=4)');
    expect(() => makeConfig('fpaxos', { n: 3, leader: 4 })).toThrow('leader must be a process id from 1 to 3 (got 4)');
    expect(() => makeConfig('tempo', { n: 2 })).toThrow('n must be an integer from 3 to 64 (got 2)');
    expect(() => makeConfig('tempo', { n: 3, f: 0 })).toThrow('f must be an integer of at least 1 (got f=0)');
    expect(() => makeConfig('tempo', { n: 3, tempoDetachedIntervalMs: 0 })).toThrow(/tempo detached interval must be positive/);
  });

  test('EPaxos ignores f', () => {
    expect(makeConfig('epaxos', { n: 3, f: 5 }).n).toBe(3);
  });
});

describe('ids and commands', () => {
  test('dots encode (source, seq) and order lexicographically', () => {
    const a = makeDot(2, 7);
    expect(dotSource(a)).toBe(2);
    expect(dotSeq(a)).toBe(7);
    expect(formatDot(a)).toBe('(2,7)');
    expect(makeDot(1, 4_000_000_000) < makeDot(2, 1)).toBe(true);
    expect(makeDot(3, 1) < makeDot(3, 2)).toBe(true);
  });

  test('conflict relation: a shared key that at least one writes', () => {
    const put = (seq: number, ...keys: string[]) => makeCommand(makeRifl(1, seq), keys.map((key) => ({ key, ops: [{ op: 'put', value: 'v' }] })));
    const get = (seq: number, ...keys: string[]) => makeCommand(makeRifl(2, seq), keys.map((key) => ({ key, ops: [{ op: 'get' }] })));
    expect(conflicts(put(1, 'a'), put(2, 'a'))).toBe(true);
    expect(conflicts(put(1, 'a'), get(1, 'a'))).toBe(true);
    expect(conflicts(get(1, 'a'), get(2, 'a'))).toBe(false);
    expect(conflicts(put(1, 'a', 'c'), put(2, 'b', 'd'))).toBe(false);
    expect(conflicts(put(1, 'z', 'b'), get(1, 'a', 'b'))).toBe(true);
    expect(isReadOnly(get(1, 'a', 'b'))).toBe(true);
    expect(isReadOnly(put(1, 'a'))).toBe(false);
    expect(() => makeCommand(makeRifl(1, 1), [])).toThrow(/at least one key/);
    expect(() => put(1, 'a', 'a')).toThrow(/appears twice/);
  });

  test('frontier sets fill gaps', () => {
    const set = new FrontierSet();
    expect(set.add(2)).toBe(true);
    expect(set.frontier).toBe(0);
    expect(set.add(1)).toBe(true);
    expect(set.frontier).toBe(2);
    expect(set.add(2)).toBe(false);
    set.add(5);
    set.addUpTo(4);
    expect(set.frontier).toBe(5);
    expect(set.exceptionCount).toBe(0);
  });
});

describe('kv store', () => {
  test('get, put, delete and list by prefix', () => {
    const kv = new KVStore();
    expect(kv.get('a')).toBeNull();
    expect(kv.put('user/2', 'bob')).toBeNull();
    kv.put('user/1', 'ann');
    kv.put('item/1', 'pen');
    expect(kv.get('user/1')).toBe('ann');
    expect(kv.list('user/')).toEqual([
      ['user/1', 'ann'],
      ['user/2', 'bob'],
    ]);
    expect(kv.delete('user/1')).toBe('ann');
    expect(kv.delete('user/1')).toBeNull();
    expect(kv.list('user/')).toEqual([['user/2', 'bob']]);
    expect(kv.apply({ key: 'x', ops: [{ op: 'put', value: '1' }, { op: 'get' }, { op: 'delete' }, { op: 'get' }] })).toEqual([null, '1', '1', null]);
  });
});
