/** Test support for runtime runs: a short loopback cluster, its checkers, and the orphan check. */
import { connect } from 'node:net';
import { expect } from 'vitest';
import { historyFromSimulation } from '../../check/history.js';
import { checkLinearizability, describeReport } from '../../check/linearizability.js';
import { ExecutionOrderMonitor, writeLookupFrom } from '../../check/order.js';
import { makeConfig, type Config, type ProtocolName } from '../../core/config.js';
import { protocolByName } from '../../protocols/index.js';
import { localRegions, loopbackCluster } from '../../runtime/cluster.js';
import { runCluster, type RuntimeOptions, type RuntimeResult } from '../../runtime/launcher.js';
import { WORKLOAD_DEFAULTS, type WorkloadOptions } from '../../sim/workload.js';

export interface QuickRuntime {
  protocol: ProtocolName;
  n?: number;
  config?: Partial<Config>;
  clientsPerRegion?: number;
  workload?: Partial<WorkloadOptions>;
  extra?: Partial<RuntimeOptions>;
}

/** Runtime options for a loopback cluster with recorded history and executions. */
export function runtimeOptions(quick: QuickRuntime): RuntimeOptions & { logs: string[] } {
  const n = quick.n ?? 3;
  const regions = localRegions(n);
  const logs: string[] = [];
  return {
    protocol: protocolByName(quick.protocol),
    config: makeConfig(quick.protocol, { n, ...quick.config }),
    cluster: loopbackCluster(regions),
    clientRegions: regions,
    clientsPerRegion: quick.clientsPerRegion ?? 3,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 50, ...quick.workload },
    seed: 1,
    durationMs: null,
    recordHistory: true,
    recordExecutions: true,
    onLog: (line) => logs.push(line),
    logs,
    ...quick.extra,
  };
}

/** The order monitor filled from every live replica's recorded executions. */
export function orderMonitor(run: RuntimeResult): ExecutionOrderMonitor {
  const monitor = new ExecutionOrderMonitor();
  for (const stats of run.replicas.values()) for (const [rifl, key] of stats.executions ?? []) monitor.onExecuted(stats.id, rifl, key);
  return monitor;
}

/** Order agreement and linearizability of a finished run: both must report nothing. */
export function expectSafeRun(run: RuntimeResult): void {
  const history = run.result.history!;
  const monitor = orderMonitor(run);
  expect(monitor.violations(writeLookupFrom(history.map((e) => e.command)))).toEqual([]);
  const report = checkLinearizability(historyFromSimulation(history));
  expect(describeReport(report)).toEqual([]);
}

/** True while `pid` names a live process. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Every child pid the run started is gone. */
export function expectNoOrphans(pids: readonly number[]): void {
  expect(pids.length).toBeGreaterThan(0);
  expect(pids.filter(alive)).toEqual([]);
}

export { runCluster };

/**
 * Opens a raw connection to a replica, writes `chunks` (then ends when `end`), and resolves once the
 * replica closes it; rejects if the replica keeps it open past `timeoutMs`.
 */
export function poke(port: number, chunks: readonly Uint8Array[], end = false, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      for (const chunk of chunks) socket.write(chunk);
      if (end) socket.end();
    });
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    const timer = setTimeout(() => reject(new Error(`the replica kept a refused connection open for ${timeoutMs} ms`)), timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
