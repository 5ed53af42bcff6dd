/** Test support: run a simulation with an execution-order monitor attached. */
import { ExecutionOrderMonitor, writeLookupFrom } from '../../check/order.js';
import { makeConfig, type Config, type ProtocolName } from '../../core/config.js';
import type { ProcessId, Rifl } from '../../core/ids.js';
import { protocolByName } from '../../protocols/index.js';
import { builtInPlanet } from '../../sim/planet.js';
import { Simulation, type SimulationOptions, type SimulationResult } from '../../sim/simulation.js';
import { WORKLOAD_DEFAULTS, type WorkloadOptions } from '../../sim/workload.js';

export interface MonitoredRun {
  readonly result: SimulationResult;
  readonly monitor: ExecutionOrderMonitor;
  /** Every partial result per process, in execution order, as `rifl@key`. */
  readonly executions: ReadonlyMap<ProcessId, string[]>;
  /** Order violations (empty when every key's order agrees everywhere). */
  readonly violations: string[];
}

export interface QuickOptions {
  protocol: ProtocolName;
  planet?: 'gcp' | 'aws';
  regions: readonly string[];
  clientRegions?: readonly string[];
  config?: Partial<Config>;
  clientsPerRegion?: number;
  workload?: Partial<WorkloadOptions>;
  seed?: number | string;
  jitterPct?: number;
  strict?: boolean;
}

/** Builds full simulation options from a few fields. */
export function simulationOptions(quick: QuickOptions): SimulationOptions {
  return {
    protocol: protocolByName(quick.protocol),
    config: makeConfig(quick.protocol, { n: quick.regions.length, ...quick.config }),
    planet: builtInPlanet(quick.planet ?? 'gcp'),
    processRegions: quick.regions,
    clientRegions: quick.clientRegions ?? quick.regions,
    clientsPerRegion: quick.clientsPerRegion ?? 3,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 20, ...quick.workload },
    seed: quick.seed ?? 1,
    jitterPct: quick.jitterPct ?? 0,
    recordHistory: true,
    strict: quick.strict ?? false,
  };
}

/** Runs with an order monitor and returns the result and any violations. */
export function runMonitored(options: SimulationOptions): MonitoredRun {
  const monitor = new ExecutionOrderMonitor();
  const executions = new Map<ProcessId, string[]>();
  const result = new Simulation({
    ...options,
    recordHistory: true,
    observer: {
      onExecuted(process, execution) {
        monitor.onExecuted(process, execution.rifl, execution.key);
        let list = executions.get(process);
        if (list === undefined) executions.set(process, (list = []));
        list.push(`${execution.rifl}@${execution.key}`);
      },
    },
  }).run();
  const violations = monitor.violations(writeLookupFrom(result.history!.map((h) => h.command)));
  return { result, monitor, executions, violations };
}

/** The rifls of a run's history. */
export function submittedRifls(result: SimulationResult): Rifl[] {
  return result.history!.map((h) => h.rifl);
}
