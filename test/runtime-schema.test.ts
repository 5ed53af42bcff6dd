/**
 * Differential test of the runtime's message schemas (runtime/schema.ts) against what the protocols
 * really send: simulations of every protocol under random crashes, drops and partitions (so leader
 * changes and per-dot recoveries happen) record every message each process outputs; each one must
 * pass `protocolMessageCheck` as sent and after a round trip through the wire codec. The message
 * types come from each protocols/<name>/messages.ts union, read as text, so a new message type that
 * the schemas miss, or that no simulation exercises, fails here rather than in a live recovery.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { caseArbitrary, scheduleKindsFor } from '../check/arbitraries.js';
import { runCase } from '../check/run-case.js';
import type { Message, Process, ProtocolDefinition } from '../core/process.js';
import { atlas } from '../protocols/atlas/index.js';
import { epaxos } from '../protocols/epaxos/index.js';
import { fpaxos } from '../protocols/fpaxos/index.js';
import { tempo } from '../protocols/tempo/index.js';
import { MSGPACK_CODEC } from '../runtime/codec.js';
import { commandCheck, frameCheck, protocolMessageCheck } from '../runtime/schema.js';

/** The `type` tags of the protocol's message union, read from its messages.ts. */
function messageTypesOf(protocol: string): string[] {
  const source = readFileSync(new URL(`../protocols/${protocol}/messages.ts`, import.meta.url), 'utf8');
  const union = /export type \w+Message\s*=([^;]+);/.exec(source);
  if (union === null) throw new Error(`${protocol}/messages.ts: no message union`);
  const names = union[1]!.split('|').map((s) => s.trim()).filter((s) => s !== '');
  return names.map((name) => {
    const tag = new RegExp(`export interface ${name} \\{\\s*readonly type: '(\\w+)';`).exec(source);
    if (tag === null) throw new Error(`${protocol}/messages.ts: no type tag for ${name}`);
    return tag[1]!;
  });
}

/** The definition, with every message its processes output recorded by type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function recording(definition: ProtocolDefinition<any, any>, sink: (n: number, msg: Message) => void): ProtocolDefinition<any, any> {
  return {
    ...definition,
    createProcess(id, config) {
      const process = definition.createProcess(id, config) as Process<Message, unknown>;
      return new Proxy(process, {
        get(target, name, receiver) {
          if (name === 'drain') {
            return () => {
              const outputs = target.drain();
              for (const output of outputs) if (output.kind === 'send') sink(config.n, output.msg);
              return outputs;
            };
          }
          const value = Reflect.get(target, name, receiver) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
}

/**
 * Message types the random schedules below do not produce, with why. Each entry is checked to be
 * really unseen, so the list cannot go stale.
 */
const NOT_EXERCISED: Record<string, readonly string[]> = {
  fpaxos: [],
  tempo: [],
  atlas: [],
  epaxos: [],
};

const CASES = 40;

describe('runtime message schemas match what the protocols send', () => {
  for (const definition of [fpaxos, tempo, atlas, epaxos]) {
    test(`${definition.name}: every message of ${CASES} faulty simulations fits its schema, raw and after the codec; every type is seen`, () => {
      const types = messageTypesOf(definition.name);
      const seen = new Map<string, number>();
      const problems: string[] = [];
      const checks = new Map<number, ReturnType<typeof frameCheck>>();
      const wrapped = recording(definition, (n, msg) => {
        let check = checks.get(n);
        if (check === undefined) checks.set(n, (check = protocolMessageCheck(definition.name, n)!));
        seen.set(msg.type, (seen.get(msg.type) ?? 0) + 1);
        if (problems.length >= 5) return;
        const raw = check(msg, 'msg');
        if (raw !== null) problems.push(`${raw} in ${JSON.stringify(msg).slice(0, 300)}`);
        const decoded = MSGPACK_CODEC.decode(MSGPACK_CODEC.encode({ k: 'msgs', msgs: [msg] }));
        const wire = frameCheck(check, n)(decoded, 'frame');
        if (wire !== null) problems.push(`after the codec: ${wire}`);
      });
      const kinds = scheduleKindsFor(definition.faultTolerance);
      let recovered = 0;
      for (const sampled of fc.sample(caseArbitrary({ protocol: definition.name, kinds }), { seed: 606, numRuns: CASES })) {
        // Swarm cases run up to 100 commands per client; the message types show up within 10.
        const c = { ...sampled, commandsPerClient: Math.min(sampled.commandsPerClient, 10) };
        const outcome = runCase(wrapped, c, { linearizabilitySteps: 1 });
        recovered += outcome.recovered;
      }
      expect(problems).toEqual([]);
      expect(recovered).toBeGreaterThan(0);
      const unseen = types.filter((t) => !seen.has(t));
      expect(unseen).toEqual(NOT_EXERCISED[definition.name]);
      // Nothing outside the union was sent, and the schema accepts exactly the union's types.
      expect([...seen.keys()].filter((t) => !types.includes(t))).toEqual([]);
      const refusal = protocolMessageCheck(definition.name, 3)!({ type: '?' }, 'msg');
      expect(refusal).toMatch(/unknown .* message type/);
      expect(refusal!.split('accepted: ')[1]!.split(', ').sort()).toEqual([...types].sort());
    }, 120_000);
  }
});

describe('runtime message schemas refuse what the protocols never send', () => {
  const cmd = { rifl: 2 ** 32 + 1, keys: [{ key: 'k', ops: [{ op: 'put', value: 'v' }] }], payloadBytes: 0 };
  const tempoCheck = protocolMessageCheck('tempo', 3)!;
  const atlasCheck = protocolMessageCheck('atlas', 3)!;
  const epaxosCheck = protocolMessageCheck('epaxos', 3)!;
  const fpaxosCheck = protocolMessageCheck('fpaxos', 3)!;
  const dot = 2 ** 32 + 1;

  test('well-formed recovery messages pass', () => {
    expect(tempoCheck({ type: 'MRec', dot, ballot: 4, cmd, quorum: [1, 2] }, 'm')).toBeNull();
    expect(atlasCheck({ type: 'MRec', dot, ballot: 4, payload: null }, 'm')).toBeNull();
    expect(epaxosCheck({ type: 'MPrepareOk', dot, ballot: 4, cmd: null, preAccepted: null, accepted: { ballot: 3, value: { cmd: null, deps: [], seq: 1 } } }, 'm')).toBeNull();
    expect(fpaxosCheck({ type: 'MPromise', ballot: 4, accepted: [{ slot: 1, abal: 1, cmd: null }], committed: 0 }, 'm')).toBeNull();
  });

  test('a missing field, a wrong type, an extra field, a bad enum, an oversized array or an unknown type is refused with its path', () => {
    expect(tempoCheck({ type: 'MRec', dot, ballot: 4, cmd }, 'msgs[0]')).toBe('msgs[0].quorum: expected an array');
    expect(tempoCheck({ type: 'MRec', dot, ballot: '4', cmd, quorum: [1] }, 'msgs[0]')).toMatch(/^msgs\[0\]\.ballot: expected an integer/);
    expect(tempoCheck({ type: 'MRecAck', dot, ballot: 1, proposal: 1, votes: [], phase: 'NO_PAYLOAD', abal: 0, aval: 0 }, 'm')).toMatch(/^m\.phase: expected one of/);
    expect(tempoCheck({ type: 'MRec', dot, ballot: 1, cmd, quorum: [1, 2, 3, 1] }, 'm')).toMatch(/^m\.quorum: 4 items exceed the limit of 3/);
    expect(tempoCheck({ type: 'MRec', dot, ballot: 1, cmd, quorum: [4] }, 'm')).toMatch(/^m\.quorum\[0\]: expected an integer from 1 to 3/);
    expect(tempoCheck({ type: 'MCommit', dot, clock: 1, votes: [], cmd: { ...cmd, keys: [] } }, 'm')).toBe('m.cmd.keys: a command needs at least one key');
    expect(atlasCheck({ type: 'MRecAck', dot, ballot: 1, deps: [], phase: 'RECOVER_R', abal: 0, aval: { isNoop: 'no', deps: [] }, payload: null }, 'm')).toBe('m.aval.isNoop: expected a boolean');
    expect(atlasCheck({ type: 'MRec', dot, ballot: 1 }, 'm')).toMatch(/^m\.payload: expected an object/);
    expect(epaxosCheck({ type: 'MPrepare', dot, ballot: 1, cmd: null, extra: 1 }, 'm')).toBe("m: unexpected field 'extra'");
    expect(epaxosCheck({ type: 'MCommit', dot: 0, value: { cmd: null, deps: [], seq: 0 } }, 'm')).toMatch(/^m\.dot: expected an integer from 1/);
    expect(fpaxosCheck({ type: 'MPromise', ballot: 1, accepted: [{ slot: 1, abal: 1 }], committed: 0 }, 'm')).toMatch(/^m\.accepted\[0\]\.cmd: expected an object/);
    expect(fpaxosCheck({ type: 'MElect', ballot: 1 }, 'msgs[2]')).toMatch(/^msgs\[2\]: unknown fpaxos message type "MElect"; accepted: .*MPrepare/);
    expect(protocolMessageCheck('nope', 3)).toBeUndefined();
  });
});

describe('client commands at the edge', () => {
  test('application calls (the adapter register) pass; a malformed call is refused with its path', () => {
    const call = { rifl: 4294967297, keys: [{ key: 'target', ops: [{ op: 'call', name: 'propose', args: '{"digest":"ab","size":3}' }] }], payloadBytes: 0 };
    expect(commandCheck(call, 'cmd')).toBeNull();
    const noArgs = { ...call, keys: [{ key: 'target', ops: [{ op: 'call', name: 'propose' }] }] };
    expect(commandCheck(noArgs, 'cmd')).toBe('cmd.keys[0].ops[0].args: expected a string of at most 1048576 characters');
    const unknown = { ...call, keys: [{ key: 'target', ops: [{ op: 'exec' }] }] };
    expect(commandCheck(unknown, 'cmd')).toMatch(/^cmd\.keys\[0\]\.ops\[0\]: unknown operation "exec"; accepted: get, put, delete, call$/);
  });
});
