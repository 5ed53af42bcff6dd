import { describe, expect, test } from 'vitest';
import { historyLine, makeReport } from '../sim/report.js';
import { Simulation } from '../sim/simulation.js';
import { simulationOptions } from './support/simulate.js';

const REGIONS = ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'];

function runBytes(seed: number): string {
  const options = simulationOptions({
    protocol: 'fpaxos',
    regions: REGIONS,
    seed,
    jitterPct: 25,
    workload: { conflictRate: 10, readRatio: 30, keysPerCommand: 2, sharedKeys: 4, commandsPerClient: 40 },
  });
  const result = new Simulation(options).run();
  return JSON.stringify(makeReport(result)) + '\n' + result.history!.map(historyLine).join('\n');
}

describe('determinism', () => {
  test('same seed ⇒ byte-identical report and history', () => {
    const first = runBytes(42);
    const second = runBytes(42);
    expect(second).toBe(first);
    expect(first.length).toBeGreaterThan(10_000);
  });

  test('another seed changes the run (jitter and workload draw from the seed)', () => {
    expect(runBytes(43)).not.toBe(runBytes(42));
  });
});
