/**
 * The adapter register's users in the runtime, each an OS process of its own (adapter-agent-main.ts):
 *
 * - **Validator** (one per replica, named by its process id, as the register's validator group is the
 *   consensus group): polls the register at its own replica; on a BETA_TESTING candidate it has not
 *   evaluated, downloads the artifact from the store, verifies its SHA-256 against the register on a
 *   worker thread, runs the reference validation suite (apps/adapter-register/validation.ts) on the
 *   verified bytes and votes. A digest mismatch (after `fetchAttempts` downloads) or an unavailable
 *   artifact is a fail vote carrying the reason: a validator cannot vouch for bytes it could not check.
 * - **Inference node**: polls the register (read-only); when `current` is newer than what it serves,
 *   downloads the artifact, verifies the digest (a mismatch is refused, reported and retried at the
 *   next poll — never loaded), parses it, builds the adapted weights, and only then swaps: one
 *   assignment of an immutable model object. Requests capture the model when they start and use it to
 *   the end, so requests in flight finish on the old version, new ones get the new one, and none can
 *   see a half-built model. It never moves backwards (only a higher sequence number is loaded).
 *   Requests are local and synthetic: open-loop arrivals, each a few forward passes of the model
 *   (an autoregressive loop feeding outputs back as inputs), yielding to the event loop between steps.
 *   Each served request is counted under the version that served it.
 *
 * Agents report what they do to the launcher as events (verdicts, swaps, refusals) and a final report.
 */
import { adaptedWeights, parseAdapter } from '../apps/adapter-register/adapter-file.js';
import { forward, gaussian, MODEL_INPUT_DIM, MODEL_OUTPUT_DIM } from '../apps/adapter-register/model.js';
import type { Candidate, Outcome, Version } from '../apps/adapter-register/register.js';
import { validateAdapter } from '../apps/adapter-register/validation.js';
import type { ProcessId } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import { downloadArtifact } from './artifact-store.js';
import { DigestPool } from './digest-pool.js';
import { epochMs, RegisterClient } from './register-client.js';
import type { Log } from './transport.js';

/** What an agent process needs to start. Plain data: it crosses argv as JSON. */
export interface AgentSpec {
  readonly role: 'validator' | 'inference';
  /** Validator: its replica's process id (the validator's name in the register). Inference node: 1..m. */
  readonly id: number;
  /** Its register client id (unique in the cluster). */
  readonly clientId: number;
  readonly target: string;
  readonly addresses: ReadonlyArray<{ readonly id: ProcessId; readonly host: string; readonly port: number }>;
  /** Replicas to talk to, in order. */
  readonly preference: readonly ProcessId[];
  readonly storeUrl: string;
  readonly pollMs: number;
  /** A register command unanswered this long goes to the next replica. */
  readonly timeoutMs: number;
  /** Validator: downloads of a candidate before a digest mismatch becomes a fail vote. */
  readonly fetchAttempts: number;
  /** Inference node: requests per second (open loop). */
  readonly requestRate: number;
  /** Inference node: forward passes per request. */
  readonly stepsPerRequest: number;
  /**
   * Inference node: wall time between two steps of a request (generating a token takes time on a real
   * server), so requests overlap and a swap finds some in flight; 0 yields to the event loop only.
   */
  readonly stepMs: number;
  readonly seed: number;
}

/** Something an agent did, reported to the launcher as it happens. */
export type AgentEvent =
  | {
      readonly kind: 'verdict';
      readonly validator: number;
      readonly versionId: string;
      readonly pass: boolean;
      readonly evidence: string;
      readonly metrics: Readonly<Record<string, number>>;
      /** Downloads refused for a digest mismatch before the verdict. */
      readonly integrityRefusals: number;
      readonly validateMs: number;
      /** The register's answer to the vote. */
      readonly outcome: Outcome;
      readonly atMs: number;
    }
  | {
      readonly kind: 'swap';
      readonly node: number;
      readonly versionId: string;
      readonly seq: number;
      readonly digest: string;
      /** The new model's outputs on {@link PROBE_INPUT}: the launcher recomputes them from the artifact. */
      readonly probeOutputs: readonly number[];
      /** Requests still running on the old version at the swap. */
      readonly inFlight: number;
      readonly atMs: number;
    }
  | { readonly kind: 'refusal'; readonly node: number; readonly versionId: string; readonly reason: string; readonly atMs: number };

/** What an inference node served, at the end. */
export interface InferenceReport {
  readonly node: number;
  /** Requests served, by the version that served them. */
  readonly requestsByVersion: Readonly<Record<string, number>>;
  /** Requests that arrived before any version was released (not served). */
  readonly unserved: number;
  /** Requests that started on one version and finished after the node had swapped to a newer one. */
  readonly spanningSwap: number;
  readonly integrityRefusals: number;
  /** Versions in the order the node served them. */
  readonly served: readonly string[];
  readonly registerRetries: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
}

/** A validator's report at the end. */
export interface ValidatorReport {
  readonly validator: number;
  readonly evaluated: number;
  readonly integrityRefusals: number;
  readonly registerRetries: number;
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
}

/** The fixed input whose output each swap reports (a unit input along the first feature). */
export const PROBE_INPUT: readonly number[] = Array.from({ length: MODEL_INPUT_DIM }, (_, i) => (i === 0 ? 1 : 0));

/** A loaded version: immutable once built, swapped in with one assignment. */
interface ServingModel {
  readonly versionId: string;
  readonly seq: number;
  readonly digest: string;
  readonly weights: Float64Array;
}

/** The outputs of `weights` on {@link PROBE_INPUT}. */
export function probeOutputs(weights: Float64Array): number[] {
  const out = new Float64Array(MODEL_OUTPUT_DIM);
  forward(weights, MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, PROBE_INPUT, 0, out, 0);
  return Array.from(out);
}

abstract class Agent {
  protected readonly client: RegisterClient;
  protected readonly pool = new DigestPool(1);
  private pollTimer: NodeJS.Timeout | undefined;
  protected stopped = false;

  constructor(
    protected readonly spec: AgentSpec,
    protected readonly log: Log,
    protected readonly emit: (event: AgentEvent) => void,
  ) {
    this.client = new RegisterClient({ clientId: spec.clientId, addresses: spec.addresses, preference: spec.preference, timeoutMs: spec.timeoutMs, log });
  }

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      try {
        await this.poll();
      } catch (error) {
        if (!this.stopped) this.log(`poll failed: ${(error as Error).message}`);
      }
      if (!this.stopped) this.pollTimer = setTimeout(() => void loop(), this.spec.pollMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    this.client.close();
    await this.pool.close();
  }

  protected abstract poll(): Promise<void>;
}

export class Validator extends Agent {
  private readonly evaluated = new Set<string>();
  private integrityRefusals = 0;

  protected async poll(): Promise<void> {
    const state = await this.client.read(this.spec.target);
    const candidate = state.candidate;
    if (state.phase !== 'BETA_TESTING' || candidate === null || this.evaluated.has(candidate.versionId)) return;
    this.evaluated.add(candidate.versionId);
    await this.evaluate(candidate);
  }

  private async evaluate(candidate: Candidate): Promise<void> {
    let refusals = 0;
    let problem = '';
    let bytes: Uint8Array | undefined;
    for (let attempt = 1; attempt <= this.spec.fetchAttempts && bytes === undefined && !this.stopped; attempt++) {
      try {
        const downloaded = await downloadArtifact(this.spec.storeUrl, candidate.digest, candidate.size, { role: 'validator', id: this.spec.id });
        const check = await this.pool.verify(downloaded, candidate.digest);
        if (check.ok) bytes = downloaded;
        else {
          refusals++;
          problem = check.reason;
          this.log(`refused ${candidate.versionId}: ${check.reason}`);
        }
      } catch (error) {
        problem = `artifact unavailable: ${(error as Error).message}`;
      }
    }
    if (this.stopped) return;
    this.integrityRefusals += refusals;
    let pass = false;
    let evidence: string;
    let metrics: Record<string, number> = {};
    let validateMs = 0;
    if (bytes === undefined) {
      evidence = `fail: ${problem} (${this.spec.fetchAttempts} download${this.spec.fetchAttempts === 1 ? '' : 's'})`;
    } else {
      const started = performance.now();
      const report = validateAdapter(bytes);
      validateMs = performance.now() - started;
      ({ pass, evidence, metrics } = report);
    }
    const outcome = await this.client.vote(this.spec.target, { versionId: candidate.versionId, validator: String(this.spec.id), pass, evidence });
    this.emit({ kind: 'verdict', validator: this.spec.id, versionId: candidate.versionId, pass, evidence, metrics, integrityRefusals: refusals, validateMs, outcome, atMs: epochMs() });
  }

  report(): ValidatorReport {
    const cpu = process.cpuUsage();
    return {
      validator: this.spec.id,
      evaluated: this.evaluated.size,
      integrityRefusals: this.integrityRefusals,
      registerRetries: this.client.retries,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
    };
  }
}

/** Requests issued per arrival tick, at most (bounds a burst after a stall). */
const ARRIVALS_PER_TICK_MAX = 1000;
const ARRIVAL_TICK_MS = 10;

export class InferenceNode extends Agent {
  private serving: ServingModel | undefined;
  private loading = false;
  private inFlight = 0;
  private unserved = 0;
  private spanningSwap = 0;
  private integrityRefusals = 0;
  private readonly requestsByVersion = new Map<string, number>();
  private readonly served: string[] = [];
  private readonly rng: Rng;
  private arrivalTimer: NodeJS.Timeout | undefined;

  constructor(spec: AgentSpec, log: Log, emit: (event: AgentEvent) => void) {
    super(spec, log, emit);
    this.rng = new Rng(`inference/${spec.seed}/${spec.id}`);
  }

  override start(): void {
    super.start();
    let owed = 0;
    let last = performance.now();
    this.arrivalTimer = setInterval(() => {
      const now = performance.now();
      owed = Math.min(ARRIVALS_PER_TICK_MAX, owed + ((now - last) * this.spec.requestRate) / 1000);
      last = now;
      for (; owed >= 1; owed--) void this.serve();
    }, ARRIVAL_TICK_MS);
  }

  override async stop(): Promise<void> {
    if (this.arrivalTimer !== undefined) clearInterval(this.arrivalTimer);
    await super.stop();
  }

  protected async poll(): Promise<void> {
    const state = await this.client.read(this.spec.target);
    const current = state.current;
    if (current === null || this.loading || current.seq <= (this.serving?.seq ?? 0)) return;
    this.loading = true;
    try {
      await this.load(current);
    } finally {
      this.loading = false;
    }
  }

  private async load(version: Version): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await downloadArtifact(this.spec.storeUrl, version.digest, version.size, { role: 'inference', id: this.spec.id });
    } catch (error) {
      this.log(`cannot download ${version.versionId} (${(error as Error).message}); retrying at the next poll`);
      return;
    }
    const check = await this.pool.verify(bytes, version.digest);
    if (!check.ok) return this.refuse(version, check.reason);
    let weights: Float64Array;
    try {
      weights = adaptedWeights(parseAdapter(bytes));
    } catch (error) {
      return this.refuse(version, `cannot load: ${(error as Error).message}`);
    }
    const model: ServingModel = { versionId: version.versionId, seq: version.seq, digest: version.digest, weights };
    // Never backwards: a newer version may have been loaded while this one downloaded.
    if (this.stopped || model.seq <= (this.serving?.seq ?? 0)) return;
    this.serving = model;
    this.served.push(model.versionId);
    this.emit({ kind: 'swap', node: this.spec.id, versionId: model.versionId, seq: model.seq, digest: model.digest, probeOutputs: probeOutputs(weights), inFlight: this.inFlight, atMs: epochMs() });
  }

  private refuse(version: Version, reason: string): void {
    this.integrityRefusals++;
    this.log(`refused ${version.versionId}: ${reason}; still serving ${this.serving?.versionId ?? 'nothing'}`);
    this.emit({ kind: 'refusal', node: this.spec.id, versionId: version.versionId, reason, atMs: epochMs() });
  }

  /** One request: the model is captured once and used for every step. */
  private async serve(): Promise<void> {
    const model = this.serving;
    if (model === undefined) {
      this.unserved++;
      return;
    }
    this.inFlight++;
    const state = new Float64Array(MODEL_INPUT_DIM);
    for (let i = 0; i < state.length; i++) state[i] = gaussian(this.rng);
    const out = new Float64Array(MODEL_OUTPUT_DIM);
    for (let step = 0; step < this.spec.stepsPerRequest; step++) {
      forward(model.weights, MODEL_INPUT_DIM, MODEL_OUTPUT_DIM, state, 0, out, 0);
      // Feed the outputs back (shifted into the input window), like generating the next token.
      state.copyWithin(MODEL_OUTPUT_DIM, 0, MODEL_INPUT_DIM - MODEL_OUTPUT_DIM);
      for (let j = 0; j < MODEL_OUTPUT_DIM; j++) state[j] = Math.max(-4, Math.min(4, out[j]!));
      if (this.spec.stepMs > 0) await new Promise<void>((resolve) => setTimeout(resolve, this.spec.stepMs));
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.inFlight--;
    this.requestsByVersion.set(model.versionId, (this.requestsByVersion.get(model.versionId) ?? 0) + 1);
    if (this.serving !== model) this.spanningSwap++;
  }

  report(): InferenceReport {
    const cpu = process.cpuUsage();
    return {
      node: this.spec.id,
      requestsByVersion: Object.fromEntries([...this.requestsByVersion].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
      unserved: this.unserved,
      spanningSwap: this.spanningSwap,
      integrityRefusals: this.integrityRefusals,
      served: [...this.served],
      registerRetries: this.client.retries,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
    };
  }
}
