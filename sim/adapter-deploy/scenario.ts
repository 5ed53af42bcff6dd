/**
 * The adapter-deploy scenario (docs/adapter-register.md): a stream of adapter versions, some of
 * them regressed, reaches an inference fleet through one of two strategies in the same simulator —
 * the replicated register (validators vote through an SMR protocol, nodes load only released
 * versions) or a rolling update (nodes switch batch by batch as soon as a version is published;
 * validators run beside it and a failed version is rolled back). Everything else is shared: the
 * planet, the validators' regions and validation times, the fleet, the artifacts, their corruptions
 * and the requests arriving at each node, so the two strategies of one seed differ only in the gate.
 *
 * The validators are the consensus group: validator i is process i, in the i-th validator region.
 * The fleet is spread round-robin over the same regions; the artifact store, the release manager and
 * the deployer sit in the first one. A run ends when the release manager (deployer) has nothing left
 * to do and the fleet serves the final version; the simulation then drains.
 *
 * Figures: requests served by regressed versions (the spec's bad-version requests), the time the
 * fleet served more than one version (the mixed-version window), per-version outcomes and times to
 * converge, and for the register each release's convergence against its bound:
 *   bound = Q + 6·C + validator poll + node poll + V + T
 * from publication, where Q is how long the proposal waited behind the manager's outstanding poll, C is the slowest register command of the run (a propose, the validators' poll seeing it
 * (≤ poll + 2·C: a tick may find the previous poll outstanding), the deciding vote, a node's poll
 * (again ≤ poll + 2·C)), V the slowest validation among the strict majority of fastest passing
 * validators (from seeing the candidate to sending the vote) and T the slowest node transfer.
 */
import type { AuditEntry } from '../../apps/adapter-register/audit-log.js';
import { AdapterRegisterApp } from '../../apps/adapter-register/app.js';
import { VALIDATORS_MAX } from '../../apps/adapter-register/register.js';
import { checkDeployment, type DeployObservations, type PropertyResult } from '../../check/adapter.js';
import { makeConfig } from '../../core/config.js';
import { invariant, UsageError } from '../../core/invariant.js';
import type { Executor, ProtocolDefinition } from '../../core/process.js';
import type { Agent } from '../agents.js';
import { healTimeMs } from '../faults.js';
import { builtInPlanet, type Planet } from '../planet.js';
import { Simulation, SimulationStuckError, type FaultStats } from '../simulation.js';
import { WORKLOAD_DEFAULTS } from '../workload.js';
import { ArtifactStore, makeVersionStream, MemoisedSuite, type AdapterFactory, type StreamVersion, type ValidationSuite } from './artifacts.js';
import { validateAdapterFaults, type DeployFaults } from './faults.js';
import { InferenceNode, RegisterValidator, ReleaseManager } from './register-agents.js';
import { Deployer, RollingNode, RollingValidator } from './rolling-agents.js';
import { DeployWorld, type DeploySettings } from './world.js';

export const STRATEGIES = ['register', 'rolling'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Validator i sits in VALIDATOR_REGIONS[i − 1] (GCP); the first five are `orrery sim`'s default regions. */
export const VALIDATOR_REGIONS = [
  'us-east1',
  'europe-west2',
  'asia-southeast1',
  'us-west1',
  'southamerica-east1',
  'europe-west4',
  'asia-northeast1',
  'australia-southeast1',
  'us-central1',
  'asia-south1',
  'europe-west1',
  'asia-east1',
  'europe-north1',
  'northamerica-northeast1',
  'us-east4',
] as const;

/** Largest fleet. */
export const FLEET_MAX = 10_000;

/** What to run. Everything but protocol, strategy, the artifacts and the suite has a default. */
export interface AdapterDeployOptions {
  // The scenario treats the protocol's message and info types as opaque.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly protocol: ProtocolDefinition<any, any>;
  readonly strategy: Strategy;
  readonly factory: AdapterFactory;
  readonly suite: ValidationSuite;
  readonly validators?: number;
  readonly fleet?: number;
  readonly versions?: number;
  readonly badFraction?: number;
  /** Seed of every draw: stream, validation times, corruptions, requests, jitter. */
  readonly seed?: number;
  /** Seed of the version stream alone (which versions are regressed, and their bytes); `seed` by default. */
  readonly streamSeed?: number;
  /** Explicit kinds of the stream's versions (overrides versions and badFraction). */
  readonly kinds?: readonly ('good' | 'regressed')[];
  readonly pollMs?: number;
  readonly validatorPollMs?: number;
  readonly publishIntervalMs?: number;
  readonly firstPublishMs?: number;
  readonly validationMsMedian?: number;
  readonly validationSigma?: number;
  readonly downloadAttemptsMax?: number;
  readonly requestsPerSecPerNode?: number;
  /** Rolling update: nodes per batch [default: ⌈fleet / 10⌉] and the pause between batches. */
  readonly batchSize?: number;
  readonly batchIntervalMs?: number;
  /** Download bandwidth from the store, bytes per millisecond [default 12 500 = 100 Mbit/s]. */
  readonly storeBytesPerMs?: number;
  readonly faults?: DeployFaults;
  /** Per-message jitter on every link, percent of the link delay [default 10]. */
  readonly jitterPct?: number;
}

/** The defaults, as `orrery app adapter-register` documents them. */
export const ADAPTER_DEPLOY_DEFAULTS = {
  validators: 5,
  fleet: 50,
  versions: 10,
  badFraction: 0.3,
  seed: 1,
  pollMs: 500,
  publishIntervalMs: 8000,
  firstPublishMs: 1000,
  validationMsMedian: 2000,
  validationSigma: 0.5,
  downloadAttemptsMax: 3,
  requestsPerSecPerNode: 20,
  batchIntervalMs: 500,
  storeBytesPerMs: 12_500,
  jitterPct: 10,
  /** Agents resend an unanswered register command to the next process after this long, under faults. */
  requestTimeoutMs: 3000,
  /** How long the last version may stay undecided before the run stops waiting for it. */
  decisionTimeoutMs: 60_000,
} as const;

/** One version's fate. */
export interface VersionFigures {
  readonly index: number;
  readonly kind: 'good' | 'regressed';
  readonly digest: string;
  readonly publishMs: number;
  /** register: released, rejected, superseded, open; rolling: known-good, rolled-back, undecided. */
  readonly outcome: string;
  /** Register: the version id it was given. */
  readonly versionId: string | null;
  /** Requests the fleet served with it. */
  readonly requests: number;
  /** Nodes that ever served it. */
  readonly nodesServed: number;
  /** From publication until every node served it (or, for the register, something newer); null when never. */
  readonly convergedMs: number | null;
  /** Register releases: the bound and its parts; null otherwise. */
  readonly bound: ConvergenceBound | null;
}

/** The convergence bound of one release and its parts (see the file comment). */
export interface ConvergenceBound {
  readonly boundMs: number;
  readonly commitMsMax: number;
  readonly validationMs: number;
  readonly transferMs: number;
  readonly pollMs: number;
  readonly validatorPollMs: number;
  /** Whether a newer release reached some node before the fleet converged on this one (the bound is then not judged). */
  readonly overtaken: boolean;
}

/** Everything one run measured. */
export interface AdapterDeployFigures {
  readonly strategy: Strategy;
  readonly protocol: string;
  readonly validators: number;
  readonly fleet: number;
  readonly seed: number;
  readonly pollMs: number;
  readonly versions: number;
  readonly badVersions: number;
  /** Null when the run finished; the reason when it lost liveness. */
  readonly stuck: string | null;
  /** Simulated time when the work was done (the fleet on the final version). */
  readonly finishedMs: number;
  readonly requests: number;
  /** Requests served by regressed versions. */
  readonly badVersionRequests: number;
  /** Time during which the fleet served more than one version. */
  readonly mixedVersionMs: number;
  readonly refusedDownloads: number;
  readonly loads: number;
  /** Rolling update: rollbacks. */
  readonly rollbacks: number;
  /** Register commands' latency (ms) over the run: p50, p99, max; null for the rolling update. */
  readonly commitMs: { readonly p50: number; readonly p99: number; readonly max: number; readonly count: number } | null;
  /** Times the validation suite really ran (verdicts are memoised per byte array). */
  readonly suiteRuns: number;
  readonly versionFigures: readonly VersionFigures[];
  readonly properties: readonly PropertyResult[];
  readonly faults: FaultStats;
  readonly agentRetries: number;
}

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`${name} must be an integer from ${min} to ${max} (got ${value})`);
  return value;
}

function positive(name: string, value: number, max: number): number {
  if (!(value > 0 && value <= max)) throw new UsageError(`${name} must be a positive number up to ${max} (got ${value})`);
  return value;
}

/** Runs one strategy on one seed. */
export function runAdapterDeploy(options: AdapterDeployOptions): AdapterDeployFigures {
  const d = ADAPTER_DEPLOY_DEFAULTS;
  const validators = integer('validators', options.validators ?? d.validators, 3, Math.min(VALIDATORS_MAX, VALIDATOR_REGIONS.length));
  const fleet = integer('fleet', options.fleet ?? d.fleet, 1, FLEET_MAX);
  const seed = integer('seed', options.seed ?? d.seed, 0, 2 ** 31);
  const pollMs = positive('poll interval (ms)', options.pollMs ?? d.pollMs, 600_000);
  const settings: DeploySettings = {
    target: 'adapter',
    pollMs,
    validatorPollMs: positive('validator poll interval (ms)', options.validatorPollMs ?? pollMs, 600_000),
    validationMsMedian: positive('median validation time (ms)', options.validationMsMedian ?? d.validationMsMedian, 3_600_000),
    validationSigma: options.validationSigma ?? d.validationSigma,
    downloadAttemptsMax: integer('download attempts', options.downloadAttemptsMax ?? d.downloadAttemptsMax, 1, 100),
    requestsPerSecPerNode: options.requestsPerSecPerNode ?? d.requestsPerSecPerNode,
    batchSize: integer('batch size', options.batchSize ?? Math.ceil(fleet / 10), 1, FLEET_MAX),
    batchIntervalMs: positive('batch interval (ms)', options.batchIntervalMs ?? d.batchIntervalMs, 3_600_000),
    decisionTimeoutMs: d.decisionTimeoutMs,
  };
  if (!(settings.validationSigma >= 0 && settings.validationSigma <= 3)) throw new UsageError(`validation sigma must be from 0 to 3 (got ${settings.validationSigma})`);
  if (!(settings.requestsPerSecPerNode >= 0 && settings.requestsPerSecPerNode <= 100_000)) {
    throw new UsageError(`requests per second per node must be from 0 to 100000 (got ${settings.requestsPerSecPerNode})`);
  }
  const faults = options.faults ?? { network: {}, adapter: {} };
  validateAdapterFaults(faults.adapter, validators);
  const planet: Planet = builtInPlanet('gcp');
  const regions = VALIDATOR_REGIONS.slice(0, validators);
  const store = new ArtifactStore(planet, regions[0]!, positive('store bandwidth (bytes/ms)', options.storeBytesPerMs ?? d.storeBytesPerMs, 1e12));
  const kinds = options.kinds;
  const stream = makeVersionStream(options.factory, {
    versions: kinds?.length ?? options.versions ?? d.versions,
    badFraction: options.badFraction ?? d.badFraction,
    seed: options.streamSeed ?? seed,
    firstPublishMs: positive('first publication (ms)', options.firstPublishMs ?? d.firstPublishMs, 3_600_000),
    publishIntervalMs: positive('publication interval (ms)', options.publishIntervalMs ?? d.publishIntervalMs, 3_600_000),
    ...(kinds === undefined ? {} : { kinds }),
  });
  for (const version of stream) store.publish(version.bytes);
  const suite = new MemoisedSuite(options.suite);
  const world = new DeployWorld(seed, planet, store, suite, stream, settings, faults.adapter);
  for (let node = 0; node < fleet; node++) world.addNode(regions[node % regions.length]!);

  const agents: Agent[] = [];
  let releaseManager: ReleaseManager | undefined;
  let deployer: Deployer | undefined;
  const pollers: { currentSeqSeen: number[] }[] = [];
  if (options.strategy === 'register') {
    releaseManager = new ReleaseManager(world, store.region);
    agents.push(releaseManager);
    pollers.push(releaseManager);
    for (let v = 1; v <= validators; v++) agents.push(new RegisterValidator(world, v, regions[v - 1]!, validators));
    for (const serving of world.nodes) {
      const node = new InferenceNode(world, serving, fleet);
      agents.push(node);
      pollers.push(node);
    }
  } else {
    const layout = {
      deployer: 0,
      validators: Array.from({ length: validators }, (_, i) => 1 + i),
      nodes: Array.from({ length: fleet }, (_, i) => 1 + validators + i),
    };
    deployer = new Deployer(world, store.region, layout);
    agents.push(deployer);
    for (let v = 1; v <= validators; v++) agents.push(new RollingValidator(world, v, regions[v - 1]!, layout.deployer));
    for (const serving of world.nodes) agents.push(new RollingNode(world, serving));
  }

  // The protocol as the simulator sees it, with each executor kept to read its register afterwards.
  const executors: Executor<unknown>[] = [];
  const protocol: ProtocolDefinition<any, any> = {
    ...options.protocol,
    createExecutor: (id, config, shard) => {
      const executor = options.protocol.createExecutor(id, config, shard) as Executor<unknown>;
      executors.push(executor);
      return executor;
    },
  };
  const config = makeConfig(options.protocol.name, { n: validators, f: Math.floor((validators - 1) / 2), app: 'adapter-register' });
  const network = faults.network;
  const hasNetworkFaults = Object.keys(network).length > 0;
  const lastPublishMs = stream[stream.length - 1]!.publishMs;
  const simulation = new Simulation({
    protocol,
    config,
    planet,
    processRegions: regions,
    clientRegions: [],
    clientsPerRegion: 0,
    workload: WORKLOAD_DEFAULTS,
    seed,
    jitterPct: options.jitterPct ?? d.jitterPct,
    faults: network,
    maxSimTimeMs: Math.max(lastPublishMs, healTimeMs(network)) + 600_000,
    ...(hasNetworkFaults ? { stallLimitMs: 120_000 } : {}),
    agents: { list: agents, ...(hasNetworkFaults ? { requestTimeoutMs: d.requestTimeoutMs } : {}) },
  });
  let stuck: string | null = null;
  let endMs: number;
  try {
    simulation.run();
    invariant(world.finished, 'the agents stopped before the deployment finished');
    endMs = world.finishedMs;
  } catch (error) {
    if (!(error instanceof SimulationStuckError)) throw error;
    stuck = error.message;
    endMs = Math.max(world.finishedMs, lastPublishMs);
  }
  for (const node of world.nodes) node.advance(endMs);

  const auditLogs: AuditEntry[][] = [];
  for (const executor of executors) {
    const app = (executor as unknown as { app?: unknown }).app;
    invariant(app instanceof AdapterRegisterApp, () => `${options.protocol.name}: the executor does not run the adapter register`);
    auditLogs.push([...app.auditLog(settings.target)]);
  }
  const corruption = (faults.adapter.corruptDownloads ?? []).some((entry) => entry.probability > 0);
  const observations: DeployObservations = {
    strategy: options.strategy,
    groupSize: validators,
    stream: stream.map((version) => ({ index: version.index, kind: version.kind, digest: version.digest })),
    auditLogs: options.strategy === 'register' ? auditLogs : [],
    nodes: world.nodes,
    loads: world.loads,
    currentSeqSeen: pollers.map((poller) => poller.currentSeqSeen),
    corruption,
    finished: stuck === null,
  };
  const properties = checkDeployment(observations);
  const anyFault = hasNetworkFaults || corruption || (faults.adapter.slowValidators ?? []).length > 0;
  const versionFigures = versionOutcomes(world, options.strategy, auditLogs, releaseManager, deployer, validators);
  properties.push(convergenceProperty(options.strategy, versionFigures, anyFault, stuck));

  let requests = 0;
  let badVersionRequests = 0;
  for (const node of world.nodes) {
    for (let i = 0; i < node.requests.length; i++) {
      requests += node.requests[i]!;
      if (i > 0 && stream[i - 1]!.kind === 'regressed') badVersionRequests += node.requests[i]!;
    }
  }
  const latencies = world.commandLatencyMs.map((entry) => entry.ms).sort((a, b) => a - b);
  const rank = (p: number) => latencies[Math.max(0, Math.ceil((p / 100) * latencies.length) - 1)]!;
  return {
    strategy: options.strategy,
    protocol: options.protocol.name,
    validators,
    fleet,
    seed,
    pollMs,
    versions: stream.length,
    badVersions: stream.filter((version) => version.kind === 'regressed').length,
    stuck,
    finishedMs: round(endMs),
    requests,
    badVersionRequests,
    mixedVersionMs: round(mixedVersionMs(world, endMs)),
    refusedDownloads: world.refusedDownloads,
    loads: world.loads.length,
    rollbacks: deployer?.rollbacks ?? 0,
    commitMs: latencies.length === 0 ? null : { p50: round(rank(50)), p99: round(rank(99)), max: round(latencies[latencies.length - 1]!), count: latencies.length },
    suiteRuns: suite.runs,
    versionFigures,
    properties,
    faults: simulation.faultStats(),
    agentRetries: simulation.agentStats().retries,
  };
}

/** Milliseconds to 0.001: figures print the same on every machine. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Time during which the fleet's nodes did not all serve the same version. */
function mixedVersionMs(world: DeployWorld, endMs: number): number {
  const changes = world.nodes.flatMap((node) => node.switches).sort((a, b) => a.atMs - b.atMs);
  const count = new Map<number, number>([[0, world.nodes.length]]);
  let mixed = 0;
  let since = 0;
  for (const change of changes) {
    if (count.size > 1) mixed += change.atMs - since;
    since = change.atMs;
    const left = count.get(change.from)! - 1;
    if (left === 0) count.delete(change.from);
    else count.set(change.from, left);
    count.set(change.to, (count.get(change.to) ?? 0) + 1);
  }
  if (count.size > 1) mixed += endMs - since;
  return mixed;
}

/** The first time every node served `index` (register: `index` or newer), from the switch logs; null when never. */
function fleetConvergedAt(world: DeployWorld, index: number, orNewer: boolean): number | null {
  const reached = (served: number) => (orNewer ? served >= index : served === index);
  // Every switch with its node, in time order (a stable sort keeps each node's own order).
  const changes = world.nodes.flatMap((node) => node.switches.map((change) => ({ node: node.node, change }))).sort((a, b) => a.change.atMs - b.change.atMs);
  let count = 0;
  for (const { change } of changes) {
    const before = reached(change.from);
    const after = reached(change.to);
    if (!before && after) count++;
    if (before && !after) count--;
    if (count === world.nodes.length) return change.atMs;
  }
  return null;
}

function versionOutcomes(
  world: DeployWorld,
  strategy: Strategy,
  auditLogs: readonly (readonly AuditEntry[])[],
  releaseManager: ReleaseManager | undefined,
  deployer: Deployer | undefined,
  groupSize: number,
): VersionFigures[] {
  let log: readonly AuditEntry[] = [];
  for (const candidate of auditLogs) if (candidate.length > log.length) log = candidate;
  const outcomeOf = new Map<string, string>();
  const idOfDigest = new Map<string, string>();
  for (const { event } of log) {
    if (event.type === 'proposed') {
      idOfDigest.set(event.digest, event.versionId);
      outcomeOf.set(event.versionId, 'open');
    } else if (event.type === 'released' || event.type === 'rejected' || event.type === 'superseded') outcomeOf.set(event.versionId, event.type);
  }
  const latencies = world.commandLatencyMs;
  const commitMsMax = latencies.reduce((max, entry) => Math.max(max, entry.ms), 0);
  const releases = world.stream.filter((version) => outcomeOf.get(idOfDigest.get(version.digest) ?? '') === 'released');
  return world.stream.map((version): VersionFigures => {
    const requests = world.nodes.reduce((total, node) => total + node.requests[version.index]!, 0);
    const nodesServed = world.nodes.filter((node) => node.switches.some((change) => change.to === version.index)).length;
    const base = { index: version.index, kind: version.kind, digest: version.digest, publishMs: version.publishMs, requests, nodesServed };
    if (strategy === 'rolling') {
      const decided = deployer!.decided[version.index];
      const converged = fleetConvergedAt(world, version.index, false);
      return {
        ...base,
        outcome: decided === 1 ? 'known-good' : decided === -1 ? 'rolled-back' : 'undecided',
        versionId: null,
        convergedMs: converged === null ? null : round(converged - version.publishMs),
        bound: null,
      };
    }
    const versionId = idOfDigest.get(version.digest) ?? null;
    const outcome = versionId === null ? 'never-proposed' : outcomeOf.get(versionId)!;
    if (outcome !== 'released') return { ...base, outcome, versionId, convergedMs: null, bound: null };
    const proposal = releaseManager!.proposals.get(version.index)!;
    const converged = fleetConvergedAt(world, version.index, true);
    const passing = world.validations
      .filter((record) => record.index === version.index && record.pass)
      .map((record) => record.verdictMs - record.seenMs)
      .sort((a, b) => a - b);
    // The strict majority of fastest passing validators: the slowest of them is the one needed.
    const needed = Math.floor(groupSize / 2) + 1;
    const validationMs = passing[Math.min(needed, passing.length) - 1] ?? 0;
    const transferMs = world.nodes.reduce((max, node) => Math.max(max, world.store.transferMs(node.region, version.digest)), 0);
    const next = releases.find((release) => release.index > version.index);
    const nextLoadMs = next === undefined ? Infinity : Math.min(...world.loads.filter((load) => load.index === next.index).map((load) => load.atMs), Infinity);
    const overtaken = converged === null || nextLoadMs <= converged;
    const { pollMs, validatorPollMs } = world.settings;
    return {
      ...base,
      outcome,
      versionId,
      convergedMs: converged === null ? null : round(converged - version.publishMs),
      bound: {
        // Measured from publication: the proposal may have waited behind the manager's poll.
        boundMs: round(proposal.sentMs - version.publishMs + 6 * commitMsMax + validatorPollMs + pollMs + validationMs + transferMs),
        commitMsMax: round(commitMsMax),
        validationMs: round(validationMs),
        transferMs: round(transferMs),
        pollMs,
        validatorPollMs,
        overtaken,
      },
    };
  });
}

/** Property 5 from the per-version figures: judged on fault-free runs that finished. */
function convergenceProperty(strategy: Strategy, figures: readonly VersionFigures[], anyFault: boolean, stuck: string | null): PropertyResult {
  if (strategy === 'rolling') return { property: 'convergence', holds: undefined, detail: 'not judged: the rolling update has no bound' };
  const judged = figures.filter((figure) => figure.bound !== null && !figure.bound.overtaken);
  if (anyFault || stuck !== null) return { property: 'convergence', holds: undefined, detail: 'not judged: the bound assumes no faults' };
  if (figures.every((figure) => figure.bound === null)) return { property: 'convergence', holds: undefined, detail: 'no release to judge' };
  const late = judged.filter((figure) => figure.convergedMs! > figure.bound!.boundMs);
  return {
    property: 'convergence',
    holds: late.length === 0,
    detail:
      late.length === 0
        ? `${judged.length} releases converged within their bounds (worst ${Math.max(...judged.map((figure) => figure.convergedMs! / figure.bound!.boundMs)).toFixed(2)} of the bound)`
        : `version ${late[0]!.index} converged in ${late[0]!.convergedMs} ms, over its bound ${late[0]!.bound!.boundMs} ms`,
  };
}

export type { StreamVersion };
