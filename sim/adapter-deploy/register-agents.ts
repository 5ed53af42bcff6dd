/**
 * The register strategy's agents (docs/adapter-register.md): every change of what the fleet serves
 * goes through the replicated register.
 *
 * - ReleaseManager: proposes each version of the stream when it is published; polls the register;
 *   once a released version is served by the whole fleet (what monitoring would tell it), marks it
 *   stable; when every version has been proposed, no candidate is left (or the last one has been
 *   undecided for `decisionTimeoutMs`) and the fleet serves `current`, the run is over.
 * - RegisterValidator (one per consensus process, validator id = process id): polls; on a candidate
 *   it has not evaluated, downloads, verifies, validates and votes. A newer candidate (or the end of
 *   the one it is evaluating) abandons the evaluation in progress: its vote could only be refused.
 * - InferenceNode: polls; when `current` is newer than what it serves, downloads, verifies the digest
 *   against the register's (a mismatch is refused, counted and downloaded again), then hot-swaps.
 *   A newer release seen during a download replaces the download. It never moves backwards.
 *
 * Polls run on a fixed grid (every interval from a per-agent offset); a tick that finds the previous
 * poll unanswered is skipped.
 */
import { decodeOutcome, decodeState, markStableOp, proposeOp, readOp, voteOp } from '../../apps/adapter-register/app.js';
import type { RegisterState } from '../../apps/adapter-register/register.js';
import type { KeyOps, Op } from '../../core/command.js';
import type { ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import type { ExecutionResult } from '../../core/process.js';
import { NO_ACTIONS, type Agent, type AgentAction, type SubmitAction } from '../agents.js';
import { Evaluation } from './evaluation.js';
import type { DeployWorld, ServingNode } from './world.js';

const POLL = -1;

/** A submission of `op` on the deployment target. */
function submitOn(world: DeployWorld, op: Op): SubmitAction {
  const keyOps: KeyOps[] = [{ key: world.settings.target, ops: [op] }];
  return { kind: 'submit', keyOps };
}

function opOf(submitted: SubmitAction): Op {
  return submitted.keyOps[0]!.ops[0]!;
}

function resultOf(results: readonly ExecutionResult[]): string {
  const result = results[0]?.results[0];
  invariant(typeof result === 'string', 'a register command answers one string');
  return result;
}

/** Records a register command's latency; returns the operation's name. */
function recordLatency(world: DeployWorld, submitted: SubmitAction, nowMs: number, sentMs: number): string {
  const op = opOf(submitted);
  const name = op.op === 'call' ? op.name : 'read';
  world.commandLatencyMs.push({ op: name, ms: nowMs - sentMs });
  return name;
}

/**
 * The next tick of a poll grid (`offsetMs + k · everyMs`) after `nowMs`. The simulator keeps time in
 * integer nanoseconds, so `nowMs` at a tick may differ from the tick by less than a nanosecond: a tick
 * within one nanosecond of now counts as now, and the next one is returned.
 */
export function nextTick(offsetMs: number, everyMs: number, nowMs: number): number {
  const epsilonMs = 1e-6;
  if (nowMs < offsetMs - epsilonMs) return offsetMs;
  return offsetMs + (Math.floor((nowMs - offsetMs + epsilonMs) / everyMs) + 1) * everyMs;
}

/** Polls of one agent on a grid: at most one outstanding, ticks that find one outstanding skipped. */
class Poller {
  outstanding = false;

  constructor(
    private readonly offsetMs: number,
    private readonly everyMs: number,
  ) {}

  first(): AgentAction {
    return { kind: 'wake', atMs: this.offsetMs, tag: POLL };
  }

  /** At a poll tick: the poll (unless one is outstanding) and the next tick. */
  tick(world: DeployWorld, nowMs: number): AgentAction[] {
    const actions: AgentAction[] = [{ kind: 'wake', atMs: nextTick(this.offsetMs, this.everyMs, nowMs), tag: POLL }];
    if (!this.outstanding) {
      this.outstanding = true;
      actions.push(submitOn(world, readOp()));
    }
    return actions;
  }
}

/** Poll offsets spread agents over the interval deterministically: agent i of count at i/count. */
function offsetMs(everyMs: number, i: number, count: number): number {
  return everyMs * ((i + 1) / (count + 1));
}

/** Proposes the stream, marks releases stable, ends the run. */
export class ReleaseManager implements Agent {
  private readonly poller: Poller;
  private proposalsAnswered = 0;
  /** The stream index of each proposal in flight, by its submission. */
  private readonly proposing = new Map<SubmitAction, number>();
  private readonly stableSent = new Set<string>();
  /** Version id and sent time of each proposal, by stream index. */
  readonly proposals = new Map<number, { readonly versionId: string; readonly sentMs: number; readonly answeredMs: number }>();
  /** Current as seen by each of its polls, in order (for the monotonicity check). */
  readonly currentSeqSeen: number[] = [];

  constructor(
    private readonly world: DeployWorld,
    readonly region: string,
  ) {
    this.poller = new Poller(offsetMs(world.settings.pollMs, 0, 1), world.settings.pollMs);
  }

  start(): readonly AgentAction[] {
    return [...this.world.stream.map((version): AgentAction => ({ kind: 'wake', atMs: version.publishMs, tag: version.index })), this.poller.first()];
  }

  onWake(tag: number, nowMs: number): readonly AgentAction[] {
    if (this.world.finished) return NO_ACTIONS;
    if (tag === POLL) return this.poller.tick(this.world, nowMs);
    const version = this.world.stream[tag - 1]!;
    const propose = submitOn(this.world, proposeOp({ digest: version.digest, size: version.bytes.length, proposedAt: nowMs }));
    this.proposing.set(propose, version.index);
    return [propose];
  }

  onReply(submitted: SubmitAction, results: readonly ExecutionResult[], nowMs: number, sentMs: number): readonly AgentAction[] {
    const name = recordLatency(this.world, submitted, nowMs, sentMs);
    const result = resultOf(results);
    if (name === 'propose') {
      const outcome = decodeOutcome(result);
      const index = this.proposing.get(submitted);
      invariant(index !== undefined, 'a reply to a proposal never made');
      this.proposing.delete(submitted);
      invariant(outcome.ok, () => `the proposal of a fresh artifact was refused: ${outcome.ok ? '' : outcome.reason}`);
      this.proposals.set(index, { versionId: outcome.versionId, sentMs, answeredMs: nowMs });
      this.proposalsAnswered++;
      return NO_ACTIONS;
    }
    if (name !== 'read') return NO_ACTIONS;
    this.poller.outstanding = false;
    const state = decodeState(result);
    this.currentSeqSeen.push(state.current?.seq ?? 0);
    return this.afterPoll(state, nowMs);
  }

  onMessage(): readonly AgentAction[] {
    return NO_ACTIONS;
  }

  private afterPoll(state: RegisterState, nowMs: number): readonly AgentAction[] {
    const currentIndex = state.current === null ? 0 : this.world.version(state.current.digest).index;
    const fleetConverged = this.world.nodes.every((node) => node.served === currentIndex);
    if (state.phase === 'RELEASE_COMMIT' && state.current !== null && fleetConverged && !this.stableSent.has(state.current.versionId)) {
      this.stableSent.add(state.current.versionId);
      return [submitOn(this.world, markStableOp(state.current.versionId))];
    }
    const allProposed = this.proposalsAnswered === this.world.stream.length;
    // A candidate that a crashed validator leaves split (neither a pass majority nor enough fails)
    // stays under evaluation for good; after the decision timeout the manager stops waiting for it.
    const lastSentMs = this.proposals.get(this.world.stream.length)?.sentMs ?? Infinity;
    const settled = state.phase === 'STABLE' || (state.phase === 'BETA_TESTING' && nowMs - lastSentMs >= this.world.settings.decisionTimeoutMs);
    if (allProposed && settled && fleetConverged) this.world.finish(nowMs);
    return NO_ACTIONS;
  }
}

/** A validator of the consensus group, bound to its process. */
export class RegisterValidator implements Agent {
  private readonly poller: Poller;
  private readonly evaluated = new Set<string>();
  /**
   * The evaluation in progress: its next wake carries `wakeTag` (a fresh number each time), so the
   * wakes of an abandoned evaluation are recognised and ignored.
   */
  private evaluation: { readonly versionId: string; readonly work: Evaluation; wakeTag: number; verdict: { pass: boolean; evidence: string } | undefined } | undefined;
  private wakeTags = 0;

  constructor(
    private readonly world: DeployWorld,
    readonly process: ProcessId,
    readonly region: string,
    validators: number,
  ) {
    this.poller = new Poller(offsetMs(world.settings.validatorPollMs, process - 1, validators), world.settings.validatorPollMs);
  }

  start(): readonly AgentAction[] {
    return [this.poller.first()];
  }

  onWake(tag: number, nowMs: number): readonly AgentAction[] {
    if (this.world.finished) return NO_ACTIONS;
    if (tag === POLL) return this.poller.tick(this.world, nowMs);
    const evaluation = this.evaluation;
    if (evaluation === undefined || tag !== evaluation.wakeTag) return NO_ACTIONS;
    if (evaluation.verdict === undefined) {
      // A download completed.
      const next = evaluation.work.downloaded(nowMs);
      if (next.kind === 'verdict') evaluation.verdict = { pass: next.pass, evidence: next.evidence };
      evaluation.wakeTag = ++this.wakeTags;
      return [{ kind: 'wake', atMs: next.atMs, tag: evaluation.wakeTag }];
    }
    // The validation time is over: vote.
    this.evaluation = undefined;
    const { pass, evidence } = evaluation.verdict;
    evaluation.work.record(pass, evidence, nowMs);
    return [submitOn(this.world, voteOp({ versionId: evaluation.versionId, validator: String(this.process), pass, evidence }))];
  }

  onReply(submitted: SubmitAction, results: readonly ExecutionResult[], nowMs: number, sentMs: number): readonly AgentAction[] {
    const name = recordLatency(this.world, submitted, nowMs, sentMs);
    if (name !== 'read') return NO_ACTIONS;
    this.poller.outstanding = false;
    const state = decodeState(resultOf(results));
    const candidate = state.phase === 'BETA_TESTING' ? state.candidate : null;
    if (this.evaluation !== undefined && candidate?.versionId !== this.evaluation.versionId) {
      // The version under evaluation is no longer the candidate: a vote could only be refused.
      this.evaluation = undefined;
    }
    if (candidate === null || this.evaluated.has(candidate.versionId)) return NO_ACTIONS;
    this.evaluated.add(candidate.versionId);
    const work = new Evaluation(this.world, this.process, this.region, this.world.version(candidate.digest), nowMs);
    const wakeTag = ++this.wakeTags;
    this.evaluation = { versionId: candidate.versionId, work, wakeTag, verdict: undefined };
    return [{ kind: 'wake', atMs: work.startDownload(nowMs), tag: wakeTag }];
  }

  onMessage(): readonly AgentAction[] {
    return NO_ACTIONS;
  }
}

/** An inference node of the fleet: reads the register, never writes it. */
export class InferenceNode implements Agent {
  private readonly poller: Poller;
  /** Seq of what it serves (0: the base model). */
  private servedSeq = 0;
  /** The download in progress: `attempts` of this round (up to downloadAttemptsMax), `draw` numbering all of them. */
  private download: { readonly versionId: string; readonly seq: number; readonly digest: string; attempts: number; draw: number; startMs: number; generation: number } | undefined;
  private generation = 0;
  /** Current's seq as each of its polls saw it, in order. */
  readonly currentSeqSeen: number[] = [];

  constructor(
    private readonly world: DeployWorld,
    private readonly serving: ServingNode,
    fleet: number,
  ) {
    this.poller = new Poller(offsetMs(world.settings.pollMs, serving.node, fleet), world.settings.pollMs);
  }

  get region(): string {
    return this.serving.region;
  }

  start(): readonly AgentAction[] {
    return [this.poller.first()];
  }

  onWake(tag: number, nowMs: number): readonly AgentAction[] {
    if (this.world.finished) return NO_ACTIONS;
    if (tag === POLL) return this.poller.tick(this.world, nowMs);
    const download = this.download;
    if (download === undefined || tag !== download.generation) return NO_ACTIONS;
    const world = this.world;
    const { bytes } = world.download(`node/${this.serving.node}`, download.digest, download.draw, download.startMs);
    const loadedDigest = world.store.digestOf(bytes);
    if (loadedDigest !== download.digest) {
      // Refused, never loaded; try again, or wait for the next poll to start over.
      world.refusedDownloads++;
      if (download.attempts >= world.settings.downloadAttemptsMax) {
        this.download = undefined;
        return NO_ACTIONS;
      }
      download.attempts++;
      download.draw = this.serving.nextDownload(download.digest);
      download.startMs = nowMs;
      return [{ kind: 'wake', atMs: nowMs + world.store.transferMs(this.region, download.digest), tag }];
    }
    this.download = undefined;
    invariant(download.seq > this.servedSeq, 'a node only moves forward');
    const index = world.version(download.digest).index;
    world.loads.push({ node: this.serving.node, index, versionId: download.versionId, expectedDigest: download.digest, loadedDigest, atMs: nowMs });
    this.serving.switchTo(index, nowMs);
    this.servedSeq = download.seq;
    return NO_ACTIONS;
  }

  onReply(submitted: SubmitAction, results: readonly ExecutionResult[], nowMs: number, sentMs: number): readonly AgentAction[] {
    recordLatency(this.world, submitted, nowMs, sentMs);
    this.poller.outstanding = false;
    const state = decodeState(resultOf(results));
    const current = state.current;
    this.currentSeqSeen.push(current?.seq ?? 0);
    if (current === null || current.seq <= this.servedSeq) return NO_ACTIONS;
    if (this.download !== undefined && this.download.seq >= current.seq) return NO_ACTIONS;
    // A newer release than the one downloading (or none downloading): download it instead.
    const generation = ++this.generation;
    this.download = { versionId: current.versionId, seq: current.seq, digest: current.digest, attempts: 1, draw: this.serving.nextDownload(current.digest), startMs: nowMs, generation };
    return [{ kind: 'wake', atMs: nowMs + this.world.store.transferMs(this.region, current.digest), tag: generation }];
  }

  onMessage(): readonly AgentAction[] {
    return NO_ACTIONS;
  }
}

