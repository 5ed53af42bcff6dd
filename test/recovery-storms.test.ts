/**
 * Recovery storms are bounded (common/recovery.ts): a process has at most one recovery of a dot in
 * flight, starts the next only after a backoff that doubles past a round trip however short the
 * timeout, jittered deterministically, and gives a rival's recovery of the dot its full wait.
 *
 * The scenario: n = 5, f = 2, processes 1 and 4 crash, recovery timeout 50 ms (a quarter of a
 * round trip between these regions), so every dot that needs recovery first sees attempts pre-empt
 * each other. Counted: MRec (Tempo, Atlas) and MPrepare (EPaxos, and FPaxos's leader change) sent per
 * dot and per process. Before the bound, Atlas and Tempo sent up to 54 per process and 155 per dot
 * here, and EPaxos and FPaxos never finished.
 */
import { describe, expect, test } from 'vitest';
import type { CheckCase } from '../check/case.js';
import { runCase } from '../check/run-case.js';
import type { ProtocolName } from '../core/config.js';
import type { Dot, ProcessId } from '../core/ids.js';
import type { Message, ProtocolDefinition } from '../core/process.js';
import { BACKOFF_MAX, BACKOFF_REACH_MS, backoffMs, recoveryJitter, recoveryWaitMs } from '../protocols/common/recovery.js';
import { protocolByName } from '../protocols/index.js';

const REGIONS = ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'];
const RECOVERY_TIMEOUT_MS = 50;
/** Live processes: each may recover each dot. */
const LIVE = 3;
/**
 * Attempts of one process for one dot: the waits 50, 100, 200, 400, 800 ms (plus stagger and jitter)
 * pass the ~0.5 s a recovery takes here by the fifth, and a rival's recovery postpones one's own.
 */
const ATTEMPTS_PER_PROCESS_MAX = 6;

interface Counts {
  /** Per dot (FPaxos: the single key 0), per sender: recovery messages sent (a broadcast counts once). */
  readonly byDot: Map<Dot, Map<ProcessId, number>>;
}

/** The protocol with every process's recovery broadcasts counted as they leave it. */
function counted(definition: ProtocolDefinition<Message, unknown>, counts: Counts): ProtocolDefinition<Message, unknown> {
  return {
    ...definition,
    createProcess(id, config) {
      const process = definition.createProcess(id, config);
      const drain = process.drain.bind(process);
      process.drain = () => {
        const outputs = drain();
        for (const output of outputs) {
          if (output.kind !== 'send' || (output.msg.type !== 'MRec' && output.msg.type !== 'MPrepare')) continue;
          const dot = (output.msg as { dot?: Dot }).dot ?? 0;
          let senders = counts.byDot.get(dot);
          if (senders === undefined) counts.byDot.set(dot, (senders = new Map()));
          senders.set(id, (senders.get(id) ?? 0) + 1);
        }
        return outputs;
      };
      return process;
    },
  };
}

describe('recovery storms are bounded (n = 5, f = 2, two crashes, recovery timeout 50 ms)', () => {
  for (const protocol of ['tempo', 'atlas', 'epaxos', 'fpaxos'] as const satisfies readonly ProtocolName[]) {
    test(`${protocol}: at most ${ATTEMPTS_PER_PROCESS_MAX} attempts per process and ${LIVE * ATTEMPTS_PER_PROCESS_MAX} per recovered dot; the run completes and checks clean`, () => {
      const counts: Counts = { byDot: new Map() };
      const c: CheckCase = {
        protocol,
        seed: 3,
        n: 5,
        f: 2,
        regions: REGIONS,
        clientsPerRegion: 2,
        commandsPerClient: 10,
        conflictRate: 50,
        sharedKeys: 1,
        readRatio: 0,
        keysPerCommand: 1,
        recoveryTimeoutMs: RECOVERY_TIMEOUT_MS,
        faults: {
          crashes: [
            { process: 1, atMs: 500 },
            { process: 4, atMs: 900 },
          ],
          clientTimeoutMs: 1000,
        },
      };
      const outcome = runCase(counted(protocolByName(protocol), counts), c);
      expect(outcome.violations).toEqual([]);
      expect(outcome.stuck).toBe(false);
      expect(outcome.commandsCompleted).toBe(outcome.commandsIssued);
      // The scenario really recovers: many dots (or FPaxos's leader change) saw recovery messages.
      expect(counts.byDot.size).toBeGreaterThanOrEqual(protocol === 'fpaxos' ? 1 : 50);
      let perProcessMax = 0;
      let perDotMax = 0;
      for (const senders of counts.byDot.values()) {
        let total = 0;
        for (const sent of senders.values()) {
          perProcessMax = Math.max(perProcessMax, sent);
          total += sent;
        }
        perDotMax = Math.max(perDotMax, total);
      }
      expect(perProcessMax).toBeLessThanOrEqual(ATTEMPTS_PER_PROCESS_MAX);
      expect(perDotMax).toBeLessThanOrEqual(LIVE * ATTEMPTS_PER_PROCESS_MAX);
    });
  }
});

describe('backoff and jitter (common/recovery.ts)', () => {
  test('the backoff doubles up to 2^BACKOFF_MAX timeouts, and further only while below BACKOFF_REACH_MS', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffMs(1000, a))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    const tiny = [0, 1, 2, 3, 4, 5, 6, 7, 8, 30].map((a) => backoffMs(10, a));
    expect(tiny).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 2560]);
    for (const timeoutMs of [0.001, 1, 50, 100, 300]) {
      const longest = backoffMs(timeoutMs, 1000);
      expect(longest).toBeGreaterThanOrEqual(BACKOFF_REACH_MS);
      expect(longest).toBeLessThan(2 * BACKOFF_REACH_MS);
    }
    expect(backoffMs(3000, 1000)).toBe(3000 * 2 ** BACKOFF_MAX);
  });

  test('the jitter is a fraction in [0, 1) that depends on the dot, the process and the attempt, and nothing else', () => {
    const dot = 2 ** 32 * 3 + 17;
    expect(recoveryJitter(dot, 2, 1)).toBe(recoveryJitter(dot, 2, 1));
    const fractions = new Set<number>();
    for (const subject of [0, 1, dot, dot + 2 ** 32]) {
      for (let self = 1; self <= 5; self++) {
        for (let attempt = 1; attempt <= 4; attempt++) {
          const fraction = recoveryJitter(subject, self, attempt);
          expect(fraction).toBeGreaterThanOrEqual(0);
          expect(fraction).toBeLessThan(1);
          fractions.add(fraction);
        }
      }
    }
    expect(fractions.size).toBe(4 * 5 * 4); // no two alike: rivals fall out of step
  });

  test('a first attempt waits timeout + stagger; later ones add a jitter of up to half the backoff', () => {
    const base = { timeoutMs: 100, n: 5, self: 3, coordinator: 1, subject: 12345 } as const;
    expect(recoveryWaitMs({ ...base, attempts: 0 })).toBe(100 + 40);
    for (let attempts = 1; attempts <= 6; attempts++) {
      const backoff = backoffMs(100, attempts);
      const waitMs = recoveryWaitMs({ ...base, attempts });
      expect(waitMs).toBeGreaterThanOrEqual(backoff + 40);
      expect(waitMs).toBeLessThan(backoff * 1.5 + 40);
      expect(waitMs).toBe(backoff + 40 + (backoff / 2) * recoveryJitter(12345, 3, attempts));
    }
  });
});
