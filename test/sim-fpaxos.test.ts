import { describe, expect, test } from 'vitest';
import { runMonitored, simulationOptions } from './support/simulate.js';

const GCP5 = ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'];
const AWS7 = ['eu-west-1', 'us-west-1', 'ap-southeast-1', 'ca-central-1', 'sa-east-1', 'ap-east-1', 'us-east-1'];

describe('FPaxos in the simulator', () => {
  for (const conflict of [0, 2, 50, 100]) {
    test(`n=5 f=1, ${conflict}% conflict: every command completes and every process executes the same slot sequence`, () => {
      const run = runMonitored(
        simulationOptions({ protocol: 'fpaxos', regions: GCP5, workload: { conflictRate: conflict, commandsPerClient: 30, readRatio: 20 } }),
      );
      expect(run.result.commandsCompleted).toBe(5 * 3 * 30);
      expect(run.result.processesCaughtUp).toBe(5);
      const sequences = [...run.executions.values()];
      expect(sequences).toHaveLength(5);
      for (const sequence of sequences) expect(sequence).toEqual(sequences[0]);
      expect(run.violations).toEqual([]);
    });
  }

  test('n=7 f=2 on AWS with two keys per command, jitter and a leader far away', () => {
    const run = runMonitored(
      simulationOptions({
        protocol: 'fpaxos',
        planet: 'aws',
        regions: AWS7,
        config: { f: 2, leader: 6 },
        workload: { conflictRate: 30, keysPerCommand: 2, sharedKeys: 3, commandsPerClient: 25 },
        jitterPct: 30,
        strict: true,
      }),
    );
    expect(run.result.commandsCompleted).toBe(7 * 3 * 25);
    const sequences = [...run.executions.values()];
    for (const sequence of sequences) expect(sequence).toEqual(sequences[0]);
    expect(run.violations).toEqual([]);
  });

  test('messages per command follow the flow: forward, f+1 accepts and acks, n chosen', () => {
    const run = runMonitored(simulationOptions({ protocol: 'fpaxos', regions: GCP5, clientsPerRegion: 2, workload: { commandsPerClient: 10 } }));
    const commands = 5 * 2 * 10;
    const byType = run.result.messagesByType;
    expect(byType.get('MForwardSubmit')).toBe((commands * 4) / 5); // clients of the 4 non-leaders
    expect(byType.get('MAccept')).toBe(commands); // to the one other quorum member (the leader self-delivers)
    expect(byType.get('MAccepted')).toBe(commands);
    expect(byType.get('MChosen')).toBe(commands * 4);
  });

  test('the order monitor catches a disagreement', () => {
    const run = runMonitored(simulationOptions({ protocol: 'fpaxos', regions: GCP5.slice(0, 3), workload: { conflictRate: 100 } }));
    const key = run.monitor.keys()[0]!;
    const a = run.monitor.sequence(1, key);
    // Replay process 1's order for a fake process 9 with the first two writes swapped.
    const swapped = [a[1]!, a[0]!, ...a.slice(2)];
    for (const rifl of swapped) run.monitor.onExecuted(9, rifl, key);
    const violations = run.monitor.violations(() => true);
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatch(/write #1/);
  });
});
