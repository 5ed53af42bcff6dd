/**
 * What the agents of one adapter-deploy run share: the planet, the artifact store, the validation
 * suite, the version stream, the settings and faults, the seeded draws (validation durations,
 * corrupted downloads, request arrivals), and the observations the checkers read afterwards.
 *
 * Every draw is keyed by what it is about (validator and artifact, downloader and attempt, node), not
 * by the order events happen in, so the register run and the rolling run of one seed see the same
 * durations, corruptions and requests.
 */
import { invariant } from '../../core/invariant.js';
import { Rng } from '../../core/rng.js';
import type { ProcessId } from '../../core/ids.js';
import type { Planet } from '../planet.js';
import type { ArtifactStore, StreamVersion, ValidationSuite } from './artifacts.js';
import { corruptionProbability, slowFactor, type AdapterFaults } from './faults.js';

/** The scenario's timing and sizing knobs (scenario.ts gives defaults). */
export interface DeploySettings {
  /** The register key of the deployment target. */
  readonly target: string;
  /** Inference nodes poll the register this often. */
  readonly pollMs: number;
  /** Validators poll the register this often. */
  readonly validatorPollMs: number;
  /** Validation time: lognormal with this median and log-space σ, times a slow validator's factor. */
  readonly validationMsMedian: number;
  readonly validationSigma: number;
  /** Downloads of one artifact before a validator votes fail / a node gives up until its next poll. */
  readonly downloadAttemptsMax: number;
  /** Requests per second arriving at each inference node (Poisson). */
  readonly requestsPerSecPerNode: number;
  /**
   * How long the release manager (deployer) waits for a decision on the last version before it
   * stops waiting: a crashed validator can leave the rest split, neither threshold reachable.
   */
  readonly decisionTimeoutMs: number;
  /** Rolling update: nodes per batch and the pause between batches. */
  readonly batchSize: number;
  readonly batchIntervalMs: number;
}

/** One validation a validator ran (or gave up on). */
export interface ValidationRecord {
  readonly validator: ProcessId;
  readonly index: number;
  /** When it learnt of the version (a poll reply, or the deployer's message). */
  readonly seenMs: number;
  /** When its verdict left: the vote command was sent, or the verdict message. */
  readonly verdictMs: number;
  readonly pass: boolean;
  readonly downloads: number;
  readonly evidence: string;
}

/** One artifact a node loaded: what it was told to load and the digest of the bytes it loaded. */
export interface LoadRecord {
  readonly node: number;
  readonly index: number;
  /** The version id the register gave it (register strategy), or `#<index>` (rolling). */
  readonly versionId: string;
  /** The digest the node was told to expect. */
  readonly expectedDigest: string;
  /** SHA-256 of the bytes it actually loaded. */
  readonly loadedDigest: string;
  readonly atMs: number;
}

/** A node's switch from one version to another (stream indices; 0 = the base model, no adapter). */
export interface SwitchRecord {
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
}

/** One inference node's serving state and its tagged requests. */
export class ServingNode {
  /** The stream index served, 0 for the base model. */
  served = 0;
  readonly switches: SwitchRecord[] = [];
  /** requests[index]: requests that started while `index` was served. */
  readonly requests: Float64Array;
  private nextArrivalMs: number;
  private readonly meanGapMs: number;
  /** Downloads started per digest: every download gets a draw of its own (see DeployWorld.download). */
  private readonly downloadsOf = new Map<string, number>();

  constructor(
    readonly node: number,
    readonly region: string,
    private readonly rng: Rng,
    versions: number,
    requestsPerSec: number,
  ) {
    this.requests = new Float64Array(versions + 1);
    this.meanGapMs = requestsPerSec > 0 ? 1000 / requestsPerSec : Infinity;
    this.nextArrivalMs = this.gap();
  }

  /** Counts the requests that arrive before `nowMs` to the version served. */
  advance(nowMs: number): void {
    while (this.nextArrivalMs < nowMs) {
      this.requests[this.served]!++;
      this.nextArrivalMs += this.gap();
    }
  }

  /**
   * The atomic hot swap: requests that started before now were tagged with the old version and
   * finish on it; every request from now on uses `index`.
   */
  switchTo(index: number, nowMs: number): void {
    invariant(index !== this.served, () => `node ${this.node} switches to the version it serves (${index})`);
    this.advance(nowMs);
    this.switches.push({ atMs: nowMs, from: this.served, to: index });
    this.served = index;
  }

  /** Numbers this node's downloads of `digest`: 1, 2, … over the whole run. */
  nextDownload(digest: string): number {
    const count = (this.downloadsOf.get(digest) ?? 0) + 1;
    this.downloadsOf.set(digest, count);
    return count;
  }

  private gap(): number {
    if (this.meanGapMs === Infinity) return Infinity;
    return -Math.log(1 - this.rng.next()) * this.meanGapMs;
  }
}

/** The result of one download attempt. */
export interface Download {
  readonly bytes: Uint8Array;
  readonly corrupted: boolean;
}

export class DeployWorld {
  /** Set by the release manager / deployer once its work is done; everyone else then stops. */
  finished = false;
  finishedMs = 0;
  readonly byDigest = new Map<string, StreamVersion>();
  readonly nodes: ServingNode[] = [];
  readonly validations: ValidationRecord[] = [];
  readonly loads: LoadRecord[] = [];
  /** Downloads whose bytes did not match the expected digest and were refused. */
  refusedDownloads = 0;
  /** Register commands' latencies (sent → answered), by operation. */
  readonly commandLatencyMs: { readonly op: string; readonly ms: number }[] = [];

  constructor(
    readonly seed: string | number,
    readonly planet: Planet,
    readonly store: ArtifactStore,
    readonly suite: ValidationSuite,
    readonly stream: readonly StreamVersion[],
    readonly settings: DeploySettings,
    readonly faults: AdapterFaults,
  ) {
    for (const version of stream) this.byDigest.set(version.digest, version);
  }

  /** The stream version with `digest`. */
  version(digest: string): StreamVersion {
    const version = this.byDigest.get(digest);
    invariant(version !== undefined, () => `digest ${digest.slice(0, 12)} is not in the version stream`);
    return version;
  }

  /** Adds an inference node in `region`. */
  addNode(region: string): ServingNode {
    const node = new ServingNode(this.nodes.length, region, new Rng(`${String(this.seed)}/requests/${this.nodes.length}`), this.stream.length, this.settings.requestsPerSecPerNode);
    this.nodes.push(node);
    return node;
  }

  /**
   * Downloads `digest` for `who` starting at `nowMs`; corrupted per the faults. `attempt` numbers the
   * downloads of `digest` by `who` over the whole run (1, 2, …): the draw is keyed by it, so a new
   * download is a new draw, and both strategies draw the same for the same download.
   */
  download(who: string, digest: string, attempt: number, nowMs: number): Download {
    const p = corruptionProbability(this.faults, nowMs);
    if (p === 0) return { bytes: this.store.download(digest, undefined), corrupted: false };
    const rng = new Rng(`${String(this.seed)}/corrupt/${who}/${digest}/${attempt}`);
    const corrupted = rng.chance(p);
    return { bytes: this.store.download(digest, corrupted ? rng.next() : undefined), corrupted };
  }

  /** How long `validator` takes to validate `digest`: its seeded lognormal draw times its slow factor. */
  validationMs(validator: ProcessId, digest: string): number {
    const rng = new Rng(`${String(this.seed)}/validation/${validator}/${digest}`);
    // Box–Muller: a standard normal from two uniforms.
    const u = 1 - rng.next();
    const v = rng.next();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    const { validationMsMedian, validationSigma } = this.settings;
    return validationMsMedian * Math.exp(validationSigma * normal) * slowFactor(this.faults, validator);
  }

  /** Stops everyone at `nowMs`. */
  finish(nowMs: number): void {
    if (this.finished) return;
    this.finished = true;
    this.finishedMs = nowMs;
  }
}
