/**
 * Atlas (Enes, Baquero, Rezende, Gotsman, Perrin, Sutra, "State-Machine Replication for Planet-Scale
 * Systems", EuroSys'20; normal case as in fantoch's atlas.rs). PROTOCOLS.md §4.
 *
 * Message flow, per command, at the coordinator c (the process the client submitted to):
 *   c ─MCollect{past}→ all others   (processes outside c's fast quorum only store the payload)
 *   fast-quorum member ─MCollectAck{past ∪ local}→ c   (c's own report is `past`, taken at submit)
 *   fast path: every reported dependency was reported by at least f members → c ─MCommit→ all
 *   slow path: c ─MConsensus{union}→ its f+1 closest ─MConsensusAck→ c ─MCommit→ all
 *   MCommit → graph executor at every process (SCCs ordered by dot); the submit process replies.
 *
 * Recovery (PROTOCOLS.md §7.1, §7.3), on the `recovery` timer (common/recovery.ts):
 *   r, holding the payload of a dot uncommitted for a timeout (staggered by rank, with backoff)
 *     ─MRec{ballot, cmd, quorum}→ all ─MRecAck{deps, phase, abal, aval}→ r   (n − f promises)
 *   r picks: the aval with the highest abal; else, if the coordinator promised or a fast-quorum member
 *     had not reported (RECOVER_R), the union of every promise's deps; else the union over the fast
 *     quorum's promises (which rebuilds a fast-path decision exactly)
 *   r ─MConsensus{ballot}→ all ─MConsensusAck→ r ─MCommit{value, cmd}→ all
 *   A process that committed answers MRec with MCommit{cmd}; commits a peer's gossip shows it lacks are
 *   resent to it after a timeout.
 *
 * Quorums: fast ⌊n/2⌋ + f closest to the coordinator, itself included; slow (Flexible Paxos phase 2)
 * f + 1; recovery (phase 1) n − f; fast-path threshold |fast quorum| − ⌊n/2⌋ = f. With f = 1 every
 * dependency qualifies, so the fast path is always taken.
 *
 * Dependencies come from the Option-F index (common/dependency-index.ts). Garbage collection
 * (common/garbage-collector.ts) drops a dot's state once every process committed it, and prunes the
 * index once every process executed it. The committed value is exactly the union of the fast
 * quorum's reports (a dot executed everywhere that some member already pruned may lower a count and
 * cost a slow path): a recovery must be able to rebuild a fast-path decision bit for bit from the
 * reports alone (§7.3, case 3), which a coordinator-local filter would prevent.
 */
import type { Command } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { dotSource, formatDot, makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { fastPathThreshold, leaderlessFastQuorumSize, majority, phase1QuorumSize, writeQuorumSize, QuorumChoice } from '../../core/quorum.js';
import type { Configuration } from '../../core/membership.js';
import { ClientRetries } from '../common/client-retries.js';
import { DependencyIndex } from '../common/dependency-index.js';
import { sameDeps, unionDeps } from '../common/deps.js';
import { GarbageCollector } from '../common/garbage-collector.js';
import type { GraphInfo } from '../common/graph-executor.js';
import { LaggingPeers, RECOVERY_TIMER, recoveryTickMs, recoveryWaitMs } from '../common/recovery.js';
import { Synod } from '../common/synod.js';
import type { AtlasMessage, AtlasValue, MCollect, MCollectAck, MCommit, MConsensus, MConsensusAck, MGarbageCollection, MRec, MRecAck, Payload } from './messages.js';

/**
 * Deliberately broken behaviours, for the checker's own tests only (test/broken-variants.test.ts).
 * No host or CLI path sets them.
 */
export interface AtlasFaultInjection {
  /** The slow path proposes the coordinator's own dependencies instead of the union of the reports. */
  readonly slowPathWithoutUnion?: boolean;
  /** Reports of each dependency needed for the fast path instead of f. */
  readonly fastPathThreshold?: number;
  /** Fast-quorum size instead of ⌊n/2⌋+f. */
  readonly fastQuorumSize?: number;
}

/** Per-dot status (PROTOCOLS.md §3.1, shared with EPaxos). */
const enum Status {
  /** Nothing known but perhaps a buffered commit. */
  Start,
  /** The payload is known; this process is not in the fast quorum. */
  Payload,
  /** In the fast quorum: proposed (coordinator) or reported (member). */
  Collect,
  Commit,
  /** Promised a recovery ballot before reporting to the coordinator: dependencies computed then. */
  RecoverR,
  /** Promised a recovery ballot after reporting (COLLECT): its original report stands. */
  RecoverP,
}

interface DotState {
  status: Status;
  cmd: Command | undefined;
  /** The coordinator's fast quorum, once known (MCollect or MRec). */
  quorum: readonly ProcessId[] | undefined;
  readonly synod: Synod<AtlasValue>;
  /** This process's dependencies for the dot: its report (COLLECT), or computed at a recovery (RECOVER_R). */
  report: readonly Dot[] | undefined;
  /** Coordinator only: the fast-quorum reports so far (its own included), and who sent them. */
  reports: (readonly Dot[])[] | undefined;
  reportedBy: ProcessId[] | undefined;
  /**
   * Coordinator only: its fast quorum could not answer when it proposed (QuorumChoice.degraded), or
   * lost a member since; it decides on the slow path once a majority reported.
   */
  degraded: boolean;
  /** A commit that arrived before the payload. */
  bufferedCommit: AtlasValue | undefined;
  /** Recovery trigger: since when this process waits for the commit, and failed attempts so far. */
  waitingSinceMs: Time;
  attempts: number;
  /** This process's own recovery in phase 1: its ballot and the promises for it so far. */
  recovery: { readonly ballot: number; readonly promises: Map<ProcessId, MRecAck> } | undefined;
}

const GC_TIMER = 'gc';

/** Most dots whose state one process holds; reaching it means garbage collection is not keeping up. */
export const DOTS_HELD_MAX = 4 * 1024 * 1024;

/** One Atlas process: coordinator of its own dots, fast-quorum member, acceptor and learner of the others'. */
export class AtlasProcess implements Process<AtlasMessage, GraphInfo> {
  readonly timers: readonly TimerSpec[];
  private readonly outbox = new Outbox<AtlasMessage, GraphInfo>();
  private readonly fastQuorumSize: number;
  private readonly slowQuorumSize: number;
  private readonly threshold: number;
  private all: readonly ProcessId[] = [];
  private others: readonly ProcessId[] = [];
  /** Fast and write quorums, suspected processes last (core/quorum.ts QuorumChoice). */
  private readonly quorums: QuorumChoice;
  private lastSeq = 0;
  private readonly dots = new Map<Dot, DotState>();
  private readonly index = new DependencyIndex();
  private readonly gc: GarbageCollector;
  private fastPath = 0;
  private slowPath = 0;
  private recovered = 0;
  private readonly recoveryQuorumSize: number;
  /** ⌊n/2⌋ + 1: the reports a degraded coordinator waits for. */
  private readonly majority: number;
  /** Dots whose payload is known here and that have not committed here: the recovery timer's work. */
  private readonly waiting = new Map<Dot, DotState>();
  private readonly lagging: LaggingPeers;
  /** The dot known here for each client's latest command: a retry is not proposed twice. */
  private readonly retries = new ClientRetries();
  private readonly collect = (dot: Dot) => {
    this.dots.delete(dot);
    this.waiting.delete(dot);
  };
  private readonly prune = (dot: Dot) => this.index.prune(dot);

  constructor(
    readonly id: ProcessId,
    private readonly config: Config,
    private readonly injected: AtlasFaultInjection = {},
  ) {
    this.fastQuorumSize = injected.fastQuorumSize ?? leaderlessFastQuorumSize(config.n, config.f);
    this.slowQuorumSize = writeQuorumSize(config.f);
    this.recoveryQuorumSize = phase1QuorumSize(config.n, config.f);
    this.majority = majority(config.n);
    this.quorums = new QuorumChoice(id, this.fastQuorumSize, this.slowQuorumSize);
    this.threshold = injected.fastPathThreshold ?? fastPathThreshold(config.n, leaderlessFastQuorumSize(config.n, config.f));
    invariant(this.threshold >= 1 || injected.fastPathThreshold !== undefined, () => `atlas: fast-path threshold ${this.threshold} for n=${config.n}, f=${config.f}`);
    this.gc = new GarbageCollector(id, config.n);
    this.lagging = new LaggingPeers(config.n);
    this.timers = [
      { timer: GC_TIMER, everyMs: config.gcIntervalMs },
      { timer: RECOVERY_TIMER, everyMs: recoveryTickMs(config.recoveryTimeoutMs) },
    ];
  }

  discover(sortedByDistance: readonly ProcessId[]): void {
    invariant(sortedByDistance[0] === this.id, 'discover: a process must come first in its own list');
    invariant(sortedByDistance.length === this.config.n, () => `discover: ${sortedByDistance.length} processes for n=${this.config.n}`);
    this.all = [...sortedByDistance].sort((a, b) => a - b);
    this.others = this.all.filter((p) => p !== this.id);
    this.quorums.discover(sortedByDistance);
  }

  submit(cmd: Command, now: Time): void {
    // A client's retry of a command some dot known here carries: that dot commits (or is recovered)
    // and executes here, and the replica answers then (common/client-retries.ts).
    if (this.retries.carrierOf(cmd.rifl) !== undefined) return;
    const dot = makeDot(this.id, ++this.lastSeq);
    const past = this.index.conflicts(cmd);
    this.index.register(dot, cmd, 0);
    // The coordinator acks itself by recording `past` as its own report directly rather than through a
    // message to itself, so a host that delivers self-messages late cannot make it drop early reports.
    const state = this.state(dot);
    state.status = Status.Collect;
    state.quorum = this.quorums.fast;
    state.report = past;
    state.synod.setInitialValue({ isNoop: false, deps: past });
    state.reports = [past];
    state.reportedBy = [this.id];
    state.degraded = this.quorums.degraded;
    this.holdPayload(dot, state, cmd, now);
    this.outbox.send(this.others, { type: 'MCollect', dot, cmd, deps: past, quorum: this.quorums.fast });
    // A fast quorum of one (only a broken variant) has every report already.
    if (this.quorums.fast.length === 1) this.decide(dot, state, now);
  }

  handle(from: ProcessId, msg: AtlasMessage, now: Time): void {
    switch (msg.type) {
      case 'MCollect':
        return this.handleMCollect(from, msg, now);
      case 'MCollectAck':
        return this.handleMCollectAck(from, msg, now);
      case 'MConsensus':
        return this.handleMConsensus(from, msg, now);
      case 'MConsensusAck':
        return this.handleMConsensusAck(from, msg, now);
      case 'MCommit':
        return this.handleMCommit(msg, now);
      case 'MRec':
        return this.handleMRec(from, msg, now);
      case 'MRecAck':
        return this.handleMRecAck(from, msg, now);
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg);
    }
  }

  onTimer(timer: string, now: Time): void {
    if (timer === RECOVERY_TIMER) {
      this.recoverStuckDots(now);
      this.helpLaggingPeers(now);
      return;
    }
    invariant(timer === GC_TIMER, () => `atlas has no timer ${timer}`);
    const report = this.gc.report();
    this.outbox.send(this.others, { type: 'MGarbageCollection', committed: report.committed, executed: report.executed });
  }

  executed(dots: readonly Dot[], _now: Time): void {
    for (const dot of dots) this.gc.execute(dot);
  }

  /**
   * The host's failure detector suspects `process`: commands proposed from now on use quorums without
   * it, and this process's own commands still waiting on a fast quorum that can no longer answer go
   * to the slow path as soon as a majority reported.
   */
  suspect(process: ProcessId, now: Time): void {
    this.quorums.suspect(process);
    this.degradeOwnDots(now);
  }

  unsuspect(process: ProcessId, _now: Time): void {
    this.quorums.unsuspect(process);
  }

  /**
   * A new configuration: quorums are drawn from its members, only members' reports hold garbage
   * collection back, and commits are resent only to members.
   */
  reconfigure(configuration: Configuration, now: Time): void {
    this.quorums.setMembers(configuration.members);
    this.others = configuration.members.filter((p) => p !== this.id);
    this.gc.setMembers(configuration.members, this.collect, this.prune);
    this.degradeOwnDots(now);
  }

  /** Own commands in COLLECT whose fast quorum cannot answer any more: decide once a majority reported. */
  private degradeOwnDots(now: Time): void {
    if (!this.quorums.degraded) return;
    for (const [dot, state] of this.waiting) {
      if (dotSource(dot) !== this.id || state.status !== Status.Collect || state.degraded || state.reports === undefined) continue;
      if (!state.quorum!.some((p) => this.quorums.suspects(p))) continue;
      state.degraded = true;
      if (state.reports.length >= this.majority) this.decide(dot, state, now);
    }
  }

  /** Per-command state held: what garbage collection keeps bounded. */
  heldState(): number {
    return this.dots.size + this.index.size;
  }

  drain(): readonly Output<AtlasMessage, GraphInfo>[] {
    return this.outbox.drain();
  }

  metrics(): ProtocolMetrics {
    return { fastPath: this.fastPath, slowPath: this.slowPath, recovered: this.recovered };
  }

  /** Dots whose protocol state is still held (for memory checks). */
  get dotsHeld(): number {
    return this.dots.size;
  }

  /** Commands in the dependency index (for memory checks). */
  get indexSize(): number {
    return this.index.size;
  }

  /** The garbage-collection frontier of `source`: its dots up to here are committed everywhere. */
  collectedUpTo(source: ProcessId): number {
    return this.gc.collectedUpTo(source);
  }

  private state(dot: Dot): DotState {
    let state = this.dots.get(dot);
    if (state === undefined) {
      invariant(this.dots.size < DOTS_HELD_MAX, () => `atlas process ${this.id} holds more than DOTS_HELD_MAX=${DOTS_HELD_MAX} dots`);
      state = {
        status: Status.Start,
        cmd: undefined,
        quorum: undefined,
        synod: new Synod(),
        report: undefined,
        reports: undefined,
        reportedBy: undefined,
        degraded: false,
        bufferedCommit: undefined,
        waitingSinceMs: 0,
        attempts: 0,
        recovery: undefined,
      };
      this.dots.set(dot, state);
    }
    return state;
  }

  /** The payload is known here from now on; until the dot commits, the recovery timer watches it. */
  private holdPayload(dot: Dot, state: DotState, cmd: Command, now: Time): void {
    state.cmd = cmd;
    this.retries.learn(cmd.rifl, dot);
    this.await(dot, state, now);
  }

  /** Until `dot` commits here, the recovery timer watches it (payload known, or a dependency awaited). */
  private await(dot: Dot, state: DotState, now: Time): void {
    if (state.status === Status.Commit || this.waiting.has(dot)) return;
    state.waitingSinceMs = now;
    this.waiting.set(dot, state);
  }

  private handleMCollect(from: ProcessId, msg: MCollect, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return; // late: committed everywhere already
    const state = this.state(msg.dot);
    // Not START: a duplicate, or this process joined a recovery first (RECOVER_R): its promise stands.
    if (state.status !== Status.Start) return;
    state.quorum = msg.quorum;
    // Having promised a recovery ballot (always above n) without the payload, this process must not
    // report any more (the coordinator could complete a fast path the recovery did not account for);
    // it keeps the payload, so that it can recover the dot itself.
    if (!msg.quorum.includes(this.id) || state.synod.bal > this.config.n) {
      state.status = Status.Payload;
    } else {
      const deps = unionDeps(msg.deps, this.index.conflicts(msg.cmd));
      this.index.register(msg.dot, msg.cmd, 0);
      state.status = Status.Collect;
      state.report = deps;
      state.synod.setInitialValue({ isNoop: false, deps });
      if (state.bufferedCommit === undefined) this.outbox.send([from], { type: 'MCollectAck', dot: msg.dot, deps });
    }
    if (state.bufferedCommit !== undefined) {
      state.cmd = msg.cmd;
      this.commit(msg.dot, state, state.bufferedCommit, now);
      return;
    }
    this.holdPayload(msg.dot, state, msg.cmd, now);
  }

  private handleMCollectAck(from: ProcessId, msg: MCollectAck, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    // Only in COLLECT: a coordinator that promised a recovery ballot (RECOVER_P) must not decide any more.
    if (state === undefined || state.status !== Status.Collect) return;
    const reports = state.reports;
    const reportedBy = state.reportedBy;
    if (reports === undefined || reportedBy === undefined || reportedBy.includes(from)) return;
    reports.push(msg.deps);
    reportedBy.push(from);
    if (reports.length < (state.degraded ? this.majority : this.quorums.fast.length)) return;
    this.decide(msg.dot, state, now);
  }

  /** Every fast-quorum member reported: commit on the fast path, or start the slow path. */
  private decide(dot: Dot, state: DotState, now: Time): void {
    const reports = state.reports!;
    state.reports = undefined;
    state.reportedBy = undefined;
    const deps = reportedEnough(reports, this.threshold);
    // Degraded: the reports of a majority, never the fast path (it needs the whole fast quorum).
    if (deps.fast && !state.degraded && reports.length >= this.fastQuorumSize) {
      this.fastPath++;
      this.decided(dot, state, { isNoop: false, deps: deps.union }, false, now);
      return;
    }
    this.slowPath++;
    const value: AtlasValue = { isNoop: false, deps: this.injected.slowPathWithoutUnion === true ? reports[0]! : deps.union };
    const ballot = Synod.roundZeroBallot(this.id);
    state.synod.propose(ballot, value);
    this.outbox.send(this.quorums.write, { type: 'MConsensus', dot, ballot, value });
  }

  /**
   * The value is chosen: record the commit here first (PROTOCOLS.md §7.1, "deciding means recording":
   * a later MRec must find this process committed, not promising), then tell the others. A commit
   * after a recovery carries the payload, since some receivers may never have seen it.
   */
  private decided(dot: Dot, state: DotState, value: AtlasValue, withPayload: boolean, now: Time): void {
    this.commit(dot, state, value, now);
    this.outbox.send(this.others, this.commitMessage(dot, state, withPayload));
  }

  /** The MCommit of a dot committed here, with the payload when asked (and there is one: not a no-op). */
  private commitMessage(dot: Dot, state: DotState, withPayload: boolean): MCommit {
    const value = state.synod.chosen!;
    return withPayload && state.cmd !== undefined ? { type: 'MCommit', dot, value, cmd: state.cmd } : { type: 'MCommit', dot, value };
  }

  private handleMConsensus(from: ProcessId, msg: MConsensus, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot);
    const outcome = state.synod.accept(msg.ballot, msg.value);
    if (outcome.kind === 'accepted' && msg.payload !== undefined && state.cmd === undefined) {
      // An acceptor of a recovered value keeps its payload: a later recovery may have only it to ask.
      state.quorum = msg.payload.quorum;
      if (state.status === Status.Start) state.status = Status.Payload;
      this.holdPayload(msg.dot, state, msg.payload.cmd, now);
    }
    switch (outcome.kind) {
      case 'accepted':
        return this.outbox.send([from], { type: 'MConsensusAck', dot: msg.dot, ballot: outcome.ballot });
      case 'chosen':
        return this.outbox.send([from], this.commitMessage(msg.dot, state, true));
      case 'rejected':
        return; // a higher ballot is recovering the dot; its owner (or this process's timer) finishes it
    }
  }

  private handleMConsensusAck(from: ProcessId, msg: MConsensusAck, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === Status.Commit) return;
    const value = state.synod.accepted(from, msg.ballot, this.slowQuorumSize);
    if (value === undefined) return;
    const recovery = msg.ballot !== Synod.roundZeroBallot(this.id);
    if (recovery) this.recovered++;
    this.decided(msg.dot, state, value, recovery, now);
  }

  private handleMCommit(msg: MCommit, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot);
    if (state.status === Status.Commit) return;
    if (state.cmd === undefined && msg.cmd !== undefined) state.cmd = msg.cmd;
    // A no-op needs no payload.
    if (state.cmd === undefined && !msg.value.isNoop) {
      state.bufferedCommit = msg.value; // the payload is still on its way
      return;
    }
    this.commit(msg.dot, state, msg.value, now);
  }

  private commit(dot: Dot, state: DotState, value: AtlasValue, now: Time): void {
    invariant(state.cmd !== undefined || value.isNoop, () => `atlas: commit of a dot without payload at ${this.id}`);
    state.status = Status.Commit;
    state.bufferedCommit = undefined;
    state.reports = undefined;
    state.reportedBy = undefined;
    state.recovery = undefined;
    state.report = undefined;
    state.synod.choose(value);
    this.waiting.delete(dot);
    this.gc.commit(dot);
    if (state.cmd !== undefined) {
      if (value.isNoop) this.retries.committedNoop(state.cmd.rifl, dot);
      else this.retries.learn(state.cmd.rifl, dot);
    }
    this.outbox.execute({ dot, cmd: value.isNoop ? null : state.cmd!, deps: value.deps, seq: 0 });
    // The executor waits for every dependency; one that never commits here would block it for good,
    // and its payload may be nowhere (its coordinator crashed before any MCollect got through), so
    // the recovery timer watches it too and recovers it, as a no-op if nobody has the payload.
    for (const dep of value.deps) {
      if (this.gc.isCommitted(dep) || this.gc.isCollected(dep)) continue;
      this.await(dep, this.state(dep), now);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Recovery (PROTOCOLS.md §7.1, §7.3).

  /** Starts a recovery for every dot this process has waited on for its (staggered, backed-off) time. */
  private recoverStuckDots(now: Time): void {
    for (const [dot, state] of this.waiting) {
      const coordinator = dotSource(dot);
      const waitMs = recoveryWaitMs({ timeoutMs: this.config.recoveryTimeoutMs, n: this.config.n, self: this.id, coordinator, attempts: state.attempts, coordinatorSuspected: this.quorums.suspects(coordinator), subject: dot });
      if (now - state.waitingSinceMs < waitMs) continue;
      state.attempts++;
      state.waitingSinceMs = now;
      this.startRecovery(dot, state);
    }
  }

  /**
   * Another process's recovery of the dot is under way (this process just promised or accepted its
   * ballot): this process's own next attempt waits its full time from now, so that the rival can
   * finish instead of being pre-empted (one recovery of a dot at a time, as far as possible).
   */
  private postponeForRival(from: ProcessId, state: DotState, now: Time): void {
    if (from !== this.id && state.status !== Status.Commit) state.waitingSinceMs = now;
  }

  /** Phase 1 at a ballot of this process's above every ballot it saw for the dot. */
  private startRecovery(dot: Dot, state: DotState): void {
    const ballot = state.synod.recoveryBallot(this.id, this.config.n);
    state.recovery = { ballot, promises: new Map() };
    state.synod.observe(ballot);
    this.outbox.send(this.all, { type: 'MRec', dot, ballot, payload: this.payloadOf(state) });
  }

  private payloadOf(state: DotState): Payload | null {
    return state.cmd === undefined || state.quorum === undefined ? null : { cmd: state.cmd, quorum: state.quorum };
  }

  private handleMRec(from: ProcessId, msg: MRec, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return; // committed everywhere, the recovering process included
    const state = this.state(msg.dot);
    // Helping: the dot is decided; the recovering process only needs to learn it.
    if (state.status === Status.Commit) {
      this.outbox.send([from], this.commitMessage(msg.dot, state, true));
      return;
    }
    const payload = msg.payload;
    if (payload !== null && state.cmd === undefined) {
      state.quorum = payload.quorum;
      if (state.bufferedCommit !== undefined) {
        state.cmd = payload.cmd;
        this.commit(msg.dot, state, state.bufferedCommit, now);
        this.outbox.send([from], this.commitMessage(msg.dot, state, true));
        return;
      }
      this.holdPayload(msg.dot, state, payload.cmd, now);
    }
    const outcome = state.synod.prepare(msg.ballot);
    if (outcome.kind !== 'promised') return; // a lower ballot: its owner retries higher after a timeout
    this.postponeForRival(from, state, now);
    if (state.cmd !== undefined && (state.status === Status.Start || state.status === Status.Payload)) {
      // Never reported: register now, so that this process's later commands depend on this one.
      state.report = this.index.conflicts(state.cmd);
      this.index.register(msg.dot, state.cmd, 0);
      state.status = Status.RecoverR;
    } else if (state.status === Status.Collect) {
      state.status = Status.RecoverP;
    }
    // Without the payload (and none in the MRec) the dot stays in START: a later MCollect is not reported.
    const phase = state.status === Status.RecoverR ? 'RECOVER_R' : state.status === Status.RecoverP ? 'RECOVER_P' : 'NO_PAYLOAD';
    this.outbox.send([from], {
      type: 'MRecAck',
      dot: msg.dot,
      ballot: msg.ballot,
      deps: state.report ?? [],
      phase,
      abal: outcome.abal,
      aval: outcome.abal > 0 ? outcome.aval! : null,
      payload: this.payloadOf(state),
    });
  }

  private handleMRecAck(from: ProcessId, msg: MRecAck, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    const recovery = state?.recovery;
    if (state === undefined || recovery === undefined || msg.ballot !== recovery.ballot) return;
    const promises = recovery.promises;
    promises.set(from, msg);
    if (msg.payload !== null && state.cmd === undefined) {
      state.quorum = msg.payload.quorum;
      this.holdPayload(msg.dot, state, msg.payload.cmd, now);
    }
    if (promises.size < this.recoveryQuorumSize) return;
    state.recovery = undefined;
    const value = recoveredValue(dotSource(msg.dot), state.quorum, promises);
    if (value === undefined) {
      // Some promisers never saw the command, which this process has now learnt: they must register it
      // before their dependencies count, so start over with the payload.
      this.startRecovery(msg.dot, state);
      return;
    }
    state.synod.propose(msg.ballot, value);
    this.outbox.send(this.all, { type: 'MConsensus', dot: msg.dot, ballot: msg.ballot, value, ...(state.cmd === undefined ? {} : { payload: this.payloadOf(state)! }) });
  }

  /** Resends commits to peers whose gossip shows them stuck below this process (lost MCommits). */
  private helpLaggingPeers(now: Time): void {
    const n = this.config.n;
    for (const peer of this.others) {
      for (let source = 1; source <= n; source++) {
        const mine = this.gc.committedFrontier(source);
        const due = this.lagging.due(peer, source, this.gc.reportedCommittedBy(peer, source), mine, now, this.config.recoveryTimeoutMs);
        if (due === undefined) continue;
        for (let seq = due.from; seq <= due.to; seq++) {
          const dot = makeDot(source, seq);
          const state = this.dots.get(dot);
          if (state === undefined || state.status !== Status.Commit) continue; // collected: the peer has it
          this.outbox.send([peer], { type: 'MCommit', dot, value: state.synod.chosen!, cmd: state.cmd! });
        }
      }
    }
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection): void {
    this.gc.receive(from, msg, this.collect, this.prune);
  }
}

/**
 * The recovery rule of PROTOCOLS.md §7.3, from n − f promises:
 * 1. some promise accepted a value: the one accepted at the highest ballot;
 * 2. the coordinator promised, or a fast-quorum member had not reported (RECOVER_R): the fast path
 *    cannot have been taken; the union of every promise's dependencies;
 * 3. otherwise the union over the fast quorum's promises, which equals any fast-path decision: each of
 *    its dependencies was reported by the coordinator (so by every member) or by f members other than
 *    the coordinator, at most f − 1 of which are missing here.
 * Two cases of our own [D], for a dot recovered by a process that knows it only as a dependency:
 * 4. no promiser has the payload: nothing can have been decided (a decision needs the whole fast
 *    quorum to have reported, or f + 1 acceptors, and n − f promises meet both): a no-op;
 * 5. some promisers have it and others do not: undefined, recover again with the payload (promisers
 *    without it registered nothing, so their empty dependencies must not count).
 */
export function recoveredValue(coordinator: ProcessId, quorum: readonly ProcessId[] | undefined, promises: ReadonlyMap<ProcessId, MRecAck>): AtlasValue | undefined {
  const from = [...promises.keys()].sort((a, b) => a - b);
  let best: MRecAck | undefined;
  for (const p of from) {
    const promise = promises.get(p)!;
    if (promise.abal > 0 && (best === undefined || promise.abal > best.abal)) best = promise;
  }
  if (best !== undefined) return best.aval!;
  const withoutPayload = from.filter((p) => promises.get(p)!.phase === 'NO_PAYLOAD').length;
  if (withoutPayload === from.length) return { isNoop: true, deps: [] };
  if (withoutPayload > 0 || quorum === undefined) return undefined;
  const fastPathImpossible = promises.has(coordinator) || from.some((p) => quorum.includes(p) && promises.get(p)!.phase === 'RECOVER_R');
  let deps: readonly Dot[] = [];
  for (const p of from) if (fastPathImpossible || quorum.includes(p)) deps = unionDeps(deps, promises.get(p)!.deps);
  return { isNoop: false, deps };
}

/**
 * Atlas's fast-path rule: the union of the reports, and whether every dependency in it was reported
 * at least `threshold` times ("threshold union == union").
 */
export function reportedEnough(reports: readonly (readonly Dot[])[], threshold: number): { union: readonly Dot[]; fast: boolean } {
  const first = reports[0]!;
  let allSame = true;
  for (let i = 1; i < reports.length && allSame; i++) allSame = sameDeps(reports[i]!, first);
  // Identical reports (the common case) give every dependency |reports| ≥ threshold votes.
  if (allSame) return { union: first, fast: reports.length >= threshold };
  const all: Dot[] = [];
  for (const report of reports) for (const dot of report) all.push(dot);
  all.sort((a, b) => a - b);
  const union: Dot[] = [];
  let fast = true;
  for (let i = 0; i < all.length; ) {
    let j = i + 1;
    while (j < all.length && all[j] === all[i]) j++;
    union.push(all[i]!);
    if (j - i < threshold) fast = false;
    i = j;
  }
  return { union, fast };
}
