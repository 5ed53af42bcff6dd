import { describe, expect, test } from 'vitest';
import { makeConfig } from '../core/config.js';
import type { ExecutionResult, Output, Process, ProtocolMetrics } from '../core/process.js';
import { Replica } from '../core/replica.js';
import { TableExecutor, tempoShardOf } from '../protocols/tempo/executor.js';
import type { TempoInfo } from '../protocols/tempo/messages.js';
import { ExecutorPool } from '../runtime/executor-pool.js';
import { tempoLoad } from '../runtime/tempo-load.js';
import { expectNoOrphans, expectSafeRun, orderMonitor, runCluster, runtimeOptions } from './support/runtime.js';

/** A stand-in process whose only job is to hand the replica the infos it is given, as execute outputs. */
class FeedProcess implements Process<{ type: 'feed'; infos: TempoInfo[] }, TempoInfo> {
  readonly id = 1;
  readonly timers = [];
  private outputs: Output<{ type: 'feed'; infos: TempoInfo[] }, TempoInfo>[] = [];
  discover(): void {}
  submit(): void {}
  onTimer(): void {}
  handle(_from: number, msg: { type: 'feed'; infos: TempoInfo[] }): void {
    for (const info of msg.infos) this.outputs.push({ kind: 'execute', info });
  }
  drain() {
    const drained = this.outputs;
    this.outputs = [];
    return drained;
  }
  metrics(): ProtocolMetrics {
    return { fastPath: 0, slowPath: 0 };
  }
}

const LOAD = { commands: 20_000, keys: 500, n: 3, multiKeyEvery: 4, seed: 'shards', chunk: 700 } as const;
const config = makeConfig('tempo', { n: 3 });

/** Per key, the rifls executed in order with their results; and how many partial results in all. */
function byKey(results: readonly ExecutionResult[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const r of results) {
    let list = map.get(r.key);
    if (list === undefined) map.set(r.key, (list = []));
    list.push(`${r.rifl}=${JSON.stringify(r.results)}`);
  }
  return map;
}

function inlineRun(): ExecutionResult[] {
  const executed: ExecutionResult[] = [];
  const replica = new Replica(new FeedProcess(), { executors: [new TableExecutor(1, 3)], onExecuted: (r) => executed.push(r) });
  for (const infos of tempoLoad(LOAD)) replica.handle(2, { type: 'feed', infos }, 0);
  return executed;
}

async function pooledRun(shards: number): Promise<ExecutionResult[]> {
  const executed: ExecutionResult[] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let expected = 0;
  const pool = new ExecutorPool({
    protocol: 'tempo',
    process: 1,
    config,
    shards,
    onResults: (results) => {
      replica.deliverResults(results);
      if (executed.length === expected) finish();
    },
    onError: (error) => {
      throw error;
    },
    now: () => 0,
  });
  const replica = new Replica(new FeedProcess(), { executors: pool.executors(), shardOf: (info, count) => tempoShardOf(info as TempoInfo, count), onExecuted: (r) => executed.push(r) });
  for (const infos of tempoLoad(LOAD)) {
    expected += infos.length;
    replica.handle(2, { type: 'feed', infos }, 0);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  await pool.close();
  return executed;
}

describe('executor shards on worker threads', () => {
  test('k = 2 and 3 worker shards execute every key in the same order, with the same results, as one inline executor', async () => {
    const inline = inlineRun();
    expect(inline.length).toBeGreaterThan(LOAD.commands); // multi-key commands answer once per key
    const reference = byKey(inline);
    for (const shards of [2, 3]) {
      const pooled = await pooledRun(shards);
      expect(pooled.length).toBe(inline.length);
      const got = byKey(pooled);
      expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [key, sequence] of reference) expect(got.get(key)).toEqual(sequence);
      // The shards really interleave: the global order differs from inline even though no key's does.
      expect(pooled.map((r) => r.rifl)).not.toEqual(inline.map((r) => r.rifl));
    }
  });

  test('a Tempo cluster with --executors 2 per replica: orders agree across replicas, history linearizable', async () => {
    const pids: number[] = [];
    const options = runtimeOptions({
      protocol: 'tempo',
      workload: { commandsPerClient: 40, conflictRate: 40, sharedKeys: 4, keysPerCommand: 2, readRatio: 20 },
      extra: { workerShards: 2, onChild: (pid) => pids.push(pid) },
    });
    const run = await runCluster(options);
    expect(run.result.commandsCompleted).toBe(3 * 3 * 40);
    for (const stats of run.replicas.values()) expect(stats.executed).toBe(3 * 3 * 40 * 2);
    expect(orderMonitor(run).keys().length).toBeGreaterThan(4);
    expectSafeRun(run);
    expectNoOrphans(pids);
  });
});
