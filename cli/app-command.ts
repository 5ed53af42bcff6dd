/**
 * `orrery app adapter-register` (simulator mode): the adapter-deploy scenario
 * (sim/adapter-deploy/scenario.ts) on real adapter files, the register strategy and the rolling-update
 * baseline on the same seed, with the spec's figures and properties. Exits 1 when a property of the
 * register fails or a run loses liveness; the rolling update's failed properties are its findings.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/invariant.js';
import { availableProtocols, protocolByName } from '../protocols/index.js';
import { parseDeployFaults, type DeployFaults } from '../sim/adapter-deploy/faults.js';
import { REFERENCE_FACTORY, REFERENCE_SUITE } from '../sim/adapter-deploy/reference.js';
import { formatAdapterDeploy } from '../sim/adapter-deploy/report.js';
import { ADAPTER_DEPLOY_DEFAULTS, FLEET_MAX, runAdapterDeploy, STRATEGIES, VALIDATOR_REGIONS, type AdapterDeployFigures, type AdapterDeployOptions } from '../sim/adapter-deploy/scenario.js';
import { VERSIONS_MAX } from '../sim/adapter-deploy/artifacts.js';
import { intFlag, numberFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

/** The applications `orrery app` knows. */
export const APPS = ['adapter-register'] as const;

const d = ADAPTER_DEPLOY_DEFAULTS;

/** The simulator mode's options, described for yargs. */
export const APP_FLAGS = {
  protocol: { type: 'string', describe: `the protocol replicating the register: ${availableProtocols().join(', ')} [default: tempo]` },
  validators: { type: 'string', describe: `validators = consensus processes, 3 to ${VALIDATOR_REGIONS.length}, in GCP regions ${VALIDATOR_REGIONS.slice(0, 5).join(', ')}, … [default: ${d.validators}]` },
  fleet: { type: 'string', describe: `inference nodes, spread over the validators' regions [default: ${d.fleet}]` },
  versions: { type: 'string', describe: `adapter versions published [default: ${d.versions}]` },
  'bad-fraction': { type: 'string', describe: `fraction of regressed versions, 0 to 1 [default: ${d.badFraction}]` },
  'poll-ms': { type: 'string', describe: `register poll period of nodes and validators [default: ${d.pollMs}]` },
  strategy: { type: 'string', describe: `register, rolling, or both on the same seed [default: both]` },
  faults: {
    type: 'string',
    describe: 'a JSON fault schedule: crashes (validator = process id), partitions, slowLinks, messageFaults, clientTimeoutMs, slowValidators, corruptDownloads',
  },
  seed: { type: 'string', describe: `seed of every draw; same seed, same output [default: ${d.seed}]` },
  'publish-interval-ms': { type: 'string', describe: `time between two published versions [default: ${d.publishIntervalMs}]` },
  'validation-ms': { type: 'string', describe: `median validation time (lognormal, σ ${d.validationSigma}) [default: ${d.validationMsMedian}]` },
  'batch-size': { type: 'string', describe: 'rolling update: nodes per batch [default: ⌈fleet/10⌉]' },
  'batch-interval-ms': { type: 'string', describe: `rolling update: pause between batches [default: ${d.batchIntervalMs}]` },
  'requests-per-sec': { type: 'string', describe: `requests per second arriving at each node [default: ${d.requestsPerSecPerNode}]` },
  json: { type: 'boolean', describe: 'print the figures as JSON' },
} as const;

function readFaults(file: string, validators: number): DeployFaults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read faults file '${file}' (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return parseDeployFaults(text, file, validators);
}

/** The scenario options of one strategy, from the flags. */
export function appOptionsFromFlags(argv: Argv): { strategies: (typeof STRATEGIES)[number][]; options: Omit<AdapterDeployOptions, 'strategy'> } {
  const name = stringFlag(argv, 'name', undefined);
  if (name === undefined) throw new UsageError(`name the application: orrery app ${APPS.join(' | ')}`);
  if (!(APPS as readonly string[]).includes(name)) throw new UsageError(`unknown application '${name}'; accepted: ${APPS.join(', ')}`);
  const protocolName = stringFlag(argv, 'protocol', 'tempo');
  if (!(availableProtocols() as readonly string[]).includes(protocolName)) {
    throw new UsageError(`--protocol must be one of ${availableProtocols().join(', ')} (got '${protocolName}')`);
  }
  const strategy = stringFlag(argv, 'strategy', 'both');
  if (strategy !== 'both' && !(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, both (got '${strategy}')`);
  }
  const validators = intFlag(argv, 'validators', d.validators, 3, VALIDATOR_REGIONS.length);
  const fleet = intFlag(argv, 'fleet', d.fleet, 1, FLEET_MAX);
  const faultsFile = stringFlag(argv, 'faults', undefined);
  const batchSize = intFlag(argv, 'batch-size', 0, 1, FLEET_MAX);
  const options: Omit<AdapterDeployOptions, 'strategy'> = {
    protocol: protocolByName(protocolName),
    factory: REFERENCE_FACTORY,
    suite: REFERENCE_SUITE,
    validators,
    fleet,
    versions: intFlag(argv, 'versions', d.versions, 1, VERSIONS_MAX),
    badFraction: numberFlag(argv, 'bad-fraction', d.badFraction, 0, 1),
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

/** Runs `orrery app adapter-register` and prints the figures; returns the exit code. */
export function runAppCommand(argv: Argv, print: (text: string) => void): number {
  const { strategies, options } = appOptionsFromFlags(argv);
  const runs: AdapterDeployFigures[] = strategies.map((strategy) => runAdapterDeploy({ ...options, strategy }));
  print(argv['json'] === true ? JSON.stringify(runs, null, 2) : formatAdapterDeploy(runs));
  const failed = runs.some((run) => run.stuck !== null || (run.strategy === 'register' && run.properties.some((property) => property.holds === false)));
  return failed ? 1 : 0;
}
