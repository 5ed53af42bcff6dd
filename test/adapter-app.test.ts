/** The application seam: config.app, the StateMachine factory, the `call` op and the register as an app. */
import { describe, expect, it } from 'vitest';
import { AdapterRegisterApp, decodeOutcome, decodeState, markStableOp, proposeOp, readOp, registerCommand, voteOp } from '../apps/adapter-register/app.js';
import { sha256Hex } from '../apps/adapter-register/sha256.js';
import { createApplication } from '../apps/index.js';
import { KVStore } from '../apps/kv/store.js';
import { conflicts, makeCommand } from '../core/command.js';
import { ConfigError, makeConfig, PROTOCOL_NAMES, type AppName } from '../core/config.js';
import { UnsupportedOperationError } from '../core/state-machine.js';
import { protocolByName } from '../protocols/index.js';

const DIGEST = sha256Hex('adapter bytes');

describe('config.app', () => {
  it('is absent by default (the key-value store) and accepts adapter-register', () => {
    expect(makeConfig('tempo', { n: 3 }).app).toBeUndefined();
    expect(createApplication(makeConfig('tempo', { n: 3 }))).toBeInstanceOf(KVStore);
    expect(createApplication(makeConfig('fpaxos', { n: 5, app: 'adapter-register' }))).toBeInstanceOf(AdapterRegisterApp);
  });

  it('rejects an unknown application with the accepted names', () => {
    expect(() => makeConfig('fpaxos', { n: 3, app: 'bank' as AppName })).toThrow(ConfigError);
    expect(() => makeConfig('fpaxos', { n: 3, app: 'bank' as AppName })).toThrow("unknown application 'bank'; accepted: kv, adapter-register");
  });

  it('reaches the executor of every protocol', () => {
    for (const name of PROTOCOL_NAMES) {
      const config = makeConfig(name, { n: 3, app: 'adapter-register' });
      const executor = protocolByName(name).createExecutor(1, config, 0) as unknown as { app: unknown };
      expect(executor.app, name).toBeInstanceOf(AdapterRegisterApp);
      const kv = protocolByName(name).createExecutor(1, makeConfig(name, { n: 3 }), 0) as unknown as { app: unknown };
      expect(kv.app, name).toBeInstanceOf(KVStore);
    }
  });
});

describe('the call operation', () => {
  it('is refused by the key-value store, naming the operation', () => {
    const store = new KVStore();
    expect(() => store.apply({ key: 'x', ops: [proposeOp({ digest: DIGEST, size: 1, proposedAt: 0 })] })).toThrow(UnsupportedOperationError);
    expect(() => store.apply({ key: 'x', ops: [markStableOp('1-a')] })).toThrow("no operation 'markStable' (key x)");
  });

  it('is a write for conflicts; register reads (gets) commute', () => {
    const propose = registerCommand(1, 't', proposeOp({ digest: DIGEST, size: 1, proposedAt: 0 }));
    const vote = registerCommand(2, 't', voteOp({ versionId: '1-a', validator: '1', pass: true, evidence: '' }));
    const read = registerCommand(3, 't', readOp());
    const otherRead = registerCommand(4, 't', readOp());
    const otherTarget = registerCommand(5, 'u', proposeOp({ digest: DIGEST, size: 1, proposedAt: 0 }));
    expect(conflicts(propose, vote)).toBe(true);
    expect(conflicts(propose, read)).toBe(true);
    expect(conflicts(read, otherRead)).toBe(false);
    expect(conflicts(propose, otherTarget)).toBe(false);
    expect(conflicts(makeCommand(6, [{ key: 't', ops: [{ op: 'get' }] }]), vote)).toBe(true);
  });
});

describe('the adapter register as an application', () => {
  function call(app: AdapterRegisterApp, target: string, op: Parameters<typeof registerCommand>[2]) {
    const results = app.apply({ key: target, ops: [op] });
    expect(results).toHaveLength(1);
    return results[0]!;
  }

  it('runs propose, vote and markStable from encoded calls, and answers get with the state', () => {
    const app = createApplication(makeConfig('epaxos', { n: 3, app: 'adapter-register' })) as AdapterRegisterApp;
    const proposed = decodeOutcome(call(app, 'slot0', proposeOp({ digest: DIGEST, size: 2048, proposedAt: 3 })));
    if (!proposed.ok) throw new Error(proposed.reason);
    const versionId = proposed.versionId;
    // The validators are the processes, named by id.
    expect(decodeOutcome(call(app, 'slot0', voteOp({ versionId, validator: '4', pass: true, evidence: '' })))).toMatchObject({ ok: false });
    expect(decodeOutcome(call(app, 'slot0', voteOp({ versionId, validator: '1', pass: true, evidence: 'q=0.9' })))).toMatchObject({ ok: true, phase: 'BETA_TESTING' });
    expect(decodeOutcome(call(app, 'slot0', voteOp({ versionId, validator: '3', pass: true, evidence: 'q=0.8' })))).toMatchObject({ ok: true, phase: 'RELEASE_COMMIT' });
    expect(decodeOutcome(call(app, 'slot0', markStableOp(versionId)))).toEqual({ ok: true, versionId, phase: 'STABLE' });
    const state = decodeState(call(app, 'slot0', readOp()));
    expect(state).toMatchObject({ target: 'slot0', phase: 'STABLE', current: { versionId, digest: DIGEST, size: 2048 }, logLength: 5 });
    expect(state.logHead).toBe(app.auditLog('slot0').at(-1)!.hash);
    // Targets are independent: their own sequence numbers and logs.
    const other = decodeOutcome(call(app, 'slot1', proposeOp({ digest: DIGEST, size: 1, proposedAt: 0 })));
    expect(other).toMatchObject({ ok: true, versionId: `1-${DIGEST.slice(0, 12)}` });
    expect(app.targetNames()).toEqual(['slot0', 'slot1']);
  });

  it('answers malformed, unknown and key-value operations with a reason and changes nothing', () => {
    const app = new AdapterRegisterApp({ validators: ['1', '2', '3'] });
    const reasons = [
      call(app, 't', { op: 'call', name: 'propose', args: 'not json' }),
      call(app, 't', { op: 'call', name: 'propose', args: '[1]' }),
      call(app, 't', { op: 'call', name: 'propose', args: '{"digest":1,"size":1,"proposedAt":0}' }),
      call(app, 't', { op: 'call', name: 'propose', args: 'x'.repeat(5000) }),
      call(app, 't', { op: 'call', name: 'vote', args: '{"versionId":"1-a","validator":"1","pass":"yes","evidence":""}' }),
      call(app, 't', { op: 'call', name: 'rollback', args: '{}' }),
      call(app, 't', { op: 'put', value: 'v' }),
      call(app, 't', { op: 'delete' }),
      call(app, 't', proposeOp({ digest: 'nothex', size: 1, proposedAt: 0 })),
      call(app, '', proposeOp({ digest: DIGEST, size: 1, proposedAt: 0 })),
    ].map((result) => {
      const outcome = decodeOutcome(result);
      if (outcome.ok) throw new Error('accepted a bad operation');
      return outcome.reason;
    });
    expect(reasons).toEqual([
      'arguments of propose are not JSON',
      'arguments of propose must be a JSON object',
      "propose needs 'digest' as a string",
      'arguments of propose exceed CALL_ARGS_CHARS_MAX=4096 characters',
      "vote needs 'pass' as a boolean",
      "unknown register operation 'rollback'; accepted: propose, vote, markStable",
      "the adapter register has no 'put'; use propose, vote, markStable or get",
      "the adapter register has no 'delete'; use propose, vote, markStable or get",
      "digest must be 64 lowercase hex digits (SHA-256), got 'nothex'",
      'target names have 1 to 256 characters',
    ]);
    expect(app.targetNames()).toEqual([]);
    expect(decodeState(call(app, 't', readOp()))).toMatchObject({ phase: 'STABLE', current: null, logLength: 0 });
    expect(app.targetNames()).toEqual([]);
  });

  it('runs several operations of one command in order', () => {
    const app = new AdapterRegisterApp({ validators: ['1'] });
    const versionId = `1-${DIGEST.slice(0, 12)}`;
    const results = app.apply({
      key: 't',
      ops: [proposeOp({ digest: DIGEST, size: 1, proposedAt: 0 }), voteOp({ versionId, validator: '1', pass: true, evidence: '' }), readOp()],
    });
    expect(results.map((result, i) => (i < 2 ? decodeOutcome(result).ok : decodeState(result).phase))).toEqual([true, true, 'RELEASE_COMMIT']);
  });
});
