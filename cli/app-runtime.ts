/**
 * `orrery app adapter-register --runtime`: a real deployment of adapter files through the replicated
 * register on this machine (runtime/adapter-deployment.ts): replicas, validators, inference nodes and
 * the artifact store as OS processes on loopback. Prints, per version, the validators' verdicts, the
 * register's decision, how long the fleet took to converge and the integrity refusals; then the
 * requests served per version, the bad-version requests (0 unless the register failed) and the checks.
 * Exits 1 when a check fails.
 */
import { availableProtocols } from '../protocols/index.js';
import { ARTIFACT_KINDS, runAdapterDeployment, type ArtifactKind, type DeploymentReport, type VersionReport } from '../runtime/adapter-deployment.js';
import type { ProtocolName } from '../core/config.js';
import { UsageError } from '../core/invariant.js';
import { intFlag, numberFlag, stringFlag } from './options.js';

type Argv = Record<string, unknown>;

/** The default stream: a release, a regression, a corrupted file, a release, a regression, a release. */
export const DEFAULT_VERSIONS: readonly ArtifactKind[] = ['good', 'regressed', 'corrupted', 'good', 'regressed', 'good'];

/** The runtime mode's options, described for yargs (`protocol`, `n` and `seed` may be shared with the simulator mode). */
export const APP_RUNTIME_FLAGS = {
  runtime: { type: 'boolean', describe: 'run a real deployment on this machine: replicas, validators, inference nodes and the store as OS processes' },
  protocol: { type: 'string', describe: `the protocol replicating the register: ${availableProtocols().join(', ')} [default: tempo]` },
  n: { type: 'string', describe: 'replicas, one validator beside each (odd, 3 to 15) [default: 3]' },
  seed: { type: 'string', describe: 'seed of the artifacts (good artifact i: SEED+i) and of the synthetic requests [default: 1]' },
  'inference-nodes': { type: 'string', describe: 'runtime: inference node processes [default: 3]' },
  versions: { type: 'string', describe: `runtime: comma-separated artifacts to propose, each ${ARTIFACT_KINDS.join(', ')} [default: ${DEFAULT_VERSIONS.join(',')}]` },
  'poll-ms': { type: 'string', describe: 'runtime: register poll period of validators and inference nodes [default: 50]' },
  'request-rate': { type: 'string', describe: 'runtime: requests per second per inference node [default: 200]' },
  'steps-per-request': { type: 'string', describe: 'runtime: forward passes per request [default: 4]' },
  'step-ms': { type: 'string', describe: 'runtime: wall time between two forward passes of a request, so requests overlap swaps [default: 5]' },
  'corrupt-transfers': { type: 'string', describe: 'runtime: the store damages the first N transfers to inference nodes [default: 2]' },
  'crash-validators': { type: 'string', describe: 'runtime: comma-separated validator ids not started (a minority) [default: none]' },
  json: { type: 'boolean', describe: 'print the report as JSON' },
} as const;

/** The deployment options the flags describe. */
export function adapterRuntimeOptions(argv: Argv) {
  const protocol = stringFlag(argv, 'protocol', 'tempo');
  if (!(availableProtocols() as readonly string[]).includes(protocol)) {
    throw new UsageError(`--protocol must be one of ${availableProtocols().join(', ')} (got '${protocol}')`);
  }
  const n = intFlag(argv, 'n', 3, 3, 15);
  if (n % 2 === 0) throw new UsageError(`--n must be odd, so that a strict majority of validators is well defined (got ${n})`);
  const versionsText = stringFlag(argv, 'versions', DEFAULT_VERSIONS.join(','));
  const versions = versionsText.split(',').map((text) => text.trim());
  for (const kind of versions) {
    if (!(ARTIFACT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`--versions: unknown artifact kind '${kind}'; accepted: ${ARTIFACT_KINDS.join(', ')}`);
  }
  if (versions.length > 100) throw new UsageError(`--versions lists ${versions.length} artifacts; at most 100`);
  const crashText = stringFlag(argv, 'crash-validators', '');
  const crashedValidators = crashText === '' ? [] : crashText.split(',').map((text) => Number(text.trim()));
  for (const id of crashedValidators) {
    if (!(Number.isInteger(id) && id >= 1 && id <= n)) throw new UsageError(`--crash-validators: '${crashText}' must list validator ids from 1 to ${n}`);
  }
  if (crashedValidators.length * 2 >= n) throw new UsageError(`--crash-validators: crash a minority only (${crashedValidators.length} of ${n})`);
  return {
    protocol: protocol as ProtocolName,
    n,
    seed: intFlag(argv, 'seed', 1, 0, 1_000_000_000),
    inferenceNodes: intFlag(argv, 'inference-nodes', 3, 1, 64),
    versions: versions as ArtifactKind[],
    pollMs: intFlag(argv, 'poll-ms', 50, 5, 10_000),
    requestRate: numberFlag(argv, 'request-rate', 200, 0, 100_000),
    stepsPerRequest: intFlag(argv, 'steps-per-request', 4, 1, 1000),
    stepMs: intFlag(argv, 'step-ms', 5, 0, 10_000),
    corruptInferenceDownloads: intFlag(argv, 'corrupt-transfers', 2, 0, 1000),
    crashedValidators,
  };
}

const ms = (value: number | null): string => (value === null ? '-' : `${Math.round(value)} ms`);

/** One line per version. */
export function formatVersion(v: VersionReport): string {
  const kind = v.regression === undefined ? v.kind : `${v.kind} (${v.regression})`;
  const verdicts = v.verdicts.map((d) => `${d.validator}:${d.pass ? 'pass' : 'fail'}${d.integrityRefusals > 0 ? ` (${d.integrityRefusals} digest refusals)` : ''}`).join(' ');
  const failed = v.verdicts.find((d) => !d.pass);
  const why = v.outcome === 'rejected' && failed !== undefined ? `\n    why: ${failed.evidence}` : '';
  return (
    `version ${v.index} ${v.versionId} ${kind}: ${v.outcome}` +
    ` | verdicts ${verdicts === '' ? '-' : verdicts}` +
    ` | decided after ${ms(v.decisionMs)}` +
    (v.outcome === 'released' ? ` | fleet converged in ${ms(v.convergenceMs)} (mixed versions for ${ms(v.mixedMs)}, ${v.nodesServing} nodes)` : '') +
    (v.inferenceRefusals > 0 ? ` | ${v.inferenceRefusals} downloads refused by inference nodes` : '') +
    why
  );
}

/** The summary after the last version. */
export function formatSummary(report: DeploymentReport): string {
  const byVersion = Object.entries(report.requestsByVersion).map(([id, count]) => `${id}: ${count}`).join(', ');
  const lines = [
    `requests served: ${report.requestsServed} (${byVersion === '' ? 'none' : byVersion}); before the first release: ${report.unservedRequests} not served; ${report.requestsSpanningSwap} in flight at a swap finished on their version`,
    `bad-version requests: ${report.badVersionRequests}`,
    `integrity refusals: ${report.integrityRefusals.validators} by validators, ${report.integrityRefusals.inference} by inference nodes (store: ${report.store.corruptedTransfers} damaged transfers, ${report.store.downloads} downloads)`,
    `checks: served models match the validated bytes (${report.probeMismatches} mismatches), no node moved backwards (${report.backwardSwaps}), replicas agree on the register (${report.replicasAgree ? 'yes' : 'NO'}, log of ${report.finalStates[0]?.state.logLength ?? 0} entries)`,
    `${report.protocol}, ${report.n} replicas/validators, ${report.inference.length} inference nodes, ${Math.round(report.wallMs)} ms`,
  ];
  return lines.join('\n');
}

/** Whether every check of the report holds. */
export function deploymentHealthy(report: DeploymentReport): boolean {
  return report.badVersionRequests === 0 && report.probeMismatches === 0 && report.backwardSwaps === 0 && report.replicasAgree;
}

/** Runs `orrery app adapter-register --runtime`. */
export async function runAdapterRuntime(argv: Argv, print: (text: string) => void): Promise<void> {
  const options = adapterRuntimeOptions(argv);
  const json = argv['json'] === true;
  const report = await runAdapterDeployment({ ...options, ...(json ? {} : { onVersion: (v: VersionReport) => print(formatVersion(v)) }) });
  if (json) print(JSON.stringify(report, null, 2));
  else print(formatSummary(report));
  if (!deploymentHealthy(report)) process.exitCode = 1;
}
