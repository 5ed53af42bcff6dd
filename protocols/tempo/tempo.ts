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
 * Quorums: fast ⌊n/2⌋ + f (the coordinator's closest, itself included); fast-path threshold f;
 * slow path f+1 acceptors; recovery (a later issue) n − f; stability ⌊n/2⌋ + 1.
 */
import type { Command, Key } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { FrontierMap } from '../../core/frontier.js';
import { dotSeq, dotSource, formatDot, makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { closestQuorum, fastPathThreshold, leaderlessFastQuorumSize, writeQuorumSize } from '../../core/quorum.js';
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
  TempoFaultInjection,
  TempoInfo,
  TempoMessage,
  Vote,
} from './messages.js';

/** Where a dot stands at this process; the RECOVER_* phases belong to recovery (a later issue). */
export type DotStatus = 'START' | 'PAYLOAD' | 'COLLECT' | 'COMMIT' | 'RECOVER_R' | 'RECOVER_P';

/** Per-dot state. The single-decree consensus fields stay separate (bal ≠ abal, PROTOCOLS.md §1.5). */
interface DotState {
  status: DotStatus;
  cmd: Command | undefined;
  quorum: readonly ProcessId[];
  /** Synod acceptor: promised ballot, ballot of the accepted value, accepted value (a timestamp). */
  bal: number;
  abal: number;
  aval: number;
  /** The votes this process attached to the dot (its proposal), for MAttached. */
  attached: readonly Vote[];
  /** Coordinator: votes gathered from the fast quorum, and who answered. */
  votes: Vote[];
  acked: ProcessId[];
  maxClock: number;
  maxCount: number;
  /** Coordinator on the slow path: acceptors that accepted its ballot. */
  consensusAcks: ProcessId[];
  /** A commit that arrived before the payload. */
  bufferedCommit: MCommit | undefined;
  /** MAttached votes that arrived before the commit. */
  bufferedAttached: Vote[];
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
  private fastQuorum: readonly ProcessId[] = [];
  private writeQuorum: readonly ProcessId[] = [];
  private readonly threshold: number;
  private lastSeq = 0;
  private fastPaths = 0;
  private slowPaths = 0;

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
    this.threshold = this.injected.fastPathThreshold ?? fastPathThreshold(config.n, leaderlessFastQuorumSize(config.n, config.f));
    this.committedBy = Array.from({ length: config.n }, () => new Array<number>(config.n).fill(0));
    this.collectedUpTo = new Array<number>(config.n).fill(0);
    this.timers = [
      { timer: DETACHED_TIMER, everyMs: config.tempoDetachedIntervalMs },
      { timer: GC_TIMER, everyMs: config.gcIntervalMs },
    ];
  }

  discover(sortedByDistance: readonly ProcessId[]): void {
    invariant(sortedByDistance[0] === this.id, 'discover: a process must come first in its own list');
    invariant(sortedByDistance.length === this.config.n, () => `discover: ${sortedByDistance.length} processes for n=${this.config.n}`);
    this.all = [...sortedByDistance].sort((a, b) => a - b);
    this.others = this.all.filter((p) => p !== this.id);
    this.fastQuorum = closestQuorum(sortedByDistance, this.injected.fastQuorumSize ?? leaderlessFastQuorumSize(this.config.n, this.config.f));
    this.writeQuorum = closestQuorum(sortedByDistance, writeQuorumSize(this.config.f));
  }

  submit(cmd: Command, _now: Time): void {
    invariant(this.fastQuorum.length > 0, 'submit before discover');
    const dot = makeDot(this.id, ++this.lastSeq);
    const proposal = this.clocks.proposal(cmd, 0);
    const state = this.state(dot);
    state.status = 'COLLECT';
    state.cmd = cmd;
    state.quorum = this.fastQuorum;
    state.aval = proposal.clock;
    state.attached = proposal.votes;
    this.outbox.send(this.others, { type: 'MCollect', dot, cmd, quorum: this.fastQuorum, clock: proposal.clock });
    // The coordinator's own answer: it voted just now, so it needs no MCollect to itself.
    this.collect(dot, state, this.id, proposal.clock, proposal.votes);
  }

  handle(from: ProcessId, msg: TempoMessage, _now: Time): void {
    switch (msg.type) {
      case 'MCollect':
        return this.handleMCollect(from, msg);
      case 'MCollectAck':
        return this.handleMCollectAck(from, msg);
      case 'MConsensus':
        return this.handleMConsensus(from, msg);
      case 'MConsensusAck':
        return this.handleMConsensusAck(from, msg);
      case 'MCommit':
        return this.handleMCommit(msg);
      case 'MDetached':
        return this.handleMDetached(msg);
      case 'MAttached':
        return this.handleMAttached(msg);
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg);
    }
  }

  onTimer(timer: string, _now: Time): void {
    switch (timer) {
      case DETACHED_TIMER:
        if (this.clocks.hasDetached) this.outbox.send(this.all, { type: 'MDetached', votes: this.clocks.takeDetached() });
        return;
      case GC_TIMER:
        this.outbox.send(this.others, { type: 'MGarbageCollection', committed: this.committedFrontiers() });
        return;
      default:
        invariant(false, () => `tempo has no timer ${timer}`);
    }
  }

  drain(): readonly Output<TempoMessage, TempoInfo>[] {
    return this.outbox.drain();
  }

  metrics(): ProtocolMetrics {
    return { fastPath: this.fastPaths, slowPath: this.slowPaths };
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
        bal: 0,
        abal: 0,
        aval: 0,
        attached: [],
        votes: [],
        acked: [],
        maxClock: 0,
        maxCount: 0,
        consensusAcks: [],
        bufferedCommit: undefined,
        bufferedAttached: [],
      };
      this.dots.set(dot, state);
    }
    return state;
  }

  /** True for a dot committed everywhere whose state was dropped: later messages about it are stale. */
  private collected(dot: Dot): boolean {
    return dotSeq(dot) <= this.collectedUpTo[dotSource(dot) - 1]!;
  }

  private handleMCollect(from: ProcessId, msg: MCollect): void {
    if (this.collected(msg.dot)) return;
    const state = this.state(msg.dot);
    if (state.status !== 'START') return;
    state.cmd = msg.cmd;
    state.quorum = msg.quorum;
    if (!msg.quorum.includes(this.id)) {
      state.status = 'PAYLOAD';
      if (state.bufferedCommit !== undefined) this.commit(msg.dot, state, state.bufferedCommit);
      return;
    }
    const proposal = this.clocks.proposal(msg.cmd, msg.clock);
    state.status = 'COLLECT';
    // The proposal is the initial value only while nothing was accepted (an MConsensus overtaking
    // the payload on a non-FIFO link has set abal); an accepted value is never overwritten.
    if (state.abal === 0) state.aval = proposal.clock;
    state.attached = proposal.votes;
    this.outbox.send([from], { type: 'MCollectAck', dot: msg.dot, clock: proposal.clock, votes: proposal.votes });
    // A commit can overtake the payload only on non-FIFO links; the votes above still went out.
    if (state.bufferedCommit !== undefined) this.commit(msg.dot, state, state.bufferedCommit);
  }

  private handleMCollectAck(from: ProcessId, msg: MCollectAck): void {
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status !== 'COLLECT' || dotSource(msg.dot) !== this.id) return;
    this.collect(msg.dot, state, from, msg.clock, msg.votes);
  }

  /** The coordinator takes one fast-quorum member's proposal; decides once all have answered. */
  private collect(dot: Dot, state: DotState, from: ProcessId, clock: number, votes: readonly Vote[]): void {
    if (state.acked.includes(from)) return;
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
    if (state.acked.length < state.quorum.length) return;
    if (state.maxCount >= this.threshold) {
      this.fastPaths++;
      this.outbox.send(this.all, { type: 'MCommit', dot, clock: state.maxClock, votes: state.votes });
      return;
    }
    this.slowPaths++;
    // Round 0 of the dot's consensus belongs to its coordinator: ballot = its id, no phase 1.
    this.outbox.send(this.writeQuorum, { type: 'MConsensus', dot, ballot: this.id, clock: state.maxClock });
  }

  private handleMConsensus(from: ProcessId, msg: MConsensus): void {
    if (this.collected(msg.dot)) return;
    const state = this.state(msg.dot);
    // Chosen already: only a recovering proposer (a later issue) could ask; it will learn the commit.
    if (state.status === 'COMMIT') return;
    if (state.cmd !== undefined) this.clocks.bump(state.cmd, msg.clock);
    if (msg.ballot < state.bal) return;
    state.bal = msg.ballot;
    state.abal = msg.ballot;
    state.aval = msg.clock;
    this.outbox.send([from], { type: 'MConsensusAck', dot: msg.dot, ballot: msg.ballot });
  }

  private handleMConsensusAck(from: ProcessId, msg: MConsensusAck): void {
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status !== 'COLLECT' || msg.ballot !== this.id || dotSource(msg.dot) !== this.id) return;
    if (state.consensusAcks.includes(from)) return;
    state.consensusAcks.push(from);
    if (state.consensusAcks.length < writeQuorumSize(this.config.f)) return;
    this.outbox.send(this.all, { type: 'MCommit', dot: msg.dot, clock: state.maxClock, votes: state.votes });
  }

  private handleMCommit(msg: MCommit): void {
    if (this.collected(msg.dot)) return;
    const state = this.state(msg.dot);
    if (state.status === 'COMMIT') return;
    if (state.cmd === undefined) {
      state.bufferedCommit = msg;
      return;
    }
    this.commit(msg.dot, state, msg);
  }

  /** Commits the dot: executor infos per key, clock bumps, and the MAttached fallback. */
  private commit(dot: Dot, state: DotState, msg: MCommit): void {
    const cmd = state.cmd!;
    state.status = 'COMMIT';
    state.bufferedCommit = undefined;
    state.aval = msg.clock;
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
    for (const vote of msg.votes) state.bufferedAttached.push(vote);
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
        if (p !== this.id) stable = Math.min(stable, this.committedBy[p - 1]![source - 1]!);
      }
      const from = this.collectedUpTo[source - 1]!;
      for (let seq = from + 1; seq <= stable; seq++) {
        const dot = makeDot(source, seq);
        invariant(this.dots.get(dot)?.status !== 'START', () => `collecting ${formatDot(dot)} that is not committed here`);
        this.dots.delete(dot);
      }
      if (stable > from) this.collectedUpTo[source - 1] = stable;
    }
  }
}
