/**
 * Tempo (Enes, Baquero, Gotsman, Sutra, "Efficient Replication via Timestamp Stability",
 * EuroSys'21; normal case as in fantoch's tempo.rs). PROTOCOLS.md §5, §7.7.
 *
 * Message flow (paper names in brackets):
 *   client → coordinator c: proposal(cmd) with attached votes
 *   c ─MCollect [MPropose+MPayload]→ all; fast-quorum members propose max(c's clock, own clock + 1)
 *     ─MCollectAck [MProposeAck]→ c
 *   fast path: the highest proposal was made by ≥ f processes → c ─MCommit{clock, votes}→ all
 *   slow path: c ─MConsensus{ballot c, clock}→ its f+1 closest ─MConsensusAck→ c ─MCommit→ all
 *   on commit: bump the command's keys to its timestamp (detached votes); if this process attached
 *     votes to the dot that the commit did not carry, ─MAttached→ all
 *   every tempoDetachedIntervalMs: ─MDetached{votes}→ all; every gcIntervalMs: ─MGarbageCollection→ others
 *   commits and votes → the table executor (executor.ts), which runs a command once its timestamp is
 *   stable at every one of its keys.
 *
 * Recovery (PROTOCOLS.md §7.1, §7.4), on the `recovery` timer (common/recovery.ts):
 *   r, holding the payload of a dot uncommitted for a timeout (staggered by rank, with backoff)
 *     ─MRec{ballot, cmd, quorum}→ all ─MRecAck{proposal, votes, phase, abal, aval}→ r   (n − f promises)
 *   a promiser that had not proposed yet (RECOVER_R) proposes now; r picks the accepted timestamp with
 *   the highest abal; else, if the coordinator promised or some fast-quorum member was RECOVER_R, the
 *   highest proposal of all promises; else the highest of the fast quorum's promises
 *   r ─MConsensus{ballot}→ all ─MConsensusAck→ r ─MCommit{clock, ∪ votes, cmd}→ all
 *   A process that committed answers MRec with MCommit{cmd}; commits a peer's gossip shows it lacks
 *   are resent to it; a process whose committed commands stay unexecuted for a timeout asks the others
 *   for their votes on those keys (MVotesRequest), which repairs lost MDetached/MAttached.
 *
 * Quorums: fast ⌊n/2⌋ + f (the coordinator's closest, itself included); fast-path threshold f;
 * slow path f+1 acceptors; recovery n − f; stability ⌊n/2⌋ + 1.
 */
import type { Command, Key } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { FrontierMap } from '../../core/frontier.js';
import { dotSeq, dotSource, formatDot, makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { fastPathThreshold, leaderlessFastQuorumSize, majority, phase1QuorumSize, writeQuorumSize, QuorumChoice } from '../../core/quorum.js';
import type { Configuration } from '../../core/membership.js';
import { ClientRetries } from '../common/client-retries.js';
import { LaggingPeers, RECOVERY_TIMER, recoveryTickMs, recoveryWaitMs } from '../common/recovery.js';
import { Synod } from '../common/synod.js';
import { KeyClocks } from './clocks.js';
import type {
  MAttached,
  MCollect,
  MCollectAck,
  MCommit,
  MConsensus,
  MConsensusAck,
  MDetached,
  MGarbageCollection,
  MRec,
  MRecAck,
  MVotesRequest,
  TempoFaultInjection,
  TempoInfo,
  TempoMessage,
  Vote,
} from './messages.js';

/**
 * Where a dot stands at this process. RECOVER_R: promised a recovery ballot before proposing (it
 * proposed then); RECOVER_P: promised after proposing in the fast quorum (its proposal stands).
 */
export type DotStatus = 'START' | 'PAYLOAD' | 'COLLECT' | 'COMMIT' | 'RECOVER_R' | 'RECOVER_P';

/** Per-dot state. The single-decree consensus (value: a timestamp) is the common Synod. */
interface DotState {
  status: DotStatus;
  cmd: Command | undefined;
  quorum: readonly ProcessId[];
  readonly synod: Synod<number>;
  /** This process's proposal for the dot (0 before it proposes), and the votes it attached to it. */
  proposal: number;
  attached: readonly Vote[];
  /** Coordinator: votes gathered from the fast quorum, and who answered. */
  votes: Vote[];
  acked: ProcessId[];
  maxClock: number;
  maxCount: number;
  /**
   * Coordinator: its fast quorum could not answer when it proposed (QuorumChoice.degraded), or lost a
   * member since; it takes the slow path once a majority answered. `settled`: it has decided its path.
   */
  degraded: boolean;
  settled: boolean;
  /** A commit that arrived before the payload. */
  bufferedCommit: MCommit | undefined;
  /** MAttached votes that arrived before the commit. */
  bufferedAttached: Vote[];
  /** Once committed here: the votes the commit carried (resent to processes that lack the commit). */
  commitVotes: readonly Vote[];
  /** Recovery trigger: since when this process waits for the commit, and failed attempts so far. */
  waitingSinceMs: Time;
  attempts: number;
  /** This process's own recovery: its ballot, the promises in phase 1, the promisers' votes for the commit. */
  recovery: { readonly ballot: number; readonly promises: Map<ProcessId, MRecAck>; votes: readonly Vote[] } | undefined;
}

/** A command committed here whose parts have not all run yet. */
interface Unexecuted {
  readonly keys: readonly Key[];
  parts: number;
  sinceMs: Time;
  attempts: number;
}

const DETACHED_TIMER = 'detached';
const GC_TIMER = 'gc';
/** Limit on per-dot state held at once (in flight plus not yet garbage-collected). */
const DOTS_MAX = 4_000_000;

/** One Tempo process: coordinator of its own commands, fast-quorum member and acceptor for others'. */
export class TempoProcess implements Process<TempoMessage, TempoInfo> {
  readonly timers: readonly TimerSpec[];
  private readonly outbox = new Outbox<TempoMessage, TempoInfo>();
  private readonly clocks: KeyClocks;
  private readonly dots = new Map<Dot, DotState>();
  private all: readonly ProcessId[] = [];
  private others: readonly ProcessId[] = [];
  /** Fast and write quorums, suspected processes last (core/quorum.ts QuorumChoice). */
  private readonly quorums: QuorumChoice;
  private readonly threshold: number;
  private lastSeq = 0;
  private fastPaths = 0;
  private slowPaths = 0;
  private recovered = 0;
  private readonly recoveryQuorumSize: number;
  /** ⌊n/2⌋ + 1: the answers a degraded coordinator waits for. */
  private readonly majority: number;
  /** member[p − 1] is 1 while process p belongs to the configuration (core/membership.ts). */
  private readonly member: Uint8Array;
  /** Dots whose payload is known here and that have not committed here: the recovery timer's work. */
  private readonly waiting = new Map<Dot, DotState>();
  private readonly lagging: LaggingPeers;
  /** The dot known here for each client's latest command: a retry is not proposed twice. */
  private readonly retries = new ClientRetries();
  /** Committed here, not fully executed here (executor feedback): for MVotesRequest. */
  private readonly unexecuted = new Map<Dot, Unexecuted>();

  // Garbage collection (PROTOCOLS.md §7.7).
  private readonly committed = new FrontierMap();
  /** committedBy[p − 1][s − 1]: the committed frontier of source s that process p reported. */
  private readonly committedBy: number[][];
  /** Per source: every dot at or below it is committed everywhere and its state was dropped. */
  private readonly collectedUpTo: number[];

  constructor(
    readonly id: ProcessId,
    private readonly config: Config,
    private readonly injected: TempoFaultInjection = {},
  ) {
    this.clocks = new KeyClocks(id);
    this.quorums = new QuorumChoice(id, this.injected.fastQuorumSize ?? leaderlessFastQuorumSize(config.n, config.f), writeQuorumSize(config.f));
    this.threshold = this.injected.fastPathThreshold ?? fastPathThreshold(config.n, leaderlessFastQuorumSize(config.n, config.f));
    this.committedBy = Array.from({ length: config.n }, () => new Array<number>(config.n).fill(0));
    this.collectedUpTo = new Array<number>(config.n).fill(0);
    this.recoveryQuorumSize = phase1QuorumSize(config.n, config.f);
    this.majority = majority(config.n);
    this.member = new Uint8Array(config.n).fill(1);
    this.lagging = new LaggingPeers(config.n);
    this.timers = [
      { timer: DETACHED_TIMER, everyMs: config.tempoDetachedIntervalMs },
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
    invariant(this.quorums.fast.length > 0, 'submit before discover');
    // A client's retry of a command some dot known here carries: that dot commits (or is recovered)
    // and executes here, and the replica answers then (common/client-retries.ts).
    if (this.retries.carrierOf(cmd.rifl) !== undefined) return;
    const dot = makeDot(this.id, ++this.lastSeq);
    const proposal = this.clocks.proposal(cmd, 0);
    const state = this.state(dot);
    state.status = 'COLLECT';
    state.quorum = this.quorums.fast;
    state.proposal = proposal.clock;
    state.synod.setInitialValue(proposal.clock);
    state.attached = proposal.votes;
    state.degraded = this.quorums.degraded;
    this.holdPayload(dot, state, cmd, now);
    this.outbox.send(this.others, { type: 'MCollect', dot, cmd, quorum: this.quorums.fast, clock: proposal.clock });
    // The coordinator's own answer: it voted just now, so it needs no MCollect to itself.
    this.collect(dot, state, this.id, proposal.clock, proposal.votes, now);
  }

  handle(from: ProcessId, msg: TempoMessage, now: Time): void {
    switch (msg.type) {
      case 'MCollect':
        return this.handleMCollect(from, msg, now);
      case 'MCollectAck':
        return this.handleMCollectAck(from, msg, now);
      case 'MConsensus':
        return this.handleMConsensus(from, msg);
      case 'MConsensusAck':
        return this.handleMConsensusAck(from, msg, now);
      case 'MCommit':
        return this.handleMCommit(msg, now);
      case 'MRec':
        return this.handleMRec(from, msg, now);
      case 'MRecAck':
        return this.handleMRecAck(from, msg);
      case 'MDetached':
        return this.handleMDetached(msg);
      case 'MAttached':
        return this.handleMAttached(msg);
      case 'MVotesRequest':
        return this.handleMVotesRequest(from, msg);
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg);
    }
  }

  onTimer(timer: string, now: Time): void {
    switch (timer) {
      case DETACHED_TIMER:
        if (this.clocks.hasDetached) this.outbox.send(this.all, { type: 'MDetached', votes: this.clocks.takeDetached() });
        return;
      case GC_TIMER:
        this.outbox.send(this.others, { type: 'MGarbageCollection', committed: this.committedFrontiers() });
        return;
      case RECOVERY_TIMER:
        this.recoverStuckDots(now);
        this.helpLaggingPeers(now);
        this.askForLostVotes(now);
        return;
      default:
        invariant(false, () => `tempo has no timer ${timer}`);
    }
  }

  /** Executor feedback: the dots whose part on some key ran (once per key). */
  executed(dots: readonly Dot[], _now: Time): void {
    for (const dot of dots) {
      const entry = this.unexecuted.get(dot);
      if (entry !== undefined && --entry.parts === 0) this.unexecuted.delete(dot);
    }
  }

  /**
   * The host's failure detector suspects `process`: commands proposed from now on use quorums without
   * it, and own commands whose fast quorum can no longer answer settle once a majority answered.
   */
  suspect(process: ProcessId, now: Time): void {
    this.quorums.suspect(process);
    this.degradeOwnDots(now);
  }

  /**
   * A new configuration: quorums are drawn from its members, only members' frontiers hold garbage
   * collection back, and gossip goes to members only.
   */
  reconfigure(configuration: Configuration, now: Time): void {
    this.quorums.setMembers(configuration.members);
    this.others = configuration.members.filter((p) => p !== this.id);
    this.member.fill(0);
    for (const p of configuration.members) this.member[p - 1] = 1;
    this.collectGarbage();
    this.degradeOwnDots(now);
  }

  /** Own commands still collecting whose fast quorum cannot answer any more: settle with a majority. */
  private degradeOwnDots(now: Time): void {
    if (!this.quorums.degraded) return;
    for (const [dot, state] of this.waiting) {
      if (dotSource(dot) !== this.id || state.status !== 'COLLECT' || state.settled || state.degraded) continue;
      state.degraded = true;
      this.settle(dot, state, now);
    }
  }

  unsuspect(process: ProcessId, _now: Time): void {
    this.quorums.unsuspect(process);
  }

  /** Per-command state held: what garbage collection keeps bounded. */
  heldState(): number {
    return this.dots.size;
  }

  drain(): readonly Output<TempoMessage, TempoInfo>[] {
    return this.outbox.drain();
  }

  metrics(): ProtocolMetrics {
    return { fastPath: this.fastPaths, slowPath: this.slowPaths, recovered: this.recovered };
  }

  /** This process's clock for `key`. */
  clockOf(key: Key): number {
    return this.clocks.clock(key);
  }

  /** Dots whose state this process still holds (in flight, or committed but not collected yet). */
  get dotCount(): number {
    return this.dots.size;
  }

  /** Dots of `source` at or below this were committed everywhere and dropped here. */
  collectedUpToOf(source: ProcessId): number {
    return this.collectedUpTo[source - 1]!;
  }

  private state(dot: Dot): DotState {
    let state = this.dots.get(dot);
    if (state === undefined) {
      invariant(this.dots.size < DOTS_MAX, () => `tempo holds more than DOTS_MAX=${DOTS_MAX} dots`);
      state = {
        status: 'START',
        cmd: undefined,
        quorum: [],
        synod: new Synod(),
        proposal: 0,
        attached: [],
        votes: [],
        acked: [],
        maxClock: 0,
        maxCount: 0,
        degraded: false,
        settled: false,
        bufferedCommit: undefined,
        bufferedAttached: [],
        commitVotes: [],
        waitingSinceMs: 0,
        attempts: 0,
        recovery: undefined,
      };
      this.dots.set(dot, state);
    }
    return state;
  }

  /** True for a dot committed everywhere whose state was dropped: later messages about it are stale. */
  private collected(dot: Dot): boolean {
    return dotSeq(dot) <= this.collectedUpTo[dotSource(dot) - 1]!;
  }

  /** The payload is known here from now on; until the dot commits, the recovery timer watches it. */
  private holdPayload(dot: Dot, state: DotState, cmd: Command, now: Time): void {
    state.cmd = cmd;
    this.retries.learn(cmd.rifl, dot);
    if (state.status === 'COMMIT' || this.waiting.has(dot)) return;
    state.waitingSinceMs = now;
    this.waiting.set(dot, state);
  }

  private handleMCollect(from: ProcessId, msg: MCollect, now: Time): void {
    if (this.collected(msg.dot)) return;
    const state = this.state(msg.dot);
    // Not START: a duplicate, or this process joined a recovery first (RECOVER_R): its promise stands.
    if (state.status !== 'START') return;
    state.quorum = msg.quorum;
    // Out of the fast quorum, or promised a recovery ballot (always above n) before the MCollect came:
    // no proposal (the recovery did not count one), only the payload, to recover the dot if need be.
    if (!msg.quorum.includes(this.id) || state.synod.bal > this.config.n) {
      state.status = 'PAYLOAD';
      state.cmd = msg.cmd;
      if (state.bufferedCommit !== undefined) this.commit(msg.dot, state, state.bufferedCommit, now);
      else this.holdPayload(msg.dot, state, msg.cmd, now);
      return;
    }
    const proposal = this.clocks.proposal(msg.cmd, msg.clock);
    state.status = 'COLLECT';
    state.proposal = proposal.clock;
    // The proposal is the initial value only while nothing was accepted (an MConsensus overtaking
    // the payload on a non-FIFO link has set abal); an accepted value is never overwritten.
    state.synod.setInitialValue(proposal.clock);
    state.attached = proposal.votes;
    this.outbox.send([from], { type: 'MCollectAck', dot: msg.dot, clock: proposal.clock, votes: proposal.votes });
    // A commit can overtake the payload only on non-FIFO links; the votes above still went out.
    state.cmd = msg.cmd;
    if (state.bufferedCommit !== undefined) this.commit(msg.dot, state, state.bufferedCommit, now);
    else this.holdPayload(msg.dot, state, msg.cmd, now);
  }

  private handleMCollectAck(from: ProcessId, msg: MCollectAck, now: Time): void {
    const state = this.dots.get(msg.dot);
    // Only in COLLECT: a coordinator that promised a recovery ballot (RECOVER_P) must not decide any more.
    if (state === undefined || state.status !== 'COLLECT' || dotSource(msg.dot) !== this.id) return;
    this.collect(msg.dot, state, from, msg.clock, msg.votes, now);
  }

  /** The coordinator takes one fast-quorum member's proposal; decides once all have answered. */
  private collect(dot: Dot, state: DotState, from: ProcessId, clock: number, votes: readonly Vote[], now: Time): void {
    if (state.settled || state.acked.includes(from)) return;
    state.acked.push(from);
    for (let i = 0; i < votes.length; i++) state.votes.push(votes[i]!);
    if (clock > state.maxClock) {
      state.maxClock = clock;
      state.maxCount = 1;
    } else if (clock === state.maxClock) {
      state.maxCount++;
    }
    // Raising the coordinator's own clocks early keeps its next proposals above this one [F].
    if (from !== this.id) this.clocks.bump(state.cmd!, state.maxClock);
    this.settle(dot, state, now);
  }

  /**
   * Once the whole fast quorum answered: the fast path when enough proposed the highest timestamp,
   * else the slow path. Degraded (the fast quorum cannot answer): the slow path once a majority
   * answered, with the highest of their proposals — a majority's proposals keep stability sound,
   * since every majority that votes past the timestamp shares a process with it.
   */
  private settle(dot: Dot, state: DotState, now: Time): void {
    if (state.acked.length < (state.degraded ? this.majority : state.quorum.length)) return;
    state.settled = true;
    if (!state.degraded && state.maxCount >= this.threshold) {
      this.fastPaths++;
      this.decided(dot, state, state.maxClock, state.votes, false, now);
      return;
    }
    this.slowPaths++;
    // Round 0 of the dot's consensus belongs to its coordinator: ballot = its id, no phase 1.
    const ballot = Synod.roundZeroBallot(this.id);
    state.synod.propose(ballot, state.maxClock);
    this.outbox.send(this.quorums.write, { type: 'MConsensus', dot, ballot, clock: state.maxClock });
  }

  /**
   * The timestamp is chosen: record the commit here first (PROTOCOLS.md §7.1, "deciding means
   * recording": a later MRec must find this process committed, not promising), then tell the others.
   */
  private decided(dot: Dot, state: DotState, clock: number, votes: readonly Vote[], withPayload: boolean, now: Time): void {
    const msg: MCommit = withPayload ? { type: 'MCommit', dot, clock, votes, cmd: state.cmd! } : { type: 'MCommit', dot, clock, votes };
    this.commit(dot, state, msg, now);
    this.outbox.send(this.others, msg);
  }

  /** The MCommit of a dot committed here, with the payload, for a process that may lack both. */
  private commitMessage(dot: Dot, state: DotState): MCommit {
    return { type: 'MCommit', dot, clock: state.synod.chosen!, votes: state.commitVotes, cmd: state.cmd! };
  }

  private handleMConsensus(from: ProcessId, msg: MConsensus): void {
    if (this.collected(msg.dot)) return;
    const state = this.state(msg.dot);
    if (state.status === 'COMMIT') {
      this.outbox.send([from], this.commitMessage(msg.dot, state));
      return;
    }
    if (state.cmd !== undefined) this.clocks.bump(state.cmd, msg.clock);
    const outcome = state.synod.accept(msg.ballot, msg.clock);
    // Rejected: a higher ballot is recovering the dot; its owner (or this process's timer) finishes it.
    if (outcome.kind === 'accepted') this.outbox.send([from], { type: 'MConsensusAck', dot: msg.dot, ballot: msg.ballot });
  }

  private handleMConsensusAck(from: ProcessId, msg: MConsensusAck, now: Time): void {
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === 'COMMIT') return;
    const clock = state.synod.accepted(from, msg.ballot, writeQuorumSize(this.config.f));
    if (clock === undefined) return;
    if (msg.ballot === Synod.roundZeroBallot(this.id)) {
      this.decided(msg.dot, state, clock, state.votes, false, now);
      return;
    }
    // A recovery: the promisers' attached votes travel with the commit; voters left out send MAttached.
    this.recovered++;
    this.decided(msg.dot, state, clock, state.recovery?.votes ?? [], true, now);
  }

  private handleMCommit(msg: MCommit, now: Time): void {
    if (this.collected(msg.dot)) return;
    const state = this.state(msg.dot);
    if (state.status === 'COMMIT') return;
    if (state.cmd === undefined && msg.cmd !== undefined) state.cmd = msg.cmd;
    if (state.cmd === undefined) {
      state.bufferedCommit = msg;
      return;
    }
    this.commit(msg.dot, state, msg, now);
  }

  /** Commits the dot: executor infos per key, clock bumps, and the MAttached fallback. */
  private commit(dot: Dot, state: DotState, msg: MCommit, now: Time): void {
    const cmd = state.cmd!;
    this.retries.learn(cmd.rifl, dot);
    state.status = 'COMMIT';
    state.bufferedCommit = undefined;
    state.recovery = undefined;
    state.synod.choose(msg.clock);
    state.commitVotes = msg.votes;
    state.votes = [];
    state.acked = [];
    this.waiting.delete(dot);
    this.unexecuted.set(dot, { keys: cmd.keys.map((keyOps) => keyOps.key), parts: cmd.keys.length, sinceMs: now, attempts: 0 });
    if (cmd.keys.length === 1) {
      const keyOps = cmd.keys[0]!;
      this.outbox.execute({ type: 'Committed', key: keyOps.key, dot, clock: msg.clock, rifl: cmd.rifl, ops: keyOps.ops, keys: [keyOps.key], votes: msg.votes });
    } else {
      const keys = cmd.keys.map((keyOps) => keyOps.key);
      for (const keyOps of cmd.keys) {
        const votes = msg.votes.filter((vote) => vote.key === keyOps.key);
        this.outbox.execute({ type: 'Committed', key: keyOps.key, dot, clock: msg.clock, rifl: cmd.rifl, ops: keyOps.ops, keys, votes });
      }
    }
    if (state.bufferedAttached.length > 0) {
      this.emitDetached(state.bufferedAttached);
      state.bufferedAttached = [];
    }
    this.clocks.bump(cmd, msg.clock);
    if (state.attached.length > 0 && !msg.votes.some((vote) => vote.by === this.id)) {
      this.outbox.send(this.all, { type: 'MAttached', dot, votes: state.attached });
    }
    this.committed.add(dotSource(dot), dotSeq(dot));
  }

  private handleMDetached(msg: MDetached): void {
    this.emitDetached(msg.votes);
  }

  private handleMAttached(msg: MAttached): void {
    if (this.collected(msg.dot) || this.dots.get(msg.dot)?.status === 'COMMIT') {
      this.emitDetached(msg.votes);
      return;
    }
    const state = this.state(msg.dot);
    // A vote table is a set union: a repeated MAttached (answers to MVotesRequest) adds nothing new,
    // so only votes not buffered yet are kept (askers repeat their requests until they can execute).
    for (const vote of msg.votes) {
      const buffered = state.bufferedAttached;
      if (!buffered.some((b) => b.key === vote.key && b.by === vote.by && b.start === vote.start && b.end === vote.end)) buffered.push(vote);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Recovery (PROTOCOLS.md §7.1, §7.4) and repair after lost messages.

  /** Starts a recovery for every dot this process has waited on for its (staggered, backed-off) time. */
  private recoverStuckDots(now: Time): void {
    for (const [dot, state] of this.waiting) {
      const coordinator = dotSource(dot);
      const waitMs = recoveryWaitMs({ timeoutMs: this.config.recoveryTimeoutMs, n: this.config.n, self: this.id, coordinator, attempts: state.attempts, coordinatorSuspected: this.quorums.suspects(coordinator), subject: dot });
      if (now - state.waitingSinceMs < waitMs) continue;
      state.attempts++;
      state.waitingSinceMs = now;
      const ballot = state.synod.recoveryBallot(this.id, this.config.n);
      state.recovery = { ballot, promises: new Map(), votes: [] };
      state.synod.observe(ballot);
      this.outbox.send(this.all, { type: 'MRec', dot, ballot, cmd: state.cmd!, quorum: state.quorum });
    }
  }

  /**
   * Another process's recovery of the dot is under way (this process just promised its ballot): this
   * process's own next attempt waits its full time from now, so that the rival can finish instead of
   * being pre-empted (one recovery of a dot at a time, as far as possible).
   */
  private postponeForRival(from: ProcessId, state: DotState, now: Time): void {
    if (from !== this.id && state.status !== 'COMMIT') state.waitingSinceMs = now;
  }

  private handleMRec(from: ProcessId, msg: MRec, now: Time): void {
    if (this.collected(msg.dot)) return; // committed everywhere, the recovering process included
    const state = this.state(msg.dot);
    // Helping: the dot is decided; the recovering process only needs to learn it.
    if (state.status === 'COMMIT') {
      this.outbox.send([from], this.commitMessage(msg.dot, state));
      return;
    }
    if (state.cmd === undefined) {
      state.quorum = msg.quorum;
      state.cmd = msg.cmd;
      if (state.bufferedCommit !== undefined) {
        this.commit(msg.dot, state, state.bufferedCommit, now);
        this.outbox.send([from], this.commitMessage(msg.dot, state));
        return;
      }
      this.holdPayload(msg.dot, state, msg.cmd, now);
    }
    const outcome = state.synod.prepare(msg.ballot);
    if (outcome.kind !== 'promised') return; // a lower ballot: its owner retries higher after a timeout
    this.postponeForRival(from, state, now);
    if (state.status === 'START' || state.status === 'PAYLOAD') {
      // Never proposed: propose now (its votes are attached to the dot, like a fast-quorum member's).
      const proposal = this.clocks.proposal(msg.cmd, 0);
      state.proposal = proposal.clock;
      state.attached = proposal.votes;
      state.status = 'RECOVER_R';
    } else if (state.status === 'COLLECT') {
      state.status = 'RECOVER_P';
    }
    this.outbox.send([from], {
      type: 'MRecAck',
      dot: msg.dot,
      ballot: msg.ballot,
      proposal: state.proposal,
      votes: state.attached,
      phase: state.status === 'RECOVER_R' ? 'RECOVER_R' : 'RECOVER_P',
      abal: outcome.abal,
      aval: outcome.abal > 0 ? outcome.aval! : 0,
    });
  }

  private handleMRecAck(from: ProcessId, msg: MRecAck): void {
    if (this.collected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    const recovery = state?.recovery;
    if (state === undefined || recovery === undefined || msg.ballot !== recovery.ballot || recovery.promises.size >= this.recoveryQuorumSize) return;
    recovery.promises.set(from, msg);
    if (recovery.promises.size < this.recoveryQuorumSize) return;
    const chosen = recoveredTimestamp(dotSource(msg.dot), state.quorum, recovery.promises);
    recovery.votes = chosen.votes;
    state.synod.propose(msg.ballot, chosen.clock);
    this.outbox.send(this.all, { type: 'MConsensus', dot: msg.dot, ballot: msg.ballot, clock: chosen.clock });
  }

  /** Resends commits to peers whose gossip shows them stuck below this process (lost MCommits). */
  private helpLaggingPeers(now: Time): void {
    const n = this.config.n;
    for (const peer of this.others) {
      const reported = this.committedBy[peer - 1]!;
      for (let source = 1; source <= n; source++) {
        const mine = this.committed.set(source).frontier;
        const due = this.lagging.due(peer, source, reported[source - 1]!, mine, now, this.config.recoveryTimeoutMs);
        if (due === undefined) continue;
        for (let seq = due.from; seq <= due.to; seq++) {
          const dot = makeDot(source, seq);
          const state = this.dots.get(dot);
          if (state === undefined || state.status !== 'COMMIT') continue; // collected: the peer has it
          this.outbox.send([peer], this.commitMessage(dot, state));
        }
      }
    }
  }

  /** Commands committed here that have not run for a (backed-off) timeout: ask for the votes on their keys. */
  private askForLostVotes(now: Time): void {
    const keys = new Set<Key>();
    for (const entry of this.unexecuted.values()) {
      const waitMs = recoveryWaitMs({ timeoutMs: this.config.recoveryTimeoutMs, n: 1, self: 1, coordinator: 1, attempts: entry.attempts });
      if (now - entry.sinceMs < waitMs) continue;
      entry.attempts++;
      entry.sinceMs = now;
      for (const key of entry.keys) keys.add(key);
    }
    if (keys.size > 0) this.outbox.send(this.others, { type: 'MVotesRequest', keys: [...keys].sort() });
  }

  /**
   * Every vote this process may reveal on the asked keys. Its votes on a key are exactly 1..clock
   * (each vote moves the clock past it); those attached to a dot still held here go as MAttached
   * (the asker applies them once it committed that dot), the rest as MDetached: they are detached,
   * or attached to a dot committed everywhere already.
   */
  private handleMVotesRequest(from: ProcessId, msg: MVotesRequest): void {
    const asked = new Set(msg.keys);
    const held = new Map<Key, Array<{ start: number; end: number }>>();
    const reported = this.committedBy[from - 1]!;
    for (const [dot, state] of this.dots) {
      const votes = state.attached.filter((vote) => asked.has(vote.key));
      if (votes.length === 0) continue;
      // The asker applies attached votes once it has committed their dot. A commit of ours above
      // the asker's reported frontier may be one it never got (its MCommit lost, and the catch-up
      // resends only up to our frontier, not the commits above a hole): send it along.
      if (state.status === 'COMMIT' && dotSeq(dot) > reported[dotSource(dot) - 1]!) this.outbox.send([from], this.commitMessage(dot, state));
      this.outbox.send([from], { type: 'MAttached', dot, votes });
      for (const vote of votes) {
        let ranges = held.get(vote.key);
        if (ranges === undefined) held.set(vote.key, (ranges = []));
        ranges.push({ start: vote.start, end: vote.end });
      }
    }
    const detached: Vote[] = [];
    for (const key of [...asked].sort()) {
      const ranges = (held.get(key) ?? []).sort((a, b) => a.start - b.start);
      let next = 1;
      for (const range of ranges) {
        if (range.start > next) detached.push({ key, by: this.id, start: next, end: range.start - 1 });
        next = Math.max(next, range.end + 1);
      }
      const clock = this.clocks.clock(key);
      if (clock >= next) detached.push({ key, by: this.id, start: next, end: clock });
    }
    if (detached.length > 0) this.outbox.send([from], { type: 'MDetached', votes: detached });
  }

  /** Hands votes to the executor, one Detached info per run of votes on the same key. */
  private emitDetached(votes: readonly Vote[]): void {
    let start = 0;
    for (let i = 1; i <= votes.length; i++) {
      if (i < votes.length && votes[i]!.key === votes[start]!.key) continue;
      const run = start === 0 && i === votes.length ? votes : votes.slice(start, i);
      if (run.length > 0) this.outbox.execute({ type: 'Detached', key: run[0]!.key, votes: run });
      start = i;
    }
  }

  private committedFrontiers(): number[] {
    const frontiers = new Array<number>(this.config.n);
    for (let source = 1; source <= this.config.n; source++) frontiers[source - 1] = this.committed.set(source).frontier;
    return frontiers;
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection): void {
    invariant(msg.committed.length === this.config.n, () => `MGarbageCollection from ${from} has ${msg.committed.length} frontiers for n=${this.config.n}`);
    // Frontiers only grow; a reordered, older report must not move one back.
    const reported = this.committedBy[from - 1]!;
    for (let i = 0; i < reported.length; i++) if (msg.committed[i]! > reported[i]!) reported[i] = msg.committed[i]!;
    this.collectGarbage();
  }

  /** Drops the state of dots every process has committed. */
  private collectGarbage(): void {
    const own = this.committedFrontiers();
    for (let source = 1; source <= this.config.n; source++) {
      let stable = own[source - 1]!;
      for (let p = 1; p <= this.config.n; p++) {
        if (p !== this.id && this.member[p - 1] === 1) stable = Math.min(stable, this.committedBy[p - 1]![source - 1]!);
      }
      const from = this.collectedUpTo[source - 1]!;
      for (let seq = from + 1; seq <= stable; seq++) {
        const dot = makeDot(source, seq);
        invariant(this.dots.get(dot)?.status !== 'START', () => `collecting ${formatDot(dot)} that is not committed here`);
        this.dots.delete(dot);
        this.waiting.delete(dot);
      }
      if (stable > from) this.collectedUpTo[source - 1] = stable;
    }
  }
}

/**
 * The recovery rule of PROTOCOLS.md §7.4, from n − f promises, and the votes the commit carries (every
 * promiser's attached votes):
 * 1. some promise accepted a timestamp: the one accepted at the highest ballot;
 * 2. the coordinator promised, or a fast-quorum member had not proposed (RECOVER_R): the fast path
 *    cannot have been taken; the highest proposal of all promises;
 * 3. otherwise the highest proposal of the fast quorum's promises, which equals a fast-path decision:
 *    it was proposed by the coordinator (then by every member) or by f members other than the
 *    coordinator, at most f − 1 of which are missing here, and no member proposed more.
 */
export function recoveredTimestamp(coordinator: ProcessId, quorum: readonly ProcessId[], promises: ReadonlyMap<ProcessId, MRecAck>): { clock: number; votes: Vote[] } {
  const from = [...promises.keys()].sort((a, b) => a - b);
  const votes: Vote[] = [];
  for (const p of from) for (const vote of promises.get(p)!.votes) votes.push(vote);
  let best: MRecAck | undefined;
  for (const p of from) {
    const promise = promises.get(p)!;
    if (promise.abal > 0 && (best === undefined || promise.abal > best.abal)) best = promise;
  }
  if (best !== undefined) return { clock: best.aval, votes };
  const fastPathImpossible = promises.has(coordinator) || from.some((p) => quorum.includes(p) && promises.get(p)!.phase === 'RECOVER_R');
  let clock = 0;
  for (const p of from) if (fastPathImpossible || quorum.includes(p)) clock = Math.max(clock, promises.get(p)!.proposal);
  invariant(clock > 0, 'tempo recovery: no proposal among the promises');
  return { clock, votes };
}
