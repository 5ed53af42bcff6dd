/**
 * EPaxos (Moraru, Andersen, Kaminsky, "There Is More Consensus in Egalitarian Parliaments", SOSP'13;
 * normal case as in fantoch's epaxos.rs, plus the paper's `seq` and its explicit-prepare recovery).
 * PROTOCOLS.md §3, §7.2; docs/epaxos-recovery.md argues why the recovery is safe.
 *
 * Message flow, per command, at the coordinator c (the process the client submitted to):
 *   c ─MCollect{deps, seq}→ all others   (processes outside c's fast quorum only store the payload)
 *   fast-quorum member ─MCollectAck{deps ∪ local, max seq}→ c   (c does not ack itself)
 *   fast path: every member's reply is identical → c commits, then ─MCommit→ all others
 *   slow path: c ─MConsensus{union, max seq}→ its F+1 closest ─MConsensusAck→ c ─MCommit→ all
 *   MCommit → graph executor at every process (SCCs ordered by (seq, dot)); the submit process replies.
 * Recovery (explicit prepare), by any process that knows of the dot and saw no commit for a while:
 *   r ─MPrepare{b, cmd?}→ all ─MPrepareOk{pre-accept, accepted}→ r (F+1 promises; a process that
 *   committed answers MCommit instead), then by rules 2–5 (recovery-rules.ts) either
 *   r ─MConsensus{b, value}→ all, or first r ─MRecoverCollect{b, cmd}→ all ─MRecoverCollectAck→ r (F+1)
 *   and then MConsensus with their union; F+1 MConsensusAck → r commits, then ─MCommit→ all others.
 *   Refusals are MNack{bal}.
 *
 * Quorums (F = ⌊n/2⌋; the configured f does not apply): fast 2F closest to the coordinator, itself
 * included, so it waits for 2F − 1 replies; slow, phase 1 and recovery F + 1. The fast quorum is the
 * paper's simple one, not the optimized F + ⌊(F+1)/2⌋: with it, recovery rule 3 needs no TryPreAccept.
 *
 * Timeouts (Config.recoveryTimeoutMs, checked on the `recovery` timer): a process that holds an
 * uncommitted dot — whose payload it has, that a committed command depends on, or that lies below a
 * committed dot of the same source — for the timeout plus a stagger by rank after the dot's
 * coordinator starts a recovery; an attempt without result is retried with a higher ballot after a
 * doubling backoff. Every process also resends MCommit to a peer whose reported committed frontier
 * stayed below its own for the timeout (lost commits). Recovery and these resends are what make lost
 * messages and crashed coordinators survivable.
 *
 * Dependencies come from the Option-F index (common/dependency-index.ts). Garbage collection
 * (common/garbage-collector.ts) drops a dot's state once every process committed it, and prunes the
 * index once every process executed it.
 */
import type { Command } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { dotSeq, dotSource, formatDot, formatRifl, makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { epaxosConfiguredFastQuorumSize, epaxosSlowQuorumSize, QuorumChoice } from '../../core/quorum.js';
import type { Configuration } from '../../core/membership.js';
import { ClientRetries } from '../common/client-retries.js';
import { DependencyIndex } from '../common/dependency-index.js';
import { sameDeps, unionDeps, withoutDeps } from '../common/deps.js';
import { GarbageCollector } from '../common/garbage-collector.js';
import type { GraphInfo } from '../common/graph-executor.js';
import { recoveryWaitMs } from '../common/recovery.js';
import { DotSynod } from './dot-synod.js';
import type {
  EPaxosMessage,
  EPaxosValue,
  MCollect,
  MCollectAck,
  MCommit,
  MConsensus,
  MConsensusAck,
  MGarbageCollection,
  MNack,
  MPrepare,
  MPrepareOk,
  MRecoverCollect,
  MRecoverCollectAck,
} from './messages.js';
import { recoveryStep, type PrepareReply } from './recovery-rules.js';

/**
 * Deliberately broken behaviours, for the checker's own tests only (test/broken-variants.test.ts).
 * No host or CLI path sets them.
 */
export interface EPaxosFaultInjection {
  /** Fast quorum size instead of 2F (e.g. one too small). */
  readonly fastQuorumSize?: number;
}

/** Per-dot status (PROTOCOLS.md §3.1). */
const enum Status {
  /** Nothing known but the dot's existence (a dependency, a hole, a recovery message). */
  Start,
  /** The payload is known; this process made no round-0 proposal for it. */
  Payload,
  /** In the fast quorum: proposed (coordinator) or pre-accepted (member) at round 0. */
  Collect,
  Commit,
}

/** A pre-accept: the dependencies and seq a process proposed at round 0. */
interface PreAccept {
  readonly deps: readonly Dot[];
  readonly seq: number;
}

/** One recovery attempt of this process for a dot, at one ballot. */
interface Recovery {
  readonly ballot: number;
  phase: 'prepare' | 'collect' | 'accept';
  readonly promises: PrepareReply[];
  /** Rule 4: the command being re-collected and the answers so far. */
  cmd: Command | undefined;
  readonly collected: Array<{ readonly from: ProcessId; readonly deps: readonly Dot[]; readonly seq: number }>;
}

interface DotState {
  status: Status;
  cmd: Command | undefined;
  readonly synod: DotSynod<EPaxosValue>;
  /** This process's round-0 proposal (coordinator) or MCollectAck (member); what recovery rule 3 counts. */
  preAccepted: PreAccept | undefined;
  /**
   * What this process reported when it registered the command in its index (at submit, round 0 or
   * a recovery's re-collect): every conflicting command registered here before it. A re-collect is
   * answered with this, not with the conflicts registered since, which would make a recovered
   * command wait for newer ones that may need recovery in turn (a chain that never ends).
   */
  registered: PreAccept | undefined;
  /** Coordinator: when round 0 started, to give up on the fast path after half a timeout. */
  proposedMs: Time;
  /**
   * Coordinator only: its fast quorum could not answer when it proposed (QuorumChoice.degraded), or
   * lost a member since; it takes the slow path as soon as F replies arrived.
   */
  degraded: boolean;
  /** Coordinator only, while the fast path is still possible: the replies so far, and who sent them. */
  replies: MCollectAck[] | undefined;
  repliedBy: ProcessId[] | undefined;
  /** When this process starts (or restarts) recovering the dot, if it is still uncommitted then. */
  nextRecoveryMs: Time;
  /** Recovery attempts started here, for the backoff. */
  attempts: number;
  /** Highest ballot seen in any message about the dot, so that a new attempt goes above it. */
  highestBallotSeen: number;
  recovery: Recovery | undefined;
}

const GC_TIMER = 'gc';
const RECOVERY_TIMER = 'recovery';
/** The recovery timer fires this many times per recovery timeout. */
const RECOVERY_TICKS_PER_TIMEOUT = 4;
/** Limit on recoveries started per timer tick (the rest start at the next tick). */
const RECOVERIES_PER_TICK_MAX = 1024;
/** Limit on commits resent to one lagging process per source per timer tick. */
const CATCH_UP_DOTS_MAX = 1024;

/** Most dots whose state one process holds; reaching it means garbage collection is not keeping up. */
export const DOTS_HELD_MAX = 4 * 1024 * 1024;

/** One EPaxos process: coordinator of its own dots, fast-quorum member, acceptor, learner and recoverer of the others'. */
export class EPaxosProcess implements Process<EPaxosMessage, GraphInfo> {
  readonly timers: readonly TimerSpec[];
  private readonly outbox = new Outbox<EPaxosMessage, GraphInfo>();
  private readonly n: number;
  private readonly fastQuorumSize: number;
  private readonly slowQuorumSize: number;
  private readonly timeoutMs: number;
  private all: readonly ProcessId[] = [];
  private others: readonly ProcessId[] = [];
  /** Fast and write quorums, suspected processes last (core/quorum.ts QuorumChoice). */
  private readonly quorums: QuorumChoice;
  private lastSeq = 0;
  private readonly dots = new Map<Dot, DotState>();
  /** Dots with state here that are not committed here, in the order they became known. */
  private readonly uncommitted = new Set<Dot>();
  /** Per source (index source − 1): holes below committed dots were looked for up to this seq. */
  private readonly holesScannedUpTo: number[];
  /** Committed frontier per source each peer reported: [(peer − 1) · n + source − 1], and since when. */
  private readonly peerCommitted: Float64Array;
  private readonly peerCommittedSinceMs: Float64Array;
  private readonly index = new DependencyIndex();
  private readonly gc: GarbageCollector;
  private fastPath = 0;
  private slowPath = 0;
  private recovered = 0;
  /** The dot known here for each client's latest command: a retry is not proposed twice. */
  private readonly retries = new ClientRetries();
  private readonly collect = (dot: Dot) => {
    this.dots.delete(dot);
    this.uncommitted.delete(dot);
  };
  private readonly prune = (dot: Dot) => this.index.prune(dot);

  constructor(
    readonly id: ProcessId,
    private readonly config: Config,
    injected: EPaxosFaultInjection = {},
  ) {
    this.n = config.n;
    this.fastQuorumSize = injected.fastQuorumSize ?? epaxosConfiguredFastQuorumSize(config);
    invariant(this.fastQuorumSize >= 1 && this.fastQuorumSize <= config.n, () => `epaxos: fast quorum of ${this.fastQuorumSize} for n=${config.n}`);
    this.slowQuorumSize = epaxosSlowQuorumSize(config.n);
    this.quorums = new QuorumChoice(id, this.fastQuorumSize, this.slowQuorumSize);
    this.timeoutMs = config.recoveryTimeoutMs;
    this.gc = new GarbageCollector(id, config.n);
    this.holesScannedUpTo = new Array<number>(config.n).fill(0);
    this.peerCommitted = new Float64Array(config.n * config.n);
    this.peerCommittedSinceMs = new Float64Array(config.n * config.n);
    this.timers = [
      { timer: GC_TIMER, everyMs: config.gcIntervalMs },
      { timer: RECOVERY_TIMER, everyMs: config.recoveryTimeoutMs / RECOVERY_TICKS_PER_TIMEOUT },
    ];
  }

  discover(sortedByDistance: readonly ProcessId[]): void {
    invariant(sortedByDistance[0] === this.id, 'discover: a process must come first in its own list');
    invariant(sortedByDistance.length === this.n, () => `discover: ${sortedByDistance.length} processes for n=${this.n}`);
    this.all = [...sortedByDistance].sort((a, b) => a - b);
    this.others = this.all.filter((p) => p !== this.id);
    this.quorums.discover(sortedByDistance);
  }

  submit(cmd: Command, now: Time): void {
    // A client's retry of a command some dot known here carries: that dot commits (or is recovered)
    // and executes here, and the replica answers then (common/client-retries.ts).
    if (this.retries.carrierOf(cmd.rifl) !== undefined) return;
    const dot = makeDot(this.id, ++this.lastSeq);
    const deps = this.index.conflicts(cmd);
    const seq = this.index.nextSeq(deps);
    this.index.register(dot, cmd, seq);
    // The coordinator takes its own proposal directly instead of through a message to itself, so a
    // host that delivers self-messages late cannot make it drop early replies.
    const state = this.state(dot, now);
    state.status = Status.Collect;
    this.learnCommand(dot, state, cmd);
    state.preAccepted = { deps, seq };
    state.registered = state.preAccepted;
    state.proposedMs = now;
    state.replies = [];
    state.repliedBy = [];
    state.degraded = this.quorums.degraded;
    // The coordinator's index has already pruned every dot it knows executed everywhere.
    const executedUpTo: number[] = [];
    for (let source = 1; source <= this.n; source++) executedUpTo.push(this.gc.executedEverywhereUpTo(source));
    this.outbox.send(this.others, { type: 'MCollect', dot, cmd, deps, seq, quorum: this.quorums.fast, executedUpTo });
    // Only a broken variant's fast quorum of one can decide without replies.
    if (this.fastQuorumSize === 1) this.decideRoundZero(dot, state, now, true);
  }

  handle(from: ProcessId, msg: EPaxosMessage, now: Time): void {
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
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg, now);
      case 'MPrepare':
        return this.handleMPrepare(from, msg, now);
      case 'MPrepareOk':
        return this.handleMPrepareOk(from, msg);
      case 'MRecoverCollect':
        return this.handleMRecoverCollect(from, msg, now);
      case 'MRecoverCollectAck':
        return this.handleMRecoverCollectAck(from, msg);
      case 'MNack':
        return this.handleMNack(msg);
    }
  }

  onTimer(timer: string, now: Time): void {
    if (timer === GC_TIMER) {
      const report = this.gc.report();
      this.outbox.send(this.others, { type: 'MGarbageCollection', committed: report.committed, executed: report.executed });
      return;
    }
    invariant(timer === RECOVERY_TIMER, () => `epaxos has no timer ${timer}`);
    this.startDueRecoveries(now);
    this.helpLaggingPeers(now);
  }

  executed(dots: readonly Dot[], _now: Time): void {
    for (const dot of dots) this.gc.execute(dot);
  }

  /** The host's failure detector suspects `process`: commands proposed from now on use quorums without it. */
  suspect(process: ProcessId, now: Time): void {
    this.quorums.suspect(process);
    this.degradeOwnDots(now);
    // Its uncommitted dots here are recovered after this process's stagger alone (first attempts only).
    for (const dot of this.uncommitted) {
      if (dotSource(dot) !== process) continue;
      const state = this.dots.get(dot);
      if (state !== undefined && state.status !== Status.Commit && state.attempts === 0) state.nextRecoveryMs = Math.min(state.nextRecoveryMs, now + this.staggerMs(dot));
    }
  }

  unsuspect(process: ProcessId, _now: Time): void {
    this.quorums.unsuspect(process);
  }

  /**
   * A new configuration: quorums are drawn from its members, only members' reports hold garbage
   * collection and index pruning back, and gossip goes to members only.
   */
  reconfigure(configuration: Configuration, now: Time): void {
    this.quorums.setMembers(configuration.members);
    this.others = configuration.members.filter((p) => p !== this.id);
    this.gc.setMembers(configuration.members, this.collect, this.prune);
    this.degradeOwnDots(now);
  }

  /** Own commands still collecting whose fast quorum cannot answer any more: slow path once F replied. */
  private degradeOwnDots(now: Time): void {
    if (!this.quorums.degraded) return;
    for (const dot of this.uncommitted) {
      if (dotSource(dot) !== this.id) continue;
      const state = this.dots.get(dot);
      if (state === undefined || state.status !== Status.Collect || state.degraded || state.replies === undefined) continue;
      state.degraded = true;
      if (state.replies.length >= this.slowQuorumSize - 1) this.decideRoundZero(dot, state, now, false);
    }
  }

  /** Per-command state held: what garbage collection keeps bounded. */
  heldState(): number {
    return this.dots.size + this.index.size;
  }

  drain(): readonly Output<EPaxosMessage, GraphInfo>[] {
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

  /** The state of `dot`, created (and watched for recovery) when this is the first news of it. */
  private state(dot: Dot, now: Time): DotState {
    let state = this.dots.get(dot);
    if (state === undefined) {
      invariant(this.dots.size < DOTS_HELD_MAX, () => `epaxos process ${this.id} holds more than DOTS_HELD_MAX=${DOTS_HELD_MAX} dots`);
      state = {
        status: Status.Start,
        cmd: undefined,
        synod: new DotSynod(),
        preAccepted: undefined,
        registered: undefined,
        proposedMs: now,
        degraded: false,
        replies: undefined,
        repliedBy: undefined,
        // A dot of a suspected coordinator is recovered after this process's stagger alone.
        nextRecoveryMs: now + (this.quorums.suspects(dotSource(dot)) ? 0 : this.timeoutMs) + this.staggerMs(dot),
        attempts: 0,
        highestBallotSeen: 0,
        recovery: undefined,
      };
      this.dots.set(dot, state);
      this.uncommitted.add(dot);
    }
    return state;
  }

  /** Processes wait longer the further they come after the dot's coordinator in id order, so one goes first. */
  private staggerMs(dot: Dot): number {
    const rank = (this.id - dotSource(dot) + this.n) % this.n;
    return (rank * this.timeoutMs) / this.n;
  }

  /** Stores the dot's command when it is news; a dot has one command, whoever reports it. */
  private learnCommand(dot: Dot, state: DotState, cmd: Command | null): void {
    if (cmd === null) return;
    if (state.cmd === undefined) {
      state.cmd = cmd;
      this.retries.learn(cmd.rifl, dot);
      if (state.status === Status.Start) state.status = Status.Payload;
    } else {
      invariant(state.cmd.rifl === cmd.rifl, () => `epaxos: one dot with two commands ${formatRifl(state.cmd!.rifl)} and ${formatRifl(cmd.rifl)}`);
    }
  }

  /** Notes a ballot; another process's recovery in progress postpones this process's own. */
  private observeBallot(state: DotState, dot: Dot, from: ProcessId, ballot: number, now: Time): void {
    if (ballot > state.highestBallotSeen) state.highestBallotSeen = ballot;
    if (from !== this.id && ballot > this.n) {
      // As long as this process would wait between two attempts of its own (at least a timeout).
      const waitMs = recoveryWaitMs({ timeoutMs: this.timeoutMs, n: this.n, self: this.id, coordinator: dotSource(dot), attempts: state.attempts, subject: dot });
      state.nextRecoveryMs = Math.max(state.nextRecoveryMs, now + waitMs);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Normal case.

  private handleMCollect(from: ProcessId, msg: MCollect, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return; // late: committed everywhere already
    const state = this.state(msg.dot, now);
    if (state.status !== Status.Start && state.status !== Status.Payload) return;
    if (state.preAccepted !== undefined) return;
    this.learnCommand(msg.dot, state, msg.cmd);
    // A process that promised or accepted any ballot must not pre-accept at round 0 any more: a
    // recovery that counted on it not having pre-accepted (rule 3) would be wrong.
    if (!msg.quorum.includes(this.id) || state.synod.bal > 0 || this.index.has(msg.dot)) return;
    const executedUpTo = msg.executedUpTo;
    const local = withoutDeps(this.index.conflicts(msg.cmd), (d) => dotSeq(d) <= executedUpTo[dotSource(d) - 1]!);
    const deps = unionDeps(msg.deps, local);
    const seq = Math.max(msg.seq, this.index.nextSeq(local));
    this.index.register(msg.dot, msg.cmd, seq);
    state.status = Status.Collect;
    state.preAccepted = { deps, seq };
    state.registered = state.preAccepted;
    this.outbox.send([from], { type: 'MCollectAck', dot: msg.dot, deps, seq });
  }

  private handleMCollectAck(from: ProcessId, msg: MCollectAck, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status !== Status.Collect) return;
    const replies = state.replies;
    const repliedBy = state.repliedBy;
    if (replies === undefined || repliedBy === undefined || repliedBy.includes(from)) return;
    replies.push(msg);
    repliedBy.push(from);
    if (state.degraded) {
      // Degraded: F replies make a majority with the coordinator; the slow path at once.
      if (replies.length >= this.slowQuorumSize - 1) this.decideRoundZero(msg.dot, state, now, false);
      return;
    }
    if (replies.length < this.fastQuorumSize - 1) return;
    this.decideRoundZero(msg.dot, state, now, true);
  }

  /**
   * The coordinator has every fast-quorum reply (`complete`), or has waited half a timeout with at
   * least F (a crashed member would otherwise hold every command up until recovery): commit on the
   * fast path if every fast-quorum member replied identically, else start the slow path at its
   * round-0 ballot with the union, which covers F+1 processes' reports, a majority. Replies are
   * compared exactly as sent, because recovery rule 3 compares the same reports and must recover
   * exactly the value the fast path committed.
   */
  private decideRoundZero(dot: Dot, state: DotState, now: Time, complete: boolean): void {
    const replies = state.replies!;
    const own = state.preAccepted!;
    state.replies = undefined;
    state.repliedBy = undefined;
    // A promise to a recovery's ballot ends the fast path (handleMPrepare clears the replies); this
    // is the same guard for an Accept of a recovery that arrived first.
    if (state.synod.bal > 0) return;
    let deps = own.deps;
    let seq = own.seq;
    let identical = complete;
    for (const reply of replies) {
      if (reply.seq !== replies[0]!.seq || !sameDeps(reply.deps, replies[0]!.deps)) identical = false;
      deps = unionDeps(deps, reply.deps);
      if (reply.seq > seq) seq = reply.seq;
    }
    const value: EPaxosValue = { cmd: state.cmd!, deps, seq };
    if (identical) {
      this.fastPath++;
      // Deciding means recording: commit here before anything else can be handled, so that a later
      // Prepare is answered with the commit and not with a round-0 proposal (PROTOCOLS.md §7.1).
      this.commit(dot, state, value, now);
      this.outbox.send(this.others, { type: 'MCommit', dot, value });
      return;
    }
    this.slowPath++;
    const ballot = this.id; // the round-0 ballot: no phase 1
    state.synod.propose(ballot, value);
    this.outbox.send(this.quorums.write, { type: 'MConsensus', dot, ballot, value });
  }

  private handleMConsensus(from: ProcessId, msg: MConsensus, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot, now);
    this.learnCommand(msg.dot, state, msg.value.cmd);
    this.observeBallot(state, msg.dot, from, msg.ballot, now);
    const outcome = state.synod.accept(msg.ballot, msg.value);
    switch (outcome.kind) {
      case 'accepted':
        state.replies = undefined; // a coordinator that accepted any ballot is past its fast path
        return this.outbox.send([from], { type: 'MConsensusAck', dot: msg.dot, ballot: outcome.ballot });
      case 'chosen':
        return this.outbox.send([from], { type: 'MCommit', dot: msg.dot, value: outcome.value });
      case 'rejected':
        return this.outbox.send([from], { type: 'MNack', dot: msg.dot, ballot: outcome.bal });
    }
  }

  private handleMConsensusAck(from: ProcessId, msg: MConsensusAck, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === Status.Commit) return;
    const value = state.synod.accepted(from, msg.ballot, this.slowQuorumSize);
    if (value === undefined) return;
    if (msg.ballot > this.n) this.recovered++; // above every round-0 ballot: a recovery's
    this.commit(msg.dot, state, value, now);
    this.outbox.send(this.others, { type: 'MCommit', dot: msg.dot, value });
  }

  private handleMCommit(msg: MCommit, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot, now);
    if (state.status === Status.Commit) return;
    this.commit(msg.dot, state, msg.value, now);
  }

  private commit(dot: Dot, state: DotState, value: EPaxosValue, now: Time): void {
    invariant(state.status !== Status.Commit, () => `epaxos: ${formatDot(dot)} committed twice at ${this.id}`);
    this.learnCommand(dot, state, value.cmd);
    if (value.cmd === null && state.cmd !== undefined) this.retries.committedNoop(state.cmd.rifl, dot);
    state.status = Status.Commit;
    state.replies = undefined;
    state.repliedBy = undefined;
    state.recovery = undefined;
    state.synod.choose(value);
    this.uncommitted.delete(dot);
    this.index.updateSeq(dot, value.seq);
    this.gc.commit(dot);
    this.outbox.execute({ dot, cmd: value.cmd, deps: value.deps, seq: value.seq });
    this.watchMissing(dot, value.deps, now);
  }

  /**
   * Dots this commit shows to exist without this process having committed them: its dependencies
   * (the executor waits for them) and the dots of the same source below it (holes: a peer may need
   * them, and nobody else may ever mention them). Each gets a state, so that the recovery timer
   * recovers it — as a no-op if nobody has its command — should its commit not arrive.
   */
  private watchMissing(dot: Dot, deps: readonly Dot[], now: Time): void {
    for (const dep of deps) {
      if (!this.dots.has(dep) && !this.gc.isCollected(dep)) this.state(dep, now);
    }
    const source = dotSource(dot);
    const scanned = this.holesScannedUpTo[source - 1]!;
    const seq = dotSeq(dot);
    for (let below = scanned + 1; below < seq; below++) {
      const hole = makeDot(source, below);
      if (!this.dots.has(hole) && !this.gc.isCollected(hole)) this.state(hole, now);
    }
    if (seq > scanned) this.holesScannedUpTo[source - 1] = seq;
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection, now: Time): void {
    // Frontiers only grow; a reordered, older report must not move one back.
    for (let source = 1; source <= this.n; source++) {
      const slot = (from - 1) * this.n + source - 1;
      const reported = msg.committed[source - 1]!;
      if (reported > this.peerCommitted[slot]!) {
        this.peerCommitted[slot] = reported;
        this.peerCommittedSinceMs[slot] = now;
      }
    }
    this.gc.receive(from, msg, this.collect, this.prune);
  }

  // -------------------------------------------------------------------------------------------
  // Timeouts.

  /** Starts a recovery for every uncommitted dot whose time has come. */
  private startDueRecoveries(now: Time): void {
    let started = 0;
    for (const dot of this.uncommitted) {
      const state = this.dots.get(dot);
      if (state === undefined || state.status === Status.Commit) {
        this.uncommitted.delete(dot);
        continue;
      }
      if (state.replies !== undefined && state.replies.length >= this.slowQuorumSize - 1 && now - state.proposedMs >= this.timeoutMs / 2) {
        // Some fast-quorum member is slow or gone: the slow path now, recovery only if that stalls too.
        this.decideRoundZero(dot, state, now, false);
        state.nextRecoveryMs = Math.max(state.nextRecoveryMs, now + this.timeoutMs);
        continue;
      }
      if (now < state.nextRecoveryMs) continue;
      if (started++ >= RECOVERIES_PER_TICK_MAX) return;
      this.startRecovery(dot, state, now);
    }
  }

  /**
   * Resends commits to peers whose reported committed frontier stayed below this process's for a
   * timeout (their MCommit were lost, or they never heard of the dot at all).
   */
  private helpLaggingPeers(now: Time): void {
    const mine = this.gc.report().committed;
    for (const peer of this.others) {
      for (let source = 1; source <= this.n; source++) {
        const slot = (peer - 1) * this.n + source - 1;
        const reported = this.peerCommitted[slot]!;
        const frontier = mine[source - 1]!;
        if (reported >= frontier || now - this.peerCommittedSinceMs[slot]! < this.timeoutMs) continue;
        this.peerCommittedSinceMs[slot] = now;
        const upTo = Math.min(frontier, reported + CATCH_UP_DOTS_MAX);
        for (let seq = reported + 1; seq <= upTo; seq++) {
          const dot = makeDot(source, seq);
          const state = this.dots.get(dot);
          if (state !== undefined && state.status === Status.Commit) this.outbox.send([peer], { type: 'MCommit', dot, value: state.synod.chosen! });
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Recovery (PROTOCOLS.md §7.2; rules in recovery-rules.ts).

  private startRecovery(dot: Dot, state: DotState, now: Time): void {
    state.attempts++;
    const ballot = state.synod.nextBallot(this.id, this.n, state.highestBallotSeen);
    state.highestBallotSeen = ballot;
    state.recovery = { ballot, phase: 'prepare', promises: [], cmd: undefined, collected: [] };
    // The next attempt (if this one fails): backed off, staggered and jittered (common/recovery.ts).
    state.nextRecoveryMs = now + recoveryWaitMs({ timeoutMs: this.timeoutMs, n: this.n, self: this.id, coordinator: dotSource(dot), attempts: state.attempts, subject: dot });
    this.outbox.send(this.all, { type: 'MPrepare', dot, ballot, cmd: state.cmd ?? null });
  }

  private handleMPrepare(from: ProcessId, msg: MPrepare, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot, now);
    if (state.status === Status.Commit) {
      this.outbox.send([from], { type: 'MCommit', dot: msg.dot, value: state.synod.chosen! });
      return;
    }
    this.learnCommand(msg.dot, state, msg.cmd);
    this.observeBallot(state, msg.dot, from, msg.ballot, now);
    if (!state.synod.prepare(msg.ballot)) {
      this.outbox.send([from], { type: 'MNack', dot: msg.dot, ballot: state.synod.bal });
      return;
    }
    // The coordinator promised a recovery's ballot: it must not decide the fast path any more.
    state.replies = undefined;
    state.repliedBy = undefined;
    const abal = state.synod.abal;
    this.outbox.send([from], {
      type: 'MPrepareOk',
      dot: msg.dot,
      ballot: msg.ballot,
      cmd: state.cmd ?? null,
      preAccepted: state.preAccepted ?? null,
      accepted: abal > 0 ? { ballot: abal, value: state.synod.aval! } : null,
    });
  }

  private handleMPrepareOk(from: ProcessId, msg: MPrepareOk): void {
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === Status.Commit) return;
    const recovery = state.recovery;
    if (recovery === undefined || recovery.phase !== 'prepare' || recovery.ballot !== msg.ballot) return;
    if (recovery.promises.some((p) => p.from === from)) return;
    recovery.promises.push({ from, ok: msg });
    this.learnCommand(msg.dot, state, msg.cmd);
    if (recovery.promises.length < this.slowQuorumSize) return;
    const step = recoveryStep(msg.dot, this.n, recovery.promises, state.cmd);
    if (step.kind === 'accept') {
      this.recoveryAccept(msg.dot, state, recovery, step.value);
      return;
    }
    recovery.phase = 'collect';
    recovery.cmd = step.cmd;
    this.outbox.send(this.all, { type: 'MRecoverCollect', dot: msg.dot, ballot: recovery.ballot, cmd: step.cmd });
  }

  private handleMRecoverCollect(from: ProcessId, msg: MRecoverCollect, now: Time): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot, now);
    if (state.status === Status.Commit) {
      this.outbox.send([from], { type: 'MCommit', dot: msg.dot, value: state.synod.chosen! });
      return;
    }
    this.learnCommand(msg.dot, state, msg.cmd);
    this.observeBallot(state, msg.dot, from, msg.ballot, now);
    if (!state.synod.promiseAtLeast(msg.ballot)) {
      this.outbox.send([from], { type: 'MNack', dot: msg.dot, ballot: state.synod.bal });
      return;
    }
    state.replies = undefined;
    state.repliedBy = undefined;
    // The conflicting commands registered here before this one: its registration-time report, or,
    // registering it now, every conflicting command in the index (so later ones are ordered after it).
    let report = state.registered;
    if (report === undefined) {
      invariant(!this.index.has(msg.dot), () => `epaxos: ${formatDot(msg.dot)} registered at ${this.id} without a report`);
      const deps = this.index.conflicts(msg.cmd);
      report = { deps, seq: this.index.nextSeq(deps) };
      this.index.register(msg.dot, msg.cmd, report.seq);
      state.registered = report;
    }
    this.outbox.send([from], { type: 'MRecoverCollectAck', dot: msg.dot, ballot: msg.ballot, deps: report.deps, seq: report.seq });
  }

  private handleMRecoverCollectAck(from: ProcessId, msg: MRecoverCollectAck): void {
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === Status.Commit) return;
    const recovery = state.recovery;
    if (recovery === undefined || recovery.phase !== 'collect' || recovery.ballot !== msg.ballot) return;
    if (recovery.collected.some((c) => c.from === from)) return;
    recovery.collected.push({ from, deps: msg.deps, seq: msg.seq });
    if (recovery.collected.length < this.slowQuorumSize) return;
    let deps: readonly Dot[] = [];
    let seq = 0;
    for (const answer of recovery.collected) {
      deps = unionDeps(deps, answer.deps);
      if (answer.seq > seq) seq = answer.seq;
    }
    this.recoveryAccept(msg.dot, state, recovery, { cmd: recovery.cmd!, deps, seq });
  }

  private recoveryAccept(dot: Dot, state: DotState, recovery: Recovery, value: EPaxosValue): void {
    recovery.phase = 'accept';
    state.synod.propose(recovery.ballot, value);
    this.outbox.send(this.all, { type: 'MConsensus', dot, ballot: recovery.ballot, value });
  }

  private handleMNack(msg: MNack): void {
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === Status.Commit) return;
    if (msg.ballot > state.highestBallotSeen) state.highestBallotSeen = msg.ballot;
    // Someone promised higher: this attempt cannot finish phase 1 or the re-collect; the timer starts
    // the next one above it. An Accept already sent may still be chosen: its acks keep counting.
    const recovery = state.recovery;
    if (recovery !== undefined && recovery.ballot < msg.ballot && recovery.phase !== 'accept') state.recovery = undefined;
  }
}
