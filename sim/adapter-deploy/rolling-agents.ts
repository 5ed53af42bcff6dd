/**
 * The rolling-update baseline: the same version stream, fleet, validators and artifact store, with
 * no gate. No register is involved; the deployer talks to nodes and validators directly.
 *
 * - Deployer: when a version is published, it starts rolling it out at once, `batchSize` nodes at a
 *   time every `batchIntervalMs` (a newer publication abandons the rollout in progress and starts its
 *   own from the first batch), and asks every validator to evaluate it. Verdicts are tallied with the
 *   register's own thresholds: a pass majority of the group makes a version known good; ⌈g/2⌉ fails
 *   make it known bad, and every node assigned a known-bad version is sent back at once to the newest
 *   known-good version (the base model when none), the rollout of that version stopped. The run is
 *   over when every version is published and decided (or undecided for `decisionTimeoutMs`) and
 *   every node serves its assignment.
 * - RollingValidator (one per consensus process, crashing with it): evaluates what it is asked to,
 *   in order, exactly as a register validator would (same downloads, digests, suite and durations),
 *   and sends its verdict to the deployer.
 * - RollingNode: told which version to serve; downloads, verifies the digest it was told, hot-swaps.
 *   A rollback moves it backwards.
 */
import type { ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { NO_ACTIONS, type Agent, type AgentAction, type AgentIndex } from '../agents.js';
import { Evaluation } from './evaluation.js';
import type { DeployWorld, ServingNode } from './world.js';

/** Deployer → node: serve this stream index (0 = the base model). */
interface SwitchMessage {
  readonly type: 'switch';
  readonly index: number;
}

/** Deployer → validator: evaluate this stream index. */
interface EvaluateMessage {
  readonly type: 'evaluate';
  readonly index: number;
}

/** Validator → deployer. */
interface VerdictMessage {
  readonly type: 'verdict';
  readonly index: number;
  readonly validator: ProcessId;
  readonly pass: boolean;
}

type RollingMessage = SwitchMessage | EvaluateMessage | VerdictMessage;

/** The deployer's periodic look at the fleet; publications are tags 1…, batches −generation. */
const MONITOR = 0;

/** Where the rolling agents sit in the agent list. */
export interface RollingLayout {
  readonly deployer: AgentIndex;
  readonly validators: readonly AgentIndex[];
  readonly nodes: readonly AgentIndex[];
}

export class Deployer implements Agent {
  /** The version each node was last told to serve. */
  private readonly assigned: number[];
  private readonly passes: number[];
  private readonly fails: number[];
  private readonly voted: Array<Set<ProcessId>>;
  /** Known good (1), known bad (−1) or undecided (0), per stream index. */
  readonly decided: number[];
  private published = 0;
  /** The rollout in progress: its version and next batch; `generation` tags its batch wakes. */
  private rollout: { index: number; nextBatch: number } | undefined;
  private generation = 0;
  /** Rollbacks performed (one per known-bad version that had been assigned). */
  rollbacks = 0;

  constructor(
    private readonly world: DeployWorld,
    readonly region: string,
    private readonly layout: RollingLayout,
  ) {
    const versions = world.stream.length;
    this.assigned = new Array<number>(layout.nodes.length).fill(0);
    this.passes = new Array<number>(versions + 1).fill(0);
    this.fails = new Array<number>(versions + 1).fill(0);
    this.voted = Array.from({ length: versions + 1 }, () => new Set<ProcessId>());
    this.decided = new Array<number>(versions + 1).fill(0);
  }

  start(): readonly AgentAction[] {
    const wakes = this.world.stream.map((version): AgentAction => ({ kind: 'wake', atMs: version.publishMs, tag: version.index }));
    return [...wakes, { kind: 'wake', atMs: this.world.settings.pollMs, tag: MONITOR }];
  }

  onWake(tag: number, nowMs: number): readonly AgentAction[] {
    if (tag === MONITOR) {
      // What monitoring tells the deployer: which version each node serves.
      this.checkFinished(nowMs);
      return this.world.finished ? NO_ACTIONS : [{ kind: 'wake', atMs: nowMs + this.world.settings.pollMs, tag: MONITOR }];
    }
    if (tag > 0) {
      // A publication: roll it out from the first batch, and have it evaluated.
      this.published++;
      this.rollout = { index: tag, nextBatch: 0 };
      this.generation++;
      const actions: AgentAction[] = this.layout.validators.map((to): AgentAction => ({ kind: 'send', to, message: { type: 'evaluate', index: tag } satisfies EvaluateMessage }));
      actions.push(...this.nextBatch(nowMs));
      return actions;
    }
    if (-tag !== this.generation) return NO_ACTIONS; // a batch of an abandoned rollout
    return this.nextBatch(nowMs);
  }

  onReply(): readonly AgentAction[] {
    invariant(false, 'the deployer submits no command');
  }

  onMessage(_from: AgentIndex, message: unknown): readonly AgentAction[] {
    const verdict = message as RollingMessage;
    invariant(verdict.type === 'verdict', () => `the deployer got a ${verdict.type} message`);
    const { index, validator } = verdict;
    if (this.voted[index]!.has(validator)) return NO_ACTIONS;
    this.voted[index]!.add(validator);
    if (verdict.pass) this.passes[index]!++;
    else this.fails[index]!++;
    const group = this.layout.validators.length;
    const actions: AgentAction[] = [];
    if (this.decided[index] === 0 && this.passes[index]! > group / 2) this.decided[index] = 1;
    else if (this.decided[index] === 0 && this.fails[index]! >= Math.ceil(group / 2)) {
      this.decided[index] = -1;
      actions.push(...this.rollBack(index));
    }
    return actions;
  }

  /** Every node assigned the known-bad `index` goes back to the newest known-good version at once. */
  private rollBack(index: number): AgentAction[] {
    if (this.rollout?.index === index) {
      this.rollout = undefined;
      this.generation++;
    }
    let fallback = 0;
    for (let i = this.decided.length - 1; i > 0; i--) {
      if (this.decided[i] === 1) {
        fallback = i;
        break;
      }
    }
    const actions: AgentAction[] = [];
    this.assigned.forEach((assigned, node) => {
      if (assigned !== index) return;
      this.assigned[node] = fallback;
      actions.push({ kind: 'send', to: this.layout.nodes[node]!, message: { type: 'switch', index: fallback } satisfies SwitchMessage });
    });
    if (actions.length > 0) this.rollbacks++;
    return actions;
  }

  private nextBatch(nowMs: number): AgentAction[] {
    const rollout = this.rollout;
    if (rollout === undefined) return [];
    const { batchSize, batchIntervalMs } = this.world.settings;
    const from = rollout.nextBatch * batchSize;
    const actions: AgentAction[] = [];
    for (let node = from; node < Math.min(from + batchSize, this.assigned.length); node++) {
      this.assigned[node] = rollout.index;
      actions.push({ kind: 'send', to: this.layout.nodes[node]!, message: { type: 'switch', index: rollout.index } satisfies SwitchMessage });
    }
    rollout.nextBatch++;
    if (rollout.nextBatch * batchSize < this.assigned.length) actions.push({ kind: 'wake', atMs: nowMs + batchIntervalMs, tag: -this.generation });
    else this.rollout = undefined;
    return actions;
  }

  /** Over once everything is published and decided (or undecided for the decision timeout), no rollout is left, and every node serves its assignment. */
  private checkFinished(nowMs: number): void {
    if (this.published < this.world.stream.length || this.rollout !== undefined) return;
    // A version a crashed validator leaves split is given up on after the decision timeout.
    const timeoutMs = this.world.settings.decisionTimeoutMs;
    for (let i = 1; i < this.decided.length; i++) if (this.decided[i] === 0 && nowMs - this.world.stream[i - 1]!.publishMs < timeoutMs) return;
    const nodes = this.world.nodes;
    for (let node = 0; node < nodes.length; node++) if (nodes[node]!.served !== this.assigned[node]) return;
    this.world.finish(nowMs);
  }
}

export class RollingValidator implements Agent {
  private readonly queue: number[] = [];
  private evaluation: { readonly work: Evaluation; verdict: { pass: boolean; evidence: string } | undefined } | undefined;

  constructor(
    private readonly world: DeployWorld,
    readonly process: ProcessId,
    readonly region: string,
    private readonly deployer: AgentIndex,
  ) {}

  start(): readonly AgentAction[] {
    return NO_ACTIONS;
  }

  onReply(): readonly AgentAction[] {
    invariant(false, 'a rolling validator submits no command');
  }

  onMessage(_from: AgentIndex, message: unknown, nowMs: number): readonly AgentAction[] {
    const evaluate = message as RollingMessage;
    invariant(evaluate.type === 'evaluate', () => `a validator got a ${evaluate.type} message`);
    this.queue.push(evaluate.index);
    return this.evaluation === undefined ? this.startNext(nowMs) : NO_ACTIONS;
  }

  onWake(_tag: number, nowMs: number): readonly AgentAction[] {
    const evaluation = this.evaluation;
    invariant(evaluation !== undefined, 'a validator woke with nothing to evaluate');
    if (evaluation.verdict === undefined) {
      const next = evaluation.work.downloaded(nowMs);
      if (next.kind === 'verdict') evaluation.verdict = { pass: next.pass, evidence: next.evidence };
      return [{ kind: 'wake', atMs: next.atMs, tag: 0 }];
    }
    const { pass, evidence } = evaluation.verdict;
    evaluation.work.record(pass, evidence, nowMs);
    this.evaluation = undefined;
    const verdict: VerdictMessage = { type: 'verdict', index: evaluation.work.version.index, validator: this.process, pass };
    return [{ kind: 'send', to: this.deployer, message: verdict }, ...this.startNext(nowMs)];
  }

  private startNext(nowMs: number): AgentAction[] {
    const index = this.queue.shift();
    if (index === undefined) return [];
    const work = new Evaluation(this.world, this.process, this.region, this.world.stream[index - 1]!, nowMs);
    this.evaluation = { work, verdict: undefined };
    return [{ kind: 'wake', atMs: work.startDownload(nowMs), tag: 0 }];
  }
}

export class RollingNode implements Agent {
  /** The version the deployer last assigned. */
  private wanted = 0;
  private download: { index: number; draw: number; startMs: number } | undefined;

  constructor(
    private readonly world: DeployWorld,
    private readonly serving: ServingNode,
  ) {}

  get region(): string {
    return this.serving.region;
  }

  start(): readonly AgentAction[] {
    return NO_ACTIONS;
  }

  onReply(): readonly AgentAction[] {
    invariant(false, 'a rolling node submits no command');
  }

  onMessage(_from: AgentIndex, message: unknown, nowMs: number): readonly AgentAction[] {
    const order = message as RollingMessage;
    invariant(order.type === 'switch', () => `a node got a ${order.type} message`);
    this.wanted = order.index;
    return this.download === undefined ? this.pursue(nowMs) : NO_ACTIONS;
  }

  onWake(_tag: number, nowMs: number): readonly AgentAction[] {
    const download = this.download;
    invariant(download !== undefined, 'a node woke with no download');
    if (this.world.finished) return NO_ACTIONS;
    const world = this.world;
    const version = world.stream[download.index - 1]!;
    const { bytes } = world.download(`node/${this.serving.node}`, version.digest, download.draw, download.startMs);
    const loadedDigest = world.store.digestOf(bytes);
    if (loadedDigest !== version.digest) {
      // Refused, never loaded. The deployer's order stands, so the node downloads again (a fresh
      // attempt, a fresh draw), or goes after a newer order.
      world.refusedDownloads++;
      if (download.index === this.wanted) {
        download.draw = this.serving.nextDownload(version.digest);
        download.startMs = nowMs;
        return [{ kind: 'wake', atMs: nowMs + world.store.transferMs(this.region, version.digest), tag: 0 }];
      }
      this.download = undefined;
      return this.pursue(nowMs);
    }
    this.download = undefined;
    world.loads.push({ node: this.serving.node, index: download.index, versionId: `#${download.index}`, expectedDigest: version.digest, loadedDigest, atMs: nowMs });
    if (download.index !== this.serving.served) this.serving.switchTo(download.index, nowMs);
    return this.pursue(nowMs);
  }

  /** Starts towards `wanted` (the base model needs no download: the adapter is unloaded at once). */
  private pursue(nowMs: number): AgentAction[] {
    if (this.wanted === this.serving.served) return [];
    if (this.wanted === 0) {
      this.serving.switchTo(0, nowMs);
      return [];
    }
    this.download = { index: this.wanted, draw: this.serving.nextDownload(this.world.stream[this.wanted - 1]!.digest), startMs: nowMs };
    return [{ kind: 'wake', atMs: nowMs + this.world.store.transferMs(this.region, this.world.stream[this.wanted - 1]!.digest), tag: 0 }];
  }
}
