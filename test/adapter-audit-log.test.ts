/** The audit log's hash chain catches every kind of tampering (docs/adapter-register.md, "log"). */
import { describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, GENESIS_HASH, verifyAuditLog, type AuditEntry } from '../apps/adapter-register/audit-log.js';
import { TargetRegister } from '../apps/adapter-register/register.js';
import { sha256Hex } from '../apps/adapter-register/sha256.js';

/** A log of 9 entries: proposed, voted ×2, released, stable, proposed, voted ×2, rejected. */
function sampleLog(): readonly AuditEntry[] {
  const register = new TargetRegister('llama/slot0', { validators: ['v1', 'v2', 'v3'] });
  const a = register.propose(sha256Hex('A'), 10, 0);
  if (!a.ok) throw new Error(a.reason);
  register.vote(a.versionId, 'v1', true, 'score 0.9');
  register.vote(a.versionId, 'v2', true, 'score 0.8');
  register.markStable(a.versionId);
  const b = register.propose(sha256Hex('B'), 10, 1);
  if (!b.ok) throw new Error(b.reason);
  register.vote(b.versionId, 'v1', false, 'safety screen failed');
  register.vote(b.versionId, 'v3', false, 'accuracy 0.2');
  const log = register.auditLog();
  expect(log).toHaveLength(9);
  return log.map((entry) => structuredClone(entry));
}

function broken(log: readonly AuditEntry[]): { index: number; reason: string } {
  const verdict = verifyAuditLog(log);
  if (verdict.ok) throw new Error('tampering went unnoticed');
  return verdict;
}

describe('audit log verification', () => {
  it('accepts the untouched log, and the empty log at the genesis hash', () => {
    const log = sampleLog();
    expect(verifyAuditLog(log)).toEqual({ ok: true, head: log.at(-1)!.hash, length: 9 });
    expect(verifyAuditLog([])).toEqual({ ok: true, head: GENESIS_HASH, length: 0 });
  });

  it('detects an edited entry (a vote flipped from fail to pass)', () => {
    const log = sampleLog().slice();
    const entry = log[6]!;
    if (entry.event.type !== 'voted') throw new Error('fixture changed');
    log[6] = { ...entry, event: { ...entry.event, pass: true } };
    expect(broken(log)).toMatchObject({ index: 6, reason: expect.stringContaining('altered') });
  });

  it('detects an edited entry whose hash was recomputed (the next entry no longer chains)', () => {
    const log = sampleLog().slice();
    const entry = log[1]!;
    const event = { type: 'voted', versionId: 'x', validator: 'v1', pass: true, evidence: 'forged' } as const;
    log[1] = { ...entry, event, hash: entryHash(entry.previousHash, entry.index, entry.target, event) };
    expect(broken(log)).toMatchObject({ index: 2, reason: expect.stringContaining('does not chain') });
  });

  it('detects a removed entry', () => {
    const log = sampleLog().slice();
    log.splice(3, 1);
    expect(broken(log)).toMatchObject({ index: 3 });
  });

  it('detects reordered entries', () => {
    const log = sampleLog().slice();
    [log[1], log[2]] = [log[2]!, log[1]!];
    expect(broken(log)).toMatchObject({ index: 1, reason: expect.stringContaining('claims index 2') });
  });

  it('detects reordered entries even with their indexes renumbered', () => {
    const log = sampleLog().slice();
    const first = log[1]!;
    const second = log[2]!;
    log[1] = { ...second, index: 1 };
    log[2] = { ...first, index: 2 };
    expect(broken(log).index).toBe(1);
  });

  it('detects a forged hash', () => {
    const log = sampleLog().slice();
    log[8] = { ...log[8]!, hash: sha256Hex('forged') };
    expect(broken(log)).toMatchObject({ index: 8, reason: expect.stringContaining('altered') });
  });

  it('detects a forged previous hash on the first entry', () => {
    const log = sampleLog().slice();
    log[0] = { ...log[0]!, previousHash: sha256Hex('x') };
    expect(broken(log)).toMatchObject({ index: 0, reason: expect.stringContaining('does not chain') });
  });

  it('detects an entry moved in from another target', () => {
    const log = sampleLog().slice();
    const entry = log[2]!;
    log[2] = { ...entry, target: 'other', hash: entryHash(entry.previousHash, 2, 'other', entry.event) };
    expect(broken(log).reason).toContain("target 'other'");
  });

  it('detects truncation and a consistently rewritten tail only against a trusted head', () => {
    const log = sampleLog();
    const trusted = { head: log.at(-1)!.hash, length: log.length };
    const truncated = log.slice(0, 6);
    expect(verifyAuditLog(truncated).ok).toBe(true);
    expect(verifyAuditLog(truncated, trusted)).toMatchObject({ ok: false, reason: expect.stringContaining('6 entries') });

    // Rewrite the last entry and re-hash: internally consistent, but not the head the replicas report.
    const last = log.at(-1)!;
    const event = { type: 'released', versionId: 'x', passes: 2, fails: 0 } as const;
    const rewritten = [...log.slice(0, -1), { ...last, event, hash: entryHash(last.previousHash, last.index, last.target, event) }];
    expect(verifyAuditLog(rewritten).ok).toBe(true);
    expect(verifyAuditLog(rewritten, trusted)).toMatchObject({ ok: false, reason: expect.stringContaining('head') });
    expect(verifyAuditLog(log, trusted).ok).toBe(true);
  });

  it('hashes values, not field order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: null, c: 'x' }] })).toBe('{"a":[{"c":"x","d":null}],"b":1}');
    const log = sampleLog().slice();
    const entry = log[4]!;
    // The same entry with its fields written in another order still verifies.
    log[4] = { hash: entry.hash, previousHash: entry.previousHash, event: { ...entry.event }, target: entry.target, index: entry.index };
    expect(verifyAuditLog(log).ok).toBe(true);
  });
});
