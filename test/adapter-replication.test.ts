/**
 * End to end: each protocol replicates the adapter register, driven by scripted clients (proposals,
 * validator votes, markStable, polls) over a seeded network; every process must end with the same
 * register state and the same audit log, and no bad artifact may ever be released.
 */
import { describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../apps/adapter-register/audit-log.js';
import { sha256Hex } from '../apps/adapter-register/sha256.js';
import { PROTOCOL_NAMES } from '../core/config.js';
import { runRegisterCluster, type ScriptedProposal } from './support/register-cluster.js';

const good1 = sha256Hex('adapter v1 (good)');
const bad2 = sha256Hex('adapter v2 (regressed)');
const good3 = sha256Hex('adapter v3 (good)');
const good4 = sha256Hex('adapter v4 (good, superseded quickly)');
const good5 = sha256Hex('adapter v5 (good)');
const other1 = sha256Hex('other model adapter (good)');

/** v1 released; v2 bad; v3 released; v4 proposed then at once superseded by v5 from another process. */
const SCRIPT: readonly ScriptedProposal[] = [
  { atMs: 0, process: 1, target: 'llama/slot0', digest: good1, size: 8_000_000, good: true },
  { atMs: 10, process: 2, target: 'mistral/slot0', digest: other1, size: 4_000_000, good: true },
  { atMs: 1000, process: 2, target: 'llama/slot0', digest: bad2, size: 8_000_000, good: false },
  { atMs: 2000, process: 3, target: 'llama/slot0', digest: good3, size: 8_000_000, good: true },
  { atMs: 3000, process: 1, target: 'llama/slot0', digest: good4, size: 8_000_000, good: true },
  { atMs: 3001, process: 3, target: 'llama/slot0', digest: good5, size: 8_000_000, good: true },
];

describe.each(PROTOCOL_NAMES.map((protocol) => [protocol]))('%s replicates the adapter register', (protocol) => {
  it.each([[3], [5]])('n=%i: identical state and audit log everywhere, bad versions never released', (n) => {
    for (const seed of [1, 2]) {
      const run = runRegisterCluster({ protocol, n, seed, proposals: SCRIPT, pollEveryMs: 150, maxTimeMs: 60_000 });
      const reference = run.apps.get(1)!;
      expect(reference.targetNames(), `seed ${seed}`).toEqual(['llama/slot0', 'mistral/slot0']);
      for (const target of reference.targetNames()) {
        const log = reference.auditLog(target);
        const state = reference.read(target);
        expect(verifyAuditLog(log, { head: state.logHead, length: state.logLength }).ok).toBe(true);
        for (const [process, app] of run.apps) {
          expect(app.read(target), `${protocol} n=${n} seed ${seed} process ${process} ${target}`).toEqual(state);
          expect(app.auditLog(target), `${protocol} process ${process}`).toEqual(log);
        }
        // Safety, from the log itself: a release follows a strict majority of first pass votes.
        const released = log.flatMap((entry) => (entry.event.type === 'released' ? [entry.event.versionId] : []));
        for (const versionId of released) {
          const passes = new Set(log.flatMap((entry) => (entry.event.type === 'voted' && entry.event.versionId === versionId && entry.event.pass ? [entry.event.validator] : [])));
          expect(passes.size * 2).toBeGreaterThan(n);
        }
        const releasedDigests = log.flatMap((entry) => (entry.event.type === 'proposed' && released.includes(entry.event.versionId) ? [entry.event.digest] : []));
        expect(releasedDigests).not.toContain(bad2);
      }
      const llama = reference.read('llama/slot0');
      // v1 and v3 must have gone through; the last good proposal wins the race of v4 and v5 or v4 does.
      const llamaLog = reference.auditLog('llama/slot0');
      const releasedDigests = llamaLog.flatMap((entry) => (entry.event.type === 'proposed' ? [entry.event] : [])).filter((p) => llamaLog.some((e) => e.event.type === 'released' && e.event.versionId === p.versionId)).map((p) => p.digest);
      expect(releasedDigests.slice(0, 2)).toEqual([good1, good3]);
      expect(llamaLog.some((entry) => entry.event.type === 'rejected')).toBe(true);
      expect(llamaLog.some((entry) => entry.event.type === 'superseded')).toBe(true);
      expect([good4, good5]).toContain(llama.current?.digest);
      expect(reference.read('mistral/slot0')).toMatchObject({ phase: 'STABLE', current: { digest: other1 } });
      // Each poller saw current only move forward, per target (its replica executes in one order).
      for (const target of reference.targetNames()) {
        for (let process = 1; process <= n; process++) {
          const seqs = run.answered
            .filter((answer) => answer.process === process && answer.op.op === 'get')
            .map((answer) => JSON.parse(answer.result) as { target: string; current: { seq: number } | null })
            .filter((state) => state.target === target)
            .map((state) => state.current?.seq ?? 0);
          expect(seqs.length, `${protocol} process ${process} polled ${target}`).toBeGreaterThan(0);
          expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        }
      }
    }
  });

  it('replays: the same seed gives the same answers in the same order', () => {
    const options = { protocol, n: 3, seed: 'replay', proposals: SCRIPT, pollEveryMs: 150, maxTimeMs: 60_000 };
    const first = runRegisterCluster(options);
    const second = runRegisterCluster(options);
    expect(second.answered).toEqual(first.answered);
    expect(second.endMs).toBe(first.endMs);
    expect(first.submitted).toBeGreaterThan(SCRIPT.length * 4);
  });
});

describe('tempo with key-partitioned executors', () => {
  it('ends with the same registers with 1, 2 and 4 executor shards (targets live in one shard each)', () => {
    // tempoShardOf puts llama/slot0 in shard 1 and mistral/slot0 in shard 0, for both 2 and 4 shards.
    const states = [1, 2, 4].map((executorShards) => {
      const run = runRegisterCluster({ protocol: 'tempo', n: 3, seed: 'shards', proposals: SCRIPT, pollEveryMs: 150, maxTimeMs: 60_000, executorShards });
      const reference = run.apps.get(1)!;
      for (const app of run.apps.values()) for (const target of reference.targetNames()) expect(app.read(target)).toEqual(reference.read(target));
      return reference.targetNames().map((target) => reference.read(target));
    });
    expect(states[0]!.map((state) => state.current?.digest)).toEqual([expect.any(String), other1]);
    expect(states[1]).toEqual(states[0]);
    expect(states[2]).toEqual(states[0]);
  });
});

describe.each(PROTOCOL_NAMES.map((protocol) => [protocol]))('%s replicates the adapter register with a minority crashed', (protocol) => {
  // Everything is proposed at process 1 (FPaxos's leader), which stays up.
  const script = SCRIPT.map((proposal) => ({ ...proposal, process: 1 }));

  it.each([
    [3, [3]],
    [5, [2]],
  ])('n=%i, crashed %j: good versions still released, the bad one never, live processes agree', (n, crashed) => {
    const run = runRegisterCluster({ protocol, n, seed: 'crash', proposals: script, pollEveryMs: 150, maxTimeMs: 60_000, crashed });
    expect([...run.apps.keys()]).toEqual(Array.from({ length: n }, (_, i) => i + 1).filter((id) => !crashed.includes(id)));
    const reference = run.apps.get(1)!;
    for (const target of reference.targetNames()) {
      for (const app of run.apps.values()) expect(app.auditLog(target)).toEqual(reference.auditLog(target));
    }
    const log = reference.auditLog('llama/slot0');
    const votes = log.flatMap((entry) => (entry.event.type === 'voted' ? [entry.event.validator] : []));
    expect(votes).not.toContain(String(crashed[0]));
    const released = new Set(log.flatMap((entry) => (entry.event.type === 'released' ? [entry.event.versionId] : [])));
    const releasedDigests = log.flatMap((entry) => (entry.event.type === 'proposed' && released.has(entry.event.versionId) ? [entry.event.digest] : []));
    expect(releasedDigests.slice(0, 2)).toEqual([good1, good3]);
    expect(releasedDigests).not.toContain(bad2);
    expect(log.some((entry) => entry.event.type === 'rejected')).toBe(true);
    expect(reference.read('mistral/slot0').current?.digest).toBe(other1);
  });
});
