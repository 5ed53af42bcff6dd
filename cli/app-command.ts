/**
 * `orrery app adapter-register`: the adapter register's deployment end to end, in two modes.
 * - Simulator (the default): the adapter-deploy scenario (sim/adapter-deploy/scenario.ts) on real
 *   adapter files, the register strategy and the rolling-update baseline on the same seed, with the
 *   spec's figures and properties. Exits 1 when a property of the register fails or a run loses
 *   liveness; the rolling update's failed properties are its findings.
 * - `--runtime`: a real deployment on this machine (cli/app-runtime.ts).
 * Flags of one mode given to the other are refused with the list of the mode's own.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/invariant.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { parseDeployFaults, type DeployFaults } from '../sim/adapter-deploy/faults.js';
import { REFERENCE_FACTORY, REFERENCE_SUITE } from '../sim/adapter-deploy/reference.js';
import { formatAdapterDeploy } from '../sim/adapter-deploy/report.js';
import { ADAPTER_DEPLOY_DEFAULTS, FLEET_MAX, runAdapterDeploy, STRATEGIES, VALIDATOR_REGIONS, type AdapterDeployFigures, type AdapterDeployOptions } from '../sim/adapter-deploy/scenario.js';
import { VERSIONS_MAX } from '../sim/adapter-deploy/artifacts.js';
import { APP_RUNTIME_FLAGS, runAdapterRuntime } from './app-runtime.js';
import { intFlag, numberFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

/** The applications `orrery app` knows. */
export const APPS = ['adapter-register'] as const;

const d = ADAPTER_DEPLOY_DEFAULTS;

/** The simulator mode's own options, described for yargs. */
const SIMULATOR_FLAGS = {
  validators: { type: 'string', describe: `simulator: validators = consensus processes, 3 to ${VALIDATOR_REGIONS.length}, in GCP regions ${VALIDATOR_REGIONS.slice(0, 5).join(', ')}, … [default: ${d.validators}]` },
  fleet: { type: 'string', describe: `simulator: inference nodes, spread over the validators' regions [default: ${d.fleet}]` },
  'bad-fraction': { type: 'string', describe: `simulator: fraction of regressed versions, 0 to 1 [default: ${d.badFraction}]` },
  strategy: { type: 'string', describe: `simulator: register, rolling, or both on the same seed [default: both]` },
  faults: {
    type: 'string',
    describe: 'simulator: a JSON fault schedule: crashes (validator = process id), partitions, slowLinks, messageFaults, clientTimeoutMs, slowValidators, corruptDownloads',
  },
  'publish-interval-ms': { type: 'string', describe: `simulator: time between two published versions [default: ${d.publishIntervalMs}]` },
  'validation-ms': { type: 'string', describe: `simulator: median validation time (lognormal, σ ${d.validationSigma}) [default: ${d.validationMsMedian}]` },
  'batch-size': { type: 'string', describe: 'simulator: rolling update: nodes per batch [default: ⌈fleet/10⌉]' },
  'batch-interval-ms': { type: 'string', describe: `simulator: rolling update: pause between batches [default: ${d.batchIntervalMs}]` },
  'requests-per-sec': { type: 'string', describe: `simulator: requests per second arriving at each node [default: ${d.requestsPerSecPerNode}]` },
} as const;

/** Options of both modes. */
const SHARED_FLAGS = {
  protocol: { type: 'string', describe: `the protocol replicating the register: ${availableProtocols().join(', ')} [default: tempo]` },
  versions: {
    type: 'string',
    describe: `simulator: a number of versions [default: ${d.versions}] or comma-separated kinds good, regressed; --runtime: comma-separated kinds good, regressed, corrupted`,
  },
  'poll-ms': { type: 'string', describe: `register poll period of nodes and validators [default: ${d.pollMs}; 50 with --runtime]` },
  seed: { type: 'string', describe: `seed of every draw (simulator: same seed, same output; --runtime: the artifacts and requests) [default: ${d.seed}]` },
  json: { type: 'boolean', describe: 'print the figures as JSON' },
} as const;

const { protocol: _p, seed: _s, versions: _v, 'poll-ms': _m, json: _j, ...RUNTIME_ONLY_FLAGS } = APP_RUNTIME_FLAGS;

/** Every option of `orrery app`, described for yargs. */
export const APP_FLAGS = { ...SHARED_FLAGS, ...SIMULATOR_FLAGS, ...RUNTIME_ONLY_FLAGS } as const;

/** Refuses flags of `other` (the other mode's own), naming the mode and its flags. */
function refuseFlags(argv: Argv, other: Record<string, unknown>, mode: string, own: readonly string[]): void {
  for (const flag of Object.keys(other)) {
    if (argv[flag] !== undefined && flag !== 'runtime') {
      throw new UsageError(`--${flag} does not apply to ${mode}; its options are ${own.map((name) => `--${name}`).join(', ')}`);
    }
  }
}

function readFaults(file: string, validators: number): DeployFaults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read faults file '${file}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return parseDeployFaults(text, file, validators);
}

/** The strategies to run and the scenario options, from the simulator-mode flags. */
export function appOptionsFromFlags(argv: Argv): { strategies: (typeof STRATEGIES)[number][]; options: Omit<AdapterDeployOptions, 'strategy'> } {
  const protocolName = stringFlag(argv, 'protocol', 'tempo');
  if (!(availableProtocols() as readonly string[]).includes(protocolName)) {
    throw new UsageError(`--protocol must be one of ${availableProtocols().join(', ')} (got '${protocolName}')`);
  }
  const strategy = stringFlag(argv, 'strategy', 'both');
  if (strategy !== 'both' && !(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, both (got '${strategy}')`);
  }
  const validators = intFlag(argv, 'validators', d.validators, 3, VALIDATOR_REGIONS.length);
  const stream = versionsFrom(argv);
  const fleet = intFlag(argv, 'fleet', d.fleet, 1, FLEET_MAX);
  const faultsFile = stringFlag(argv, 'faults', undefined);
  const batchSize = intFlag(argv, 'batch-size', 0, 1, FLEET_MAX);
  const options: Omit<AdapterDeployOptions, 'strategy'> = {
    protocol: protocolByName(protocolName),
    factory: REFERENCE_FACTORY,
    suite: REFERENCE_SUITE,
    validators,
    fleet,
    ...stream,
    pollMs: numberFlag(argv, 'poll-ms', d.pollMs, 1, 600_000),
    seed: intFlag(argv, 'seed', d.seed, 0, 2 ** 31),
    publishIntervalMs: numberFlag(argv, 'publish-interval-ms', d.publishIntervalMs, 1, 3_600_000),
    validationMsMedian: numberFlag(argv, 'validation-ms', d.validationMsMedian, 1, 3_600_000),
    batchIntervalMs: numberFlag(argv, 'batch-interval-ms', d.batchIntervalMs, 1, 3_600_000),
    requestsPerSecPerNode: numberFlag(argv, 'requests-per-sec', d.requestsPerSecPerNode, 0, 100_000),
    ...(batchSize === 0 ? {} : { batchSize }),
    ...(faultsFile === undefined ? {} : { faults: readFaults(faultsFile, validators) }),
  };
  return { strategies: strategy === 'both' ? [...STRATEGIES] : [strategy as (typeof STRATEGIES)[number]], options };
}

/** --versions as a count (with --bad-fraction) or as a list of kinds. */
function versionsFrom(argv: Argv): Pick<AdapterDeployOptions, 'versions' | 'badFraction' | 'kinds'> {
  const text = stringFlag(argv, 'versions', undefined);
  if (text === undefined || /^\s*\d+\s*$/.test(text)) {
    return { versions: intFlag(argv, 'versions', d.versions, 1, VERSIONS_MAX), badFraction: numberFlag(argv, 'bad-fraction', d.badFraction, 0, 1) };
  }
  const kinds = text.split(',').map((kind) => kind.trim());
  for (const kind of kinds) {
    if (kind === 'corrupted') throw new UsageError("--versions: 'corrupted' is a runtime kind; in the simulator, corrupt downloads with a faults file (corruptDownloads)");
    if (kind !== 'good' && kind !== 'regressed') throw new UsageError(`--versions must be a number from 1 to ${VERSIONS_MAX} or comma-separated kinds good, regressed (got '${text}')`);
  }
  if (kinds.length > VERSIONS_MAX) throw new UsageError(`--versions lists ${kinds.length} versions; at most ${VERSIONS_MAX}`);
  if (argv['bad-fraction'] !== undefined) throw new UsageError('--bad-fraction applies to a number of versions, not to a list of kinds');
  return { kinds: kinds as ('good' | 'regressed')[] };
}

/** Runs `orrery app`: the simulator mode, or the runtime mode with --runtime. */
export async function runAppCommand(argv: Argv, print: (text: string) => void): Promise<void> {
  const name = stringFlag(argv, 'name', undefined);
  if (name === undefined) throw new UsageError(`name the application: orrery app ${APPS.join(' | ')}`);
  if (!(APPS as readonly string[]).includes(name)) throw new UsageError(`unknown application '${name}'; accepted: ${APPS.join(', ')}`);
  if (argv['runtime'] === true) {
    refuseFlags(argv, SIMULATOR_FLAGS, '--runtime', Object.keys(APP_RUNTIME_FLAGS));
    return runAdapterRuntime(argv, print);
  }
  refuseFlags(argv, RUNTIME_ONLY_FLAGS, 'the simulator (add --runtime for a real deployment)', [...Object.keys(SHARED_FLAGS), ...Object.keys(SIMULATOR_FLAGS)]);
  process.exitCode = runSimulatedApp(argv, print);
}

/** The simulator mode: runs the strategies, prints the figures, returns the exit code. */
export function runSimulatedApp(argv: Argv, print: (text: string) => void): number {
  const { strategies, options } = appOptionsFromFlags(argv);
  const runs: AdapterDeployFigures[] = strategies.map((strategy) => runAdapterDeploy({ ...options, strategy }));
  print(argv['json'] === true ? JSON.stringify(runs, null, 2) : formatAdapterDeploy(runs));
  const failed = runs.some((run) => run.stuck !== null || (run.strategy === 'register' && run.properties.some((property) => property.holds === false)));
  return failed ? 1 : 0;
}
