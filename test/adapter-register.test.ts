/** The adapter register's transitions, one by one, legal and illegal (docs/adapter-register.md). */
import { describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../apps/adapter-register/audit-log.js';
import { RegisterLimitError, TargetRegister, validateRegisterOptions } from '../apps/adapter-register/register.js';
import { sha256Hex } from '../apps/adapter-register/sha256.js';

const A = sha256Hex('adapter A');
const B = sha256Hex('adapter B');
const C = sha256Hex('adapter C');
const THREE = { validators: ['v1', 'v2', 'v3'] };
const FIVE = { validators: ['v1', 'v2', 'v3', 'v4', 'v5'] };

function idOf(outcome: ReturnType<TargetRegister['propose']>): string {
  if (!outcome.ok) throw new Error(`expected acceptance, got: ${outcome.reason}`);
  return outcome.versionId;
}

function reason(outcome: ReturnType<TargetRegister['propose']>): string {
  if (outcome.ok) throw new Error(`expected a rejection, got acceptance of ${outcome.versionId}`);
  return outcome.reason;
}

describe('adapter register: propose', () => {
  it('starts STABLE with nothing current and an empty log', () => {
    const register = new TargetRegister('llama/slot0', THREE);
    expect(register.read()).toMatchObject({ phase: 'STABLE', current: null, candidate: null, nextSeq: 1, logLength: 0 });
  });

  it('assigns <seq>-<digest prefix> ids and moves to BETA_TESTING', () => {
    const register = new TargetRegister('t', THREE);
    const outcome = register.propose(A, 4096, 10);
    expect(outcome).toEqual({ ok: true, versionId: `1-${A.slice(0, 12)}`, phase: 'BETA_TESTING' });
    expect(register.read().candidate).toEqual({ versionId: `1-${A.slice(0, 12)}`, seq: 1, digest: A, size: 4096, proposedAt: 10, votes: [] });
    expect(register.auditLog().map((entry) => entry.event.type)).toEqual(['proposed']);
  });

  it('supersedes an unfinished candidate, which then can no longer be voted on', () => {
    const register = new TargetRegister('t', THREE);
    const first = idOf(register.propose(A, 1, 0));
    register.vote(first, 'v1', true, 'ok');
    const second = idOf(register.propose(B, 1, 5));
    expect(second.startsWith('2-')).toBe(true);
    expect(register.auditLog().map((entry) => entry.event)).toContainEqual({ type: 'superseded', versionId: first, by: second });
    expect(reason(register.vote(first, 'v2', true, 'ok'))).toContain('is not the candidate');
    expect(register.read().candidate?.votes).toEqual([]);
  });

  it('rejects malformed digests, sizes and times, and re-proposals of the current or candidate bytes', () => {
    const register = new TargetRegister('t', THREE);
    expect(reason(register.propose('ABC', 1, 0))).toContain('64 lowercase hex');
    expect(reason(register.propose(A.toUpperCase(), 1, 0))).toContain('64 lowercase hex');
    expect(reason(register.propose(A, 0, 0))).toContain('size must be');
    expect(reason(register.propose(A, 1.5, 0))).toContain('size must be');
    expect(reason(register.propose(A, 1, -1))).toContain('proposedAt');
    expect(reason(register.propose(A, 1, Number.NaN))).toContain('proposedAt');
    const version = idOf(register.propose(A, 1, 0));
    expect(reason(register.propose(A, 1, 1))).toContain(`already the candidate ${version}`);
    register.vote(version, 'v1', true, '');
    register.vote(version, 'v2', true, '');
    expect(reason(register.propose(A, 1, 2))).toContain(`already current as ${version}`);
    // Nothing rejected reached the log.
    expect(register.auditLog().map((entry) => entry.event.type)).toEqual(['proposed', 'voted', 'voted', 'released']);
  });

  it('accepts a proposal during RELEASE_COMMIT without touching current', () => {
    const register = new TargetRegister('t', THREE);
    const a = idOf(register.propose(A, 1, 0));
    register.vote(a, 'v1', true, '');
    register.vote(a, 'v2', true, '');
    const b = idOf(register.propose(B, 1, 1));
    expect(register.read()).toMatchObject({ phase: 'BETA_TESTING', current: { versionId: a }, candidate: { versionId: b } });
  });
});

describe('adapter register: vote', () => {
  it('releases on a strict majority of passes of the whole group (2 of 3)', () => {
    const register = new TargetRegister('t', THREE);
    const a = idOf(register.propose(A, 1, 0));
    expect(register.vote(a, 'v1', true, 'score 0.91')).toEqual({ ok: true, versionId: a, phase: 'BETA_TESTING' });
    expect(register.read().current).toBeNull();
    expect(register.vote(a, 'v3', true, 'score 0.93')).toEqual({ ok: true, versionId: a, phase: 'RELEASE_COMMIT' });
    const state = register.read();
    expect(state.current).toEqual({ versionId: a, seq: 1, digest: A, size: 1 });
    expect(state.candidate).toBeNull();
    expect(register.auditLog().at(-1)!.event).toEqual({ type: 'released', versionId: a, passes: 2, fails: 0 });
  });

  it('needs 3 passes of 5: two passes and two fails keep it in BETA_TESTING', () => {
    const register = new TargetRegister('t', FIVE);
    const a = idOf(register.propose(A, 1, 0));
    register.vote(a, 'v1', true, '');
    register.vote(a, 'v2', false, '');
    register.vote(a, 'v3', true, '');
    register.vote(a, 'v4', false, '');
    expect(register.read()).toMatchObject({ phase: 'BETA_TESTING', current: null });
    expect(register.vote(a, 'v5', true, '')).toMatchObject({ ok: true, phase: 'RELEASE_COMMIT' });
  });

  it('rejects the candidate once fails reach ⌈groupSize/2⌉ (2 of 3, 3 of 5), keeping current', () => {
    const three = new TargetRegister('t', THREE);
    const a = idOf(three.propose(A, 1, 0));
    three.vote(a, 'v1', true, '');
    three.vote(a, 'v2', true, '');
    const b = idOf(three.propose(B, 1, 1));
    expect(three.vote(b, 'v1', false, 'regressed')).toMatchObject({ phase: 'BETA_TESTING' });
    expect(three.vote(b, 'v2', false, 'regressed')).toEqual({ ok: true, versionId: b, phase: 'STABLE' });
    expect(three.read()).toMatchObject({ phase: 'STABLE', candidate: null, current: { versionId: a } });
    expect(three.auditLog().at(-1)!.event).toEqual({ type: 'rejected', versionId: b, passes: 0, fails: 2 });
    expect(reason(three.vote(b, 'v3', true, ''))).toContain('no candidate is under evaluation');

    const five = new TargetRegister('t', FIVE);
    const c = idOf(five.propose(C, 1, 0));
    five.vote(c, 'v1', false, '');
    five.vote(c, 'v2', false, '');
    expect(five.read().phase).toBe('BETA_TESTING');
    expect(five.vote(c, 'v3', false, '')).toMatchObject({ phase: 'STABLE' });
  });

  it('counts the first vote of each validator only', () => {
    const register = new TargetRegister('t', THREE);
    const a = idOf(register.propose(A, 1, 0));
    register.vote(a, 'v1', false, 'first');
    expect(reason(register.vote(a, 'v1', true, 'second'))).toContain("validator 'v1' already voted");
    expect(register.read().candidate?.votes).toEqual([{ validator: 'v1', pass: false, evidence: 'first' }]);
  });

  it('rejects votes from outside the group, on unknown versions, in STABLE, and with oversized evidence', () => {
    const register = new TargetRegister('t', THREE);
    expect(reason(register.vote('1-abc', 'v1', true, ''))).toContain('no candidate is under evaluation (phase STABLE)');
    const a = idOf(register.propose(A, 1, 0));
    expect(reason(register.vote(a, 'mallory', true, ''))).toContain("'mallory' is not a validator");
    expect(reason(register.vote('7-deadbeef', 'v1', true, ''))).toContain(`(the candidate is ${a})`);
    expect(reason(register.vote(a, 'v1', true, 'x'.repeat(1025)))).toContain('EVIDENCE_CHARS_MAX');
    expect(register.read().candidate?.votes).toEqual([]);
    expect(register.auditLog()).toHaveLength(1);
  });

  it('rejects votes during RELEASE_COMMIT', () => {
    const register = new TargetRegister('t', THREE);
    const a = idOf(register.propose(A, 1, 0));
    register.vote(a, 'v1', true, '');
    register.vote(a, 'v2', true, '');
    expect(reason(register.vote(a, 'v3', true, ''))).toContain('phase RELEASE_COMMIT');
  });
});

describe('adapter register: markStable', () => {
  it('moves RELEASE_COMMIT → STABLE for the released version only', () => {
    const register = new TargetRegister('t', THREE);
    expect(reason(register.markStable('1-x'))).toContain('needs phase RELEASE_COMMIT (phase is STABLE)');
    const a = idOf(register.propose(A, 1, 0));
    expect(reason(register.markStable(a))).toContain('phase is BETA_TESTING');
    register.vote(a, 'v1', true, '');
    register.vote(a, 'v2', true, '');
    expect(reason(register.markStable('2-zzz'))).toContain(`current is ${a}`);
    expect(register.markStable(a)).toEqual({ ok: true, versionId: a, phase: 'STABLE' });
    expect(reason(register.markStable(a))).toContain('phase is STABLE');
    expect(register.read()).toMatchObject({ phase: 'STABLE', current: { versionId: a } });
  });
});

describe('adapter register: options, limits and the log', () => {
  it('validates the group', () => {
    expect(() => validateRegisterOptions({ validators: [] })).toThrow('1 to 15 validators');
    expect(() => validateRegisterOptions({ validators: ['a', 'a'] })).toThrow("'a' appears twice");
    expect(() => validateRegisterOptions({ validators: [''] })).toThrow('1 to 64 characters');
    expect(() => validateRegisterOptions({ validators: ['a'], logEntriesMax: 0 })).toThrow('logEntriesMax');
  });

  it('refuses a whole operation that would overflow the log, naming the limit', () => {
    const register = new TargetRegister('t', { ...THREE, logEntriesMax: 3 });
    const a = idOf(register.propose(A, 1, 0));
    register.vote(a, 'v1', true, '');
    // The second pass would need two entries (voted, released): neither is applied.
    expect(() => register.vote(a, 'v2', true, '')).toThrow(RegisterLimitError);
    expect(() => register.vote(a, 'v2', true, '')).toThrow('logEntriesMax=3');
    expect(register.read()).toMatchObject({ phase: 'BETA_TESTING', logLength: 2 });
    expect(register.read().candidate?.votes).toHaveLength(1);
  });

  it('chains every entry to the one before and reports the head', () => {
    const register = new TargetRegister('t', THREE);
    const a = idOf(register.propose(A, 1, 0));
    register.vote(a, 'v1', true, '');
    register.vote(a, 'v2', true, '');
    register.markStable(a);
    const log = register.auditLog();
    expect(log.map((entry) => entry.index)).toEqual([0, 1, 2, 3, 4]);
    for (let i = 1; i < log.length; i++) expect(log[i]!.previousHash).toBe(log[i - 1]!.hash);
    expect(verifyAuditLog(log)).toEqual({ ok: true, head: register.read().logHead, length: 5 });
  });
});
