import { describe, expect, test } from 'vitest';
import { historyFromSimulation, type History, type Operation } from '../check/history.js';
import { checkLinearizability, describeReport } from '../check/linearizability.js';
import { runMonitored, simulationOptions } from './support/simulate.js';

const GCP3 = ['us-east1', 'europe-west2', 'asia-southeast1'];

/** Number of distinct clients that touched `key`, and how many of its reads saw a value. */
function keyActivity(history: History, key: string): { clients: number; readsOfValues: number } {
  const clients = new Set<number>();
  let readsOfValues = 0;
  for (const o of history) {
    const record = o.keys.find((k) => k.key === key);
    if (record === undefined) continue;
    clients.add(o.client);
    record.ops.forEach((op, i) => {
      if (op.op === 'get' && record.results![i] !== null) readsOfValues++;
    });
  }
  return { clients: clients.size, readsOfValues };
}

describe('FPaxos histories are linearizable', () => {
  test('single-key commands, reads and conflicts: every key ok', () => {
    const run = runMonitored(
      simulationOptions({ protocol: 'fpaxos', regions: GCP3, workload: { conflictRate: 60, sharedKeys: 2, readRatio: 40, commandsPerClient: 30 }, seed: 3 }),
    );
    const history = historyFromSimulation(run.result.history!);
    expect(history).toHaveLength(3 * 3 * 30);
    // The shared keys really are contended and read, or "ok" would say little.
    for (const key of ['s0', 's1']) {
      const activity = keyActivity(history, key);
      expect(activity.clients).toBeGreaterThanOrEqual(5);
      expect(activity.readsOfValues).toBeGreaterThan(10);
    }
    const report = checkLinearizability(history);
    expect(describeReport(report)).toEqual([]);
    expect(report.ok).toBe(report.keysChecked);
    expect(report.keysChecked).toBeGreaterThan(2);
  });

  test('two keys per command, jitter, n=5: every key ok (per-key check as a proxy for multi-key atomicity)', () => {
    const run = runMonitored(
      simulationOptions({
        protocol: 'fpaxos',
        regions: ['us-east1', 'europe-west2', 'asia-southeast1', 'us-west1', 'southamerica-east1'],
        clientsPerRegion: 2,
        workload: { conflictRate: 50, sharedKeys: 3, keysPerCommand: 2, readRatio: 30, commandsPerClient: 20 },
        jitterPct: 40,
        seed: 8,
      }),
    );
    const report = checkLinearizability(historyFromSimulation(run.result.history!));
    expect(describeReport(report)).toEqual([]);
    expect(report.ok).toBe(report.keysChecked);
  });

  test('the same run with one read tampered with (it sees a write invoked after it completed) is caught', () => {
    const run = runMonitored(
      simulationOptions({ protocol: 'fpaxos', regions: GCP3, workload: { conflictRate: 60, sharedKeys: 2, readRatio: 40, commandsPerClient: 30 }, seed: 3 }),
    );
    const history = [...historyFromSimulation(run.result.history!)];
    const onS0 = (o: Operation) => o.keys.find((k) => k.key === 's0');
    const readIndex = history.findIndex((o) => o.completeMs! < 1000 && onS0(o)?.ops[0]!.op === 'get');
    const read = history[readIndex]!;
    const laterPut = history.find((o) => o.invokeMs > read.completeMs! && onS0(o)?.ops[0]!.op === 'put')!;
    const value = (onS0(laterPut)!.ops[0] as { value: string }).value;
    history[readIndex] = { ...read, keys: read.keys.map((k) => (k.key === 's0' ? { ...k, results: [value] } : k)) };
    const report = checkLinearizability(history);
    expect(report.violations).toBe(1);
    expect(describeReport(report)).toEqual([expect.stringMatching(/^key s0: not linearizable: /)]);
  });
});
