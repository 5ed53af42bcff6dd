/**
 * A real deployment of adapter artifacts through the replicated adapter register, on one machine:
 * every role is an OS process talking over loopback sockets.
 *
 * - `n` replicas of an Orrery protocol with `config.app = 'adapter-register'` (replica-main.ts);
 * - the artifact store (store-main.ts): adapter files named by their SHA-256, served over HTTP;
 * - `n` validators, validator `i` beside replica `i` (adapter-agent-main.ts);
 * - `m` inference nodes serving synthetic requests (adapter-agent-main.ts);
 * - the release manager, in this process: for each artifact of the stream it makes the file
 *   (apps/adapter-register/adapter-file.ts), uploads it, proposes it, waits for the register's verdict
 *   and, after a release, for every inference node to serve it, then calls `markStable`. A
 *   `corrupted` artifact is uploaded intact and then damaged on the store's disk before the proposal.
 *
 * At the end it gathers every agent's report and the register's state at every replica, and checks
 * what the issue asks of the register: no request served by a version that was not released or not
 * good (bad-version requests), every swap's probe outputs equal to the model recomputed from the
 * uploaded bytes (integrity: what nodes serve is what was validated), no node moving backwards, and
 * every replica holding the same register.
 *
 * No orphans: children are started through the launcher's helpers, killed when the run ends or fails
 * or this process exits, and awaited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adaptedWeights, makeAdapter, parseAdapter, regressionKind } from '../apps/adapter-register/adapter-file.js';
import type { RegisterState } from '../apps/adapter-register/register.js';
import { makeConfig, type ProtocolName } from '../core/config.js';
import type { ProcessId } from '../core/ids.js';
import { UsageError } from '../core/invariant.js';
import { protocolByName } from '../protocols/index.js';
import { probeOutputs, type AgentEvent, type AgentSpec, type InferenceReport, type ValidatorReport } from './adapter-agents.js';
import type { FromAgent, ToAgent } from './adapter-agent-main.js';
import { corruptStoredArtifact, uploadArtifact, type StoreStats } from './artifact-store.js';
import { localRegions, loopbackCluster } from './cluster.js';
import type { FromReplica, ToReplica } from './ipc.js';
import { awaitMessage, installSignalHandlers, replicaSpec, spawnChild, stopChild, type Child } from './launcher.js';
import { epochMs, RegisterClient } from './register-client.js';
import type { FromStore, StoreSpec } from './store-main.js';

/** What the release manager proposes: a good adapter, a regressed one, or a good one damaged in the store. */
export const ARTIFACT_KINDS = ['good', 'regressed', 'corrupted'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface AdapterDeploymentOptions {
  readonly protocol: ProtocolName;
  /** Replicas, and validators (one beside each replica). */
  readonly n: number;
  readonly inferenceNodes: number;
  /** The artifacts to propose, in order. */
  readonly versions: readonly ArtifactKind[];
  /** Artifact `i` is made with seed `seed + i` (a regressed one with `3(seed + i) + r`, r cycling the regression kinds). */
  readonly seed: number;
  readonly pollMs: number;
  /** Requests per second per inference node. */
  readonly requestRate: number;
  readonly stepsPerRequest: number;
  /** Wall time between two steps of a request (see AgentSpec.stepMs). */
  readonly stepMs: number;
  /** The store damages the first N transfers to inference nodes. */
  readonly corruptInferenceDownloads: number;
  /** Validators not started (a crashed minority). */
  readonly crashedValidators?: readonly ProcessId[];
  /** The deployment target (the register key). */
  readonly target?: string;
  /** Store directory (default: a fresh temporary directory, removed at the end). */
  readonly storeDirectory?: string;
  /** Longest wait for one version's verdict and then for the fleet to converge. */
  readonly versionTimeoutMs?: number;
  /** Keep serving this long after the last version before the reports are gathered. */
  readonly settleMs?: number;
  readonly onLog?: (line: string) => void;
  readonly onChild?: (pid: number, name: string) => void;
  /** Called as each version is decided (the CLI prints it). */
  readonly onVersion?: (report: VersionReport) => void;
}

/** One validator's verdict as the release manager saw it reported. */
export interface VerdictSummary {
  readonly validator: number;
  readonly pass: boolean;
  readonly evidence: string;
  readonly integrityRefusals: number;
  readonly validateMs: number;
  /** Whether the register counted the vote (a vote after the decision is refused). */
  readonly counted: boolean;
}

/** What happened to one artifact of the stream. */
export interface VersionReport {
  readonly index: number;
  readonly kind: ArtifactKind;
  /** For a regressed artifact, which regression it carries. */
  readonly regression: string | undefined;
  readonly digest: string;
  readonly size: number;
  readonly versionId: string;
  readonly verdicts: readonly VerdictSummary[];
  readonly outcome: 'released' | 'rejected' | 'undecided';
  /** From the proposal to the vote that decided it. */
  readonly decisionMs: number | null;
  /** From the release to the last inference node serving it (null: not released, or not converged). */
  readonly convergenceMs: number | null;
  /** From the first node serving it to the last: the fleet serves mixed versions this long. */
  readonly mixedMs: number | null;
  readonly nodesServing: number;
  /** Downloads of this version refused by inference nodes for a digest mismatch. */
  readonly inferenceRefusals: number;
  readonly markedStable: boolean;
}

export interface DeploymentReport {
  readonly protocol: ProtocolName;
  readonly n: number;
  readonly target: string;
  readonly versions: readonly VersionReport[];
  readonly validators: readonly ValidatorReport[];
  readonly inference: readonly InferenceReport[];
  readonly store: StoreStats;
  readonly requestsServed: number;
  readonly requestsByVersion: Readonly<Record<string, number>>;
  /** Requests served by a version that was not released, or released but not a good artifact: must be 0. */
  readonly badVersionRequests: number;
  /** Requests that arrived before the first release (not served). */
  readonly unservedRequests: number;
  /** Requests that finished on the old version after their node had swapped. */
  readonly requestsSpanningSwap: number;
  readonly integrityRefusals: { readonly validators: number; readonly inference: number };
  /** Swaps whose model differs from the one built from the uploaded bytes of that version: must be 0. */
  readonly probeMismatches: number;
  /** Swaps to a version not above the node's previous one: must be 0. */
  readonly backwardSwaps: number;
  /** The register at each replica at the end (read there). */
  readonly finalStates: ReadonlyArray<{ readonly replica: ProcessId; readonly state: RegisterState }>;
  readonly replicasAgree: boolean;
  readonly wallMs: number;
  readonly childPids: readonly number[];
}

/** Register client ids: the release manager, validators, inference nodes, final readers. */
const MANAGER_CLIENT = 1;
const VALIDATOR_CLIENT_BASE = 100;
const INFERENCE_CLIENT_BASE = 1000;
const READER_CLIENT_BASE = 100_000;
const INFERENCE_NODES_MAX = 64;
const VERSIONS_MAX = 100;

function checkOptions(options: AdapterDeploymentOptions): void {
  if (!(options.n >= 3 && options.n <= 15 && options.n % 2 === 1)) throw new UsageError(`--n must be an odd number of replicas from 3 to 15 (got ${options.n})`);
  if (!(options.inferenceNodes >= 1 && options.inferenceNodes <= INFERENCE_NODES_MAX)) {
    throw new UsageError(`--inference-nodes must be from 1 to ${INFERENCE_NODES_MAX} (got ${options.inferenceNodes})`);
  }
  if (options.versions.length === 0 || options.versions.length > VERSIONS_MAX) throw new UsageError(`--versions needs 1 to ${VERSIONS_MAX} artifacts`);
  for (const kind of options.versions) {
    if (!(ARTIFACT_KINDS as readonly string[]).includes(kind)) throw new UsageError(`unknown artifact kind '${kind}'; accepted: ${ARTIFACT_KINDS.join(', ')}`);
  }
  const crashed = new Set(options.crashedValidators ?? []);
  for (const id of crashed) if (!(Number.isInteger(id) && id >= 1 && id <= options.n)) throw new UsageError(`crashed validator ${id} is not a replica id 1..${options.n}`);
  if (crashed.size * 2 >= options.n) throw new UsageError(`crash a minority of validators only (${crashed.size} of ${options.n})`);
}

/** Runs the deployment (see the file comment) and returns what it measured and checked. */
export async function runAdapterDeployment(options: AdapterDeploymentOptions): Promise<DeploymentReport> {
  checkOptions(options);
  const { n, protocol: protocolName } = options;
  const target = options.target ?? 'model-a/adapter';
  const pollMs = options.pollMs;
  const versionTimeoutMs = options.versionTimeoutMs ?? 15_000;
  const crashed = new Set(options.crashedValidators ?? []);
  const protocol = protocolByName(protocolName);
  const config = makeConfig(protocolName, { n, app: 'adapter-register' });
  const cluster = loopbackCluster(localRegions(n));
  const ownDirectory = options.storeDirectory === undefined;
  const storeDirectory = options.storeDirectory ?? mkdtempSync(join(tmpdir(), 'orrery-artifacts-'));
  const childOptions = { ...(options.onLog === undefined ? {} : { onLog: options.onLog }), ...(options.onChild === undefined ? {} : { onChild: options.onChild }) };
  const log = options.onLog ?? ((line: string) => process.stderr.write(`${line}\n`));

  installSignalHandlers();
  const started: Child[] = [];
  const childPids: number[] = [];
  const track = (c: Child) => {
    started.push(c);
    if (c.child.pid !== undefined) childPids.push(c.child.pid);
    return c;
  };
  const clients: RegisterClient[] = [];
  const startMs = epochMs();
  const timeoutMs = 20_000;
  try {
    // The store.
    const storeSpec: StoreSpec = { directory: storeDirectory, host: '127.0.0.1', port: 0, corruptInferenceDownloads: options.corruptInferenceDownloads };
    const store = track(spawnChild('store-main', storeSpec, 'store', childOptions));
    const storePort = (await awaitMessage<Extract<FromStore, { t: 'listening' }>>(store, 'listening', timeoutMs)).port;
    const storeUrl = `http://127.0.0.1:${storePort}`;

    // The replicas, started as `orrery run` starts them.
    const replicas = cluster.map((entry) => track(spawnChild('replica-main', replicaSpec({ protocol, config, cluster }, entry), `replica ${entry.id}`, childOptions)));
    const ports = await Promise.all(replicas.map((r) => awaitMessage<Extract<FromReplica, { t: 'listening' }>>(r, 'listening', timeoutMs)));
    const addresses = cluster.map((entry, i) => ({ id: entry.id, host: entry.host, port: ports[i]!.port }));
    const connected = replicas.map((r) => awaitMessage(r, 'connected', timeoutMs + 1000));
    for (const r of replicas) r.child.send({ t: 'peers', addresses, timeoutMs } satisfies ToReplica);
    await Promise.all(connected);
    for (const r of replicas) r.child.send({ t: 'start' } satisfies ToReplica);

    // The agents.
    const events: AgentEvent[] = [];
    const listeners = new Set<() => void>();
    const agentSpec = (role: AgentSpec['role'], id: number, clientId: number, first: ProcessId): AgentSpec => ({
      role,
      id,
      clientId,
      target,
      addresses,
      preference: Array.from({ length: n }, (_, i) => ((first - 1 + i) % n) + 1),
      storeUrl,
      pollMs,
      timeoutMs: 1000,
      fetchAttempts: 2,
      requestRate: options.requestRate,
      stepsPerRequest: options.stepsPerRequest,
      stepMs: options.stepMs,
      seed: options.seed,
    });
    const specs: AgentSpec[] = [];
    for (let v = 1; v <= n; v++) if (!crashed.has(v)) specs.push(agentSpec('validator', v, VALIDATOR_CLIENT_BASE + v, v));
    for (let i = 1; i <= options.inferenceNodes; i++) specs.push(agentSpec('inference', i, INFERENCE_CLIENT_BASE + i, ((i - 1) % n) + 1));
    const agents = specs.map((spec) => {
      const agent = track(spawnChild('adapter-agent-main', spec, `${spec.role} ${spec.id}`, childOptions));
      agent.child.on('message', (raw) => {
        const message = raw as FromAgent;
        if (message.t === 'event') {
          events.push(message.event);
          for (const listener of listeners) listener();
        }
      });
      return agent;
    });
    await Promise.all(agents.map((agent) => awaitMessage(agent, 'ready', timeoutMs)));
    for (const agent of agents) agent.child.send({ t: 'go' } satisfies ToAgent);

    const manager = new RegisterClient({ clientId: MANAGER_CLIENT, addresses, preference: cluster.map((e) => e.id), timeoutMs: 1000, log });
    clients.push(manager);
    const uploaded = new Map<string, Uint8Array>();
    const kindOfDigest = new Map<string, ArtifactKind>();
    const released = new Set<string>();
    const versions: VersionReport[] = [];
    /** Resolves once `condition` holds on the events (re-checked at each event), or after `waitMs`. */
    const until = (condition: () => boolean, waitMs: number): Promise<boolean> =>
      new Promise((resolve) => {
        if (condition()) return resolve(true);
        const listener = () => {
          if (!condition()) return;
          cleanup();
          resolve(true);
        };
        const timer = setTimeout(() => {
          cleanup();
          resolve(false);
        }, waitMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        listeners.add(listener);
      });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    let regressedSoFar = 0;
    for (let index = 0; index < options.versions.length; index++) {
      const kind = options.versions[index]!;
      // Regressed artifacts cycle through the regression kinds (the seed picks the kind mod 3).
      const artifactSeed = kind === 'regressed' ? 3 * (options.seed + index) + (regressedSoFar++ % 3) : options.seed + index;
      const bytes = makeAdapter(kind === 'regressed' ? 'regressed' : 'good', artifactSeed);
      const digest = await uploadArtifact(storeUrl, bytes);
      uploaded.set(digest, bytes);
      kindOfDigest.set(digest, kind);
      if (kind === 'corrupted') corruptStoredArtifact(storeDirectory, digest);
      const proposedAtMs = epochMs();
      const proposal = await manager.propose(target, { digest, size: bytes.length, proposedAt: Math.round(proposedAtMs) });
      if (!proposal.ok) throw new Error(`the register refused proposal ${index + 1}: ${proposal.reason}`);
      const versionId = proposal.versionId;
      const seq = Number(versionId.split('-')[0]);

      // The verdict: a vote that moved the phase out of BETA_TESTING for this version, seen by polling.
      let outcome: VersionReport['outcome'] = 'undecided';
      const deadline = epochMs() + versionTimeoutMs;
      while (epochMs() < deadline) {
        const state = await manager.read(target);
        if (state.current?.versionId === versionId) outcome = 'released';
        else if (state.candidate?.versionId !== versionId) outcome = 'rejected';
        if (outcome !== 'undecided') break;
        await sleep(pollMs);
      }
      const verdictEvents = () => events.filter((e): e is Extract<AgentEvent, { kind: 'verdict' }> => e.kind === 'verdict' && e.versionId === versionId);
      // The deciding validator reports after its vote is answered, which may be after this poll saw the decision.
      const deciding = () => verdictEvents().find((e) => e.outcome.ok && e.outcome.phase !== 'BETA_TESTING');
      if (outcome !== 'undecided') await until(() => deciding() !== undefined, Math.min(2000, 10 * pollMs));
      const decidedAtMs = deciding()?.atMs;
      let convergenceMs: number | null = null;
      let mixedMs: number | null = null;
      let markedStable = false;
      const swapsOf = () => events.filter((e): e is Extract<AgentEvent, { kind: 'swap' }> => e.kind === 'swap' && e.seq >= seq);
      if (outcome === 'released') {
        released.add(versionId);
        const converged = await until(() => new Set(swapsOf().map((e) => e.node)).size === options.inferenceNodes, versionTimeoutMs);
        const swaps = events.filter((e): e is Extract<AgentEvent, { kind: 'swap' }> => e.kind === 'swap' && e.versionId === versionId);
        if (converged && swaps.length > 0) {
          const last = Math.max(...swaps.map((e) => e.atMs));
          const first = Math.min(...swaps.map((e) => e.atMs));
          convergenceMs = decidedAtMs === undefined ? null : last - decidedAtMs;
          mixedMs = last - first;
          const stable = await manager.markStable(target, versionId);
          markedStable = stable.ok;
          if (!stable.ok) log(`markStable ${versionId} refused: ${stable.reason}`);
        }
      }
      // Late voters still report; give the rest of the group a moment so the report lists them.
      const voters = n - crashed.size;
      await until(() => verdictEvents().length >= voters, Math.min(2000, 10 * pollMs));
      const report: VersionReport = {
        index: index + 1,
        kind,
        regression: kind === 'regressed' ? regressionKind(artifactSeed) : undefined,
        digest,
        size: bytes.length,
        versionId,
        verdicts: verdictEvents()
          .map((e) => ({ validator: e.validator, pass: e.pass, evidence: e.evidence, integrityRefusals: e.integrityRefusals, validateMs: e.validateMs, counted: e.outcome.ok }))
          .sort((a, b) => a.validator - b.validator),
        outcome,
        decisionMs: decidedAtMs === undefined ? null : decidedAtMs - proposedAtMs,
        convergenceMs,
        mixedMs,
        nodesServing: new Set(events.filter((e) => e.kind === 'swap' && e.versionId === versionId).map((e) => (e as { node: number }).node)).size,
        inferenceRefusals: events.filter((e) => e.kind === 'refusal' && e.versionId === versionId).length,
        markedStable,
      };
      versions.push(report);
      options.onVersion?.(report);
    }
    await sleep(options.settleMs ?? 200);

    // Reports, store figures, and the register as every replica holds it.
    const reports = await Promise.all(
      agents.map((agent) => {
        const answer = awaitMessage<Extract<FromAgent, { t: 'report' }>>(agent, 'report', timeoutMs);
        agent.child.send({ t: 'report' } satisfies ToAgent);
        return answer.then((m) => m.report);
      }),
    );
    const storeStatsAnswer = awaitMessage<Extract<FromStore, { t: 'stats' }>>(store, 'stats', timeoutMs);
    store.child.send({ t: 'stats' });
    const storeStats = (await storeStatsAnswer).stats;
    const finalStates: Array<{ replica: ProcessId; state: RegisterState }> = [];
    for (const entry of cluster) {
      const reader = new RegisterClient({ clientId: READER_CLIENT_BASE + entry.id, addresses, preference: [entry.id], timeoutMs: 2000, log });
      clients.push(reader);
      finalStates.push({ replica: entry.id, state: await reader.read(target) });
      reader.close();
    }
    const replicasAgree = finalStates.every((s) => s.state.logHead === finalStates[0]!.state.logHead && s.state.logLength === finalStates[0]!.state.logLength);

    const validators = reports.filter((r): r is ValidatorReport => 'validator' in r);
    const inference = reports.filter((r): r is InferenceReport => 'node' in r).sort((a, b) => a.node - b.node);
    const digestOfVersion = new Map(versions.map((v) => [v.versionId, v.digest]));
    const requestsByVersion: Record<string, number> = {};
    let requestsServed = 0;
    let badVersionRequests = 0;
    for (const node of inference) {
      for (const [versionId, count] of Object.entries(node.requestsByVersion)) {
        requestsByVersion[versionId] = (requestsByVersion[versionId] ?? 0) + count;
        requestsServed += count;
        const digest = digestOfVersion.get(versionId);
        const good = digest !== undefined && kindOfDigest.get(digest) === 'good';
        if (!released.has(versionId) || !good) badVersionRequests += count;
      }
    }
    let probeMismatches = 0;
    let backwardSwaps = 0;
    const lastSeq = new Map<number, number>();
    const expectedProbe = new Map<string, string>();
    for (const event of events) {
      if (event.kind !== 'swap') continue;
      const bytes = uploaded.get(event.digest);
      if (digestOfVersion.get(event.versionId) !== event.digest || bytes === undefined) probeMismatches++;
      else {
        let expected = expectedProbe.get(event.digest);
        if (expected === undefined) expectedProbe.set(event.digest, (expected = JSON.stringify(probeOutputs(adaptedWeights(parseAdapter(bytes))))));
        if (JSON.stringify(event.probeOutputs) !== expected) probeMismatches++;
      }
      if (event.seq <= (lastSeq.get(event.node) ?? 0)) backwardSwaps++;
      lastSeq.set(event.node, event.seq);
    }
    manager.close();
    const report: DeploymentReport = {
      protocol: protocolName,
      n,
      target,
      versions,
      validators: validators.sort((a, b) => a.validator - b.validator),
      inference,
      store: storeStats,
      requestsServed,
      requestsByVersion,
      badVersionRequests,
      unservedRequests: inference.reduce((sum, r) => sum + r.unserved, 0),
      requestsSpanningSwap: inference.reduce((sum, r) => sum + r.spanningSwap, 0),
      integrityRefusals: {
        validators: validators.reduce((sum, r) => sum + r.integrityRefusals, 0),
        inference: inference.reduce((sum, r) => sum + r.integrityRefusals, 0),
      },
      probeMismatches,
      backwardSwaps,
      finalStates,
      replicasAgree,
      wallMs: epochMs() - startMs,
      childPids,
    };
    for (const agent of agents) await stopChild(agent, { t: 'stop' });
    for (const r of replicas) await stopChild(r, { t: 'stop' });
    await stopChild(store, { t: 'stop' });
    return report;
  } finally {
    for (const client of clients) client.close();
    await Promise.all(started.map((c) => stopChild(c, undefined)));
    if (ownDirectory) rmSync(storeDirectory, { recursive: true, force: true });
  }
}
