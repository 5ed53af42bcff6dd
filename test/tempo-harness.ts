/**
 * Test harness for Tempo: runs a simulation with checkers attached to every executor, and small
 * helpers to drive processes and executors by hand.
 */
import { makeCommand, type Command, type KeyOps } from '../core/command.js';
import { makeConfig, type Config } from '../core/config.js';
import { formatDot, makeRifl, type Dot, type ProcessId } from '../core/ids.js';
import type { ExecutionResult, ProtocolDefinition } from '../core/process.js';
import { ExecutionOrderMonitor, writeLookupFrom } from '../check/order.js';
import { builtInPlanet } from '../sim/planet.js';
import { Simulation, type SimulationOptions, type SimulationResult } from '../sim/simulation.js';
import { WORKLOAD_DEFAULTS, type WorkloadOptions } from '../sim/workload.js';
import { TableExecutor } from '../protocols/tempo/executor.js';
import type { TempoInfo, TempoMessage } from '../protocols/tempo/messages.js';
import { tempo } from '../protocols/tempo/index.js';

export const GCP_REGIONS = ['europe-west1', 'us-east1', 'asia-east1', 'us-west1', 'europe-west2', 'asia-south1', 'southamerica-east1'];

/** What the checkers found in one run. */
export interface TempoRun {
  readonly result: SimulationResult;
  readonly monitor: ExecutionOrderMonitor;
  /** Order violations across processes (ExecutionOrderMonitor). */
  readonly orderViolations: string[];
  /** Per process and key, executions not in strictly increasing (timestamp, dot). */
  readonly timestampOrderViolations: string[];
  /** Commits at or below a timestamp the process had already declared stable (or executed past) on the key. */
  readonly soundnessViolations: string[];
  /** Dots committed with different timestamps at different processes. */
  readonly agreementViolations: string[];
  /** Executions of a timestamp above the key's stable timestamp. */
  readonly unstableExecutions: string[];
  /** process → key → (clock, dot) in execution order. */
  readonly executed: Map<ProcessId, Map<string, Array<[number, Dot]>>>;
}

export interface TempoRunOptions {
  readonly n: number;
  readonly f: number;
  readonly workload: Partial<WorkloadOptions>;
  readonly seed?: number;
  readonly clientsPerRegion?: number;
  readonly regions?: readonly string[];
  readonly planet?: 'gcp' | 'aws';
  readonly shards?: number;
  readonly strict?: boolean;
  readonly config?: Partial<Config>;
  readonly extra?: Partial<SimulationOptions>;
}

/** Runs Tempo in the simulator with every checker attached. */
export function runTempo(options: TempoRunOptions): TempoRun {
  const regions = options.regions ?? GCP_REGIONS.slice(0, options.n);
  const monitor = new ExecutionOrderMonitor();
  const executed = new Map<ProcessId, Map<string, Array<[number, Dot]>>>();
  const lastExecuted = new Map<string, number>(); // `${process}/${key}` → highest executed clock
  const committedClock = new Map<Dot, number>();
  const timestampOrderViolations: string[] = [];
  const soundnessViolations: string[] = [];
  const agreementViolations: string[] = [];
  const unstableExecutions: string[] = [];
  const observed: ProtocolDefinition<TempoMessage, TempoInfo> = {
    ...tempo,
    createExecutor: (id, config, shard) =>
      new TableExecutor(id, config.n, shard, {
        onCommitted(key, dot, clock, stable) {
          const past = lastExecuted.get(`${id}/${key}`) ?? 0;
          if (clock <= stable || clock <= past) {
            soundnessViolations.push(`process ${id} key ${key}: ${formatDot(dot)} commits at ${clock} after stable ${stable}, executed ${past}`);
          }
          const agreed = committedClock.get(dot);
          if (agreed === undefined) committedClock.set(dot, clock);
          else if (agreed !== clock) agreementViolations.push(`${formatDot(dot)} committed at ${agreed} and at ${clock} (process ${id})`);
        },
        onExecuted(key, dot, clock, _rifl, stable) {
          if (clock > stable) unstableExecutions.push(`process ${id} key ${key}: ${formatDot(dot)} at ${clock} runs with stable ${stable}`);
          lastExecuted.set(`${id}/${key}`, clock);
          let byKey = executed.get(id);
          if (byKey === undefined) executed.set(id, (byKey = new Map()));
          let sequence = byKey.get(key);
          if (sequence === undefined) byKey.set(key, (sequence = []));
          const previous = sequence[sequence.length - 1];
          if (previous !== undefined && !(previous[0] < clock || (previous[0] === clock && previous[1] < dot))) {
            timestampOrderViolations.push(`process ${id} key ${key}: (${clock}, ${formatDot(dot)}) after (${previous[0]}, ${formatDot(previous[1])})`);
          }
          sequence.push([clock, dot]);
        },
      }),
  };
  const sim = new Simulation({
    protocol: observed,
    config: makeConfig('tempo', { n: options.n, f: options.f, executorShards: options.shards ?? 1, ...options.config }),
    planet: builtInPlanet(options.planet ?? 'gcp'),
    processRegions: regions,
    clientRegions: regions,
    clientsPerRegion: options.clientsPerRegion ?? 2,
    workload: { ...WORKLOAD_DEFAULTS, commandsPerClient: 20, ...options.workload },
    seed: options.seed ?? 7,
    recordHistory: true,
    strict: options.strict ?? false,
    observer: { onExecuted: (process: ProcessId, result: ExecutionResult) => monitor.onExecuted(process, result.rifl, result.key) },
    ...options.extra,
  });
  const result = sim.run();
  const orderViolations = monitor.violations(writeLookupFrom(result.history!.map((entry) => entry.command)));
  return { result, monitor, orderViolations, timestampOrderViolations, soundnessViolations, agreementViolations, unstableExecutions, executed };
}

/** A put on each of `keys`, from client 1. */
export function putCommand(seq: number, ...keys: string[]): Command {
  const keyOps: KeyOps[] = keys.map((key) => ({ key, ops: [{ op: 'put', value: `${key}.${seq}` }] }));
  return makeCommand(makeRifl(1, seq), keyOps);
}
