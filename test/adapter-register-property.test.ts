/**
 * Property tests of the adapter register over random operation streams: safety (current only ever
 * becomes a version that won a strict majority of first pass votes while it was the candidate), no
 * resurrection of rejected or superseded versions, monotonic sequence numbers, rejected operations
 * change nothing, and the audit log always verifies against the register's head. The facts are
 * tracked by the test from the operations' answers, independently of the register's own bookkeeping.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../apps/adapter-register/audit-log.js';
import { TargetRegister, type Outcome } from '../apps/adapter-register/register.js';
import { sha256Hex } from '../apps/adapter-register/sha256.js';

const DIGESTS = ['a', 'b', 'c', 'd', 'e'].map((name) => sha256Hex(name));

type Action =
  | { kind: 'propose'; digest: number; size: number }
  | { kind: 'vote'; version: number; validator: number; pass: boolean }
  | { kind: 'markStable'; version: number };

/** Mostly the newest version (index 0), sometimes an older or unknown one. */
const versionIndex = fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(8) });
/** Passes outnumber fails, so that candidates are released often enough for the safety checks to bite. */
const verdict = fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 2, arbitrary: fc.constant(false) });

/** Versions and validators are picked by index among those known so far, plus a few unknown ones. */
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('propose' as const), digest: fc.nat(DIGESTS.length), size: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('vote' as const), version: versionIndex, validator: fc.nat(6), pass: verdict }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('markStable' as const), version: versionIndex }) },
);

function run(groupSize: number, actions: readonly Action[]): { releases: number } {
  const validators = Array.from({ length: groupSize }, (_, i) => `v${i}`);
  const register = new TargetRegister('t', { validators });
  // What the test knows from answers alone.
  const issued: string[] = [];
  const firstVotes = new Map<string, Map<string, boolean>>();
  const dead = new Set<string>();
  let releases = 0;
  let candidate: string | null = null;
  for (const next of actions) {
    const before = register.read();
    const logBefore = register.auditLog().length;
    let outcome: Outcome;
    // The newest issued versions are the likeliest targets; index ≥ issued.length names an unknown one.
    const pick = (index: number): string => issued[issued.length - 1 - index] ?? `${index + 100}-000000000000`;
    if (next.kind === 'propose') {
      const digest = DIGESTS[next.digest] ?? 'not-a-digest';
      outcome = register.propose(digest, next.size, 0);
      if (outcome.ok) {
        if (candidate !== null) dead.add(candidate);
        candidate = outcome.versionId;
        issued.push(outcome.versionId);
      }
    } else if (next.kind === 'vote') {
      const versionId = pick(next.version);
      const validator = next.validator < groupSize ? `v${next.validator}` : 'outsider';
      outcome = register.vote(versionId, validator, next.pass, '');
      if (outcome.ok) {
        const votes = firstVotes.get(versionId) ?? new Map<string, boolean>();
        expect(votes.has(validator)).toBe(false);
        votes.set(validator, next.pass);
        firstVotes.set(versionId, votes);
        if (outcome.phase !== 'BETA_TESTING') {
          if (outcome.phase === 'STABLE') dead.add(versionId);
          candidate = null;
        }
      }
    } else {
      outcome = register.markStable(pick(next.version));
    }
    const after = register.read();

    if (!outcome.ok) {
      expect(outcome.reason.length).toBeGreaterThan(0);
      expect(after).toEqual(before);
      expect(register.auditLog()).toHaveLength(logBefore);
    }
    // Safety: a new current is the candidate that just won a strict majority of first pass votes.
    if (after.current?.versionId !== before.current?.versionId) {
      const released = after.current!;
      releases++;
      expect(before.candidate?.versionId).toBe(released.versionId);
      const passes = [...(firstVotes.get(released.versionId) ?? new Map()).values()].filter(Boolean).length;
      expect(passes * 2).toBeGreaterThan(groupSize);
      expect(dead.has(released.versionId)).toBe(false);
      expect(released.seq).toBeGreaterThan(before.current?.seq ?? 0);
    }
    if (after.current !== null) expect(dead.has(after.current.versionId)).toBe(false);
    expect(after.current?.seq ?? 0).toBeGreaterThanOrEqual(before.current?.seq ?? 0);
    expect(after.nextSeq).toBeGreaterThanOrEqual(before.nextSeq);
    expect(after.candidate?.versionId ?? null).toBe(candidate);
    // The phase and the candidate agree.
    expect(after.phase === 'BETA_TESTING').toBe(after.candidate !== null);
    // Integrity: the log always verifies up to the head the register reports.
    expect(verifyAuditLog(register.auditLog(), { head: after.logHead, length: after.logLength }).ok).toBe(true);
  }
  return { releases };
}

describe('adapter register properties', () => {
  it('keeps safety, monotonicity and log integrity over random operation streams (group sizes 1 to 5)', () => {
    let totalReleases = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(action, { minLength: 10, maxLength: 60, size: 'max' }), (groupSize, actions) => {
        totalReleases += run(groupSize, actions).releases;
      }),
      { seed: 20261121, numRuns: 400 },
    );
    // The streams must actually reach releases, or the safety checks above never fire.
    expect(totalReleases).toBeGreaterThan(100);
  });

  it('releases a candidate every validator passes, and rejects one every validator fails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 15 }), fc.boolean(), (groupSize, pass) => {
        const validators = Array.from({ length: groupSize }, (_, i) => `v${i}`);
        const register = new TargetRegister('t', { validators });
        const proposed = register.propose(DIGESTS[0]!, 1, 0);
        if (!proposed.ok) throw new Error(proposed.reason);
        let votes = 0;
        while (register.read().phase === 'BETA_TESTING') register.vote(proposed.versionId, `v${votes++}`, pass, '');
        expect(votes).toBe(pass ? Math.floor(groupSize / 2) + 1 : Math.ceil(groupSize / 2));
        expect(register.read().current?.versionId ?? null).toBe(pass ? proposed.versionId : null);
      }),
      { seed: 3, numRuns: 60 },
    );
  });
});
