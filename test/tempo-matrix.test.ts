import { describe, expect, test } from 'vitest';
import { runTempo } from './tempo-harness.js';

const CONFIGS = [
  { n: 3, f: 1 },
  { n: 5, f: 1 },
  { n: 5, f: 2 },
  { n: 7, f: 1 },
  { n: 7, f: 2 },
];
const CONFLICTS = [0, 2, 10, 50, 100];

describe('Tempo simulation matrix', () => {
  for (const { n, f } of CONFIGS) {
    for (const conflictRate of CONFLICTS) {
      for (const keysPerCommand of [1, 2]) {
        test(`n=${n} f=${f} conflict=${conflictRate}% keys=${keysPerCommand}`, () => {
          const run = runTempo({ n, f, workload: { conflictRate, keysPerCommand, sharedKeys: 2, readRatio: 20 } });
          const { result } = run;
          expect(result.commandsCompleted).toBe(result.commandsSubmitted);
          expect(result.processesCaughtUp).toBe(n);
          expect(run.orderViolations).toEqual([]);
          expect(run.timestampOrderViolations).toEqual([]);
          expect(run.soundnessViolations).toEqual([]);
          expect(run.agreementViolations).toEqual([]);
          expect(run.unstableExecutions).toEqual([]);
          // Every process executed every key of every command, each once.
          for (let p = 1; p <= n; p++) {
            expect(run.monitor.executedBy(p)).toBe(result.commandsSubmitted * keysPerCommand);
          }
          expect(result.fastPaths + result.slowPaths).toBe(result.commandsSubmitted);
          // f = 1: the threshold is 1, so the highest proposal is always reported often enough.
          if (f === 1) expect(result.slowPaths).toBe(0);
          if (conflictRate === 0) expect(result.fastPaths).toBe(result.commandsSubmitted);
        });
      }
    }
  }

  test('f=2 at full conflict takes the slow path sometimes (the counter is live)', () => {
    const run = runTempo({ n: 5, f: 2, clientsPerRegion: 4, workload: { conflictRate: 100, sharedKeys: 1 } });
    expect(run.result.slowPaths).toBeGreaterThan(0);
    expect(run.orderViolations).toEqual([]);
    expect(run.soundnessViolations).toEqual([]);
  });

  test('strict mode: every message survives a JSON round trip', () => {
    const run = runTempo({ n: 5, f: 2, strict: true, workload: { conflictRate: 50, keysPerCommand: 2, sharedKeys: 3 } });
    expect(run.result.commandsCompleted).toBe(run.result.commandsSubmitted);
    expect(run.orderViolations).toEqual([]);
    expect(run.soundnessViolations).toEqual([]);
  });
});
