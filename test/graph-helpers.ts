/** Shared by the EPaxos/Atlas simulation tests: one run with the order checker attached. */
import { ExecutionOrderMonitor, writeLookupFrom } from '../check/order.js';
import { makeConfig, type Config } from '../core/config.js';
import type { Process, ProtocolDefinition } from '../core/process.js';
import type { GraphInfo } from '../protocols/common/graph-executor.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation, type SimulationResult } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS, type WorkloadOptions } from '../sim/workload.js';

export const GCP_REGIONS = ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2', 'asia-south1', 'southamerica-east1'];

export interface CheckedRun {
  readonly result: SimulationResult;
  readonly config: Config;
  /** Order violations found by the monitor (empty when every process agrees). */
  readonly violations: string[];
  readonly monitor: ExecutionOrderMonitor;
  readonly keyResultsExpected: number;
  /** The processes of the run, by id − 1 (to inspect garbage-collected state). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly processes: readonly Process<any, GraphInfo>[];
  /** Dots committed with different values at two processes (commit agreement), as sentences. */
  readonly disagreements: string[];
}

export interface RunOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  readonly n: number;
  readonly f: number;
  readonly workload: Partial<WorkloadOptions>;
  readonly clientsPerRegion: number;
  readonly seed: number | string;
  readonly planet?: 'gcp' | 'aws';
  readonly regions?: readonly string[];
  readonly strict?: boolean;
  readonly jitterPct?: number;
  readonly gcIntervalMs?: number;
  readonly epaxosFastQuorum?: 'simple' | 'optimized';
}

/** Runs a simulation with an {@link ExecutionOrderMonitor} watching every executor. */
export function checkedRun(options: RunOptions): CheckedRun {
  const config = makeConfig(options.protocol.name, {
    n: options.n,
    f: options.f,
    ...(options.gcIntervalMs === undefined ? {} : { gcIntervalMs: options.gcIntervalMs }),
    ...(options.epaxosFastQuorum === undefined ? {} : { epaxosFastQuorum: options.epaxosFastQuorum }),
  });
  // Watch every commit as the executors see it: every process must commit the same value per dot.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const processes: Process<any, GraphInfo>[] = [];
  const committed = new Map<number, string>();
  const disagreements: string[] = [];
  const base = options.protocol;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const protocol: ProtocolDefinition<any, GraphInfo> = {
    ...base,
    createProcess: (id, c) => {
      const process = base.createProcess(id, c);
      processes.push(process);
      return process;
    },
    createExecutor: (id, c, shard) => {
      const executor = base.createExecutor(id, c, shard);
      const handle = executor.handle.bind(executor);
      executor.handle = (info: GraphInfo, now: number) => {
        const value = `${info.cmd?.rifl ?? 'noop'} deps=${info.deps.join(',')} seq=${info.seq}`;
        const earlier = committed.get(info.dot);
        if (earlier === undefined) committed.set(info.dot, value);
        else if (earlier !== value && disagreements.length < 10) disagreements.push(`process ${id} committed ${info.dot} as ${value}, another as ${earlier}`);
        handle(info, now);
      };
      return executor;
    },
  };
  const regions = (options.regions ?? GCP_REGIONS).slice(0, options.n);
  const monitor = new ExecutionOrderMonitor();
  const workload = { ...WORKLOAD_DEFAULTS, ...options.workload };
  const sim = new Simulation({
    protocol,
    config,
    planet: builtInPlanet(options.planet ?? 'gcp'),
    processRegions: regions,
    clientRegions: regions,
    clientsPerRegion: options.clientsPerRegion,
    workload,
    seed: options.seed,
    recordHistory: true,
    ...(options.strict === undefined ? {} : { strict: options.strict }),
    ...(options.jitterPct === undefined ? {} : { jitterPct: options.jitterPct }),
    observer: { onExecuted: (process, result) => monitor.onExecuted(process, result.rifl, result.key) },
  });
  const result = sim.run();
  const commands = result.history!.map((entry) => entry.command);
  const keyResultsExpected = commands.reduce((sum, cmd) => sum + cmd.keys.length, 0);
  return { result, config, violations: monitor.violations(writeLookupFrom(commands)), monitor, keyResultsExpected, processes, disagreements };
}
