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
 * Quorums: fast ⌊n/2⌋ + f closest to the coordinator, itself included; slow (Flexible Paxos phase 2)
 * f + 1; fast-path threshold |fast quorum| − ⌊n/2⌋ = f. With f = 1 every dependency qualifies, so
 * the fast path is always taken.
 *
 * Dependencies come from the Option-F index (common/dependency-index.ts). Garbage collection
 * (common/garbage-collector.ts) drops a dot's state once every process committed it, and prunes the
 * index once every process executed it; the coordinator also drops executed-everywhere dots from the
 * reports before counting them, so that members that pruned at different moments still agree.
 */
import type { Command } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { closestQuorum, fastPathThreshold, leaderlessFastQuorumSize, writeQuorumSize } from '../../core/quorum.js';
import { DependencyIndex } from '../common/dependency-index.js';
import { sameDeps, unionDeps, withoutDeps } from '../common/deps.js';
import { GarbageCollector } from '../common/garbage-collector.js';
import type { GraphInfo } from '../common/graph-executor.js';
import { Synod } from '../common/synod.js';
import type { AtlasMessage, AtlasValue, MCollect, MCollectAck, MCommit, MConsensus, MConsensusAck, MGarbageCollection } from './messages.js';

/** Per-dot status (PROTOCOLS.md §3.1, shared with EPaxos). */
const enum Status {
  /** Nothing known but perhaps a buffered commit. */
  Start,
  /** The payload is known; this process is not in the fast quorum. */
  Payload,
  /** In the fast quorum: proposed (coordinator) or reported (member). */
  Collect,
  Commit,
}

interface DotState {
  status: Status;
  cmd: Command | undefined;
  readonly synod: Synod<AtlasValue>;
  /** Coordinator only: the fast-quorum reports so far (its own included), and who sent them. */
  reports: (readonly Dot[])[] | undefined;
  reportedBy: ProcessId[] | undefined;
  /** A commit that arrived before the payload. */
  bufferedCommit: AtlasValue | undefined;
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
  private fastQuorum: readonly ProcessId[] = [];
  private writeQuorum: readonly ProcessId[] = [];
  private lastSeq = 0;
  private readonly dots = new Map<Dot, DotState>();
  private readonly index = new DependencyIndex();
  private readonly gc: GarbageCollector;
  private fastPath = 0;
  private slowPath = 0;
  private readonly collect = (dot: Dot) => this.dots.delete(dot);
  private readonly prune = (dot: Dot) => this.index.prune(dot);
  private readonly executedEverywhere = (dot: Dot) => this.gc.isExecutedEverywhere(dot);

  constructor(
    readonly id: ProcessId,
    private readonly config: Config,
  ) {
    this.fastQuorumSize = leaderlessFastQuorumSize(config.n, config.f);
    this.slowQuorumSize = writeQuorumSize(config.f);
    this.threshold = fastPathThreshold(config.n, this.fastQuorumSize);
    invariant(this.threshold >= 1, () => `atlas: fast-path threshold ${this.threshold} for n=${config.n}, f=${config.f}`);
    this.gc = new GarbageCollector(id, config.n);
    this.timers = [{ timer: GC_TIMER, everyMs: config.gcIntervalMs }];
  }

  discover(sortedByDistance: readonly ProcessId[]): void {
    invariant(sortedByDistance[0] === this.id, 'discover: a process must come first in its own list');
    invariant(sortedByDistance.length === this.config.n, () => `discover: ${sortedByDistance.length} processes for n=${this.config.n}`);
    this.all = [...sortedByDistance].sort((a, b) => a - b);
    this.others = this.all.filter((p) => p !== this.id);
    this.fastQuorum = closestQuorum(sortedByDistance, this.fastQuorumSize);
    this.writeQuorum = closestQuorum(sortedByDistance, this.slowQuorumSize);
  }

  submit(cmd: Command, _now: Time): void {
    const dot = makeDot(this.id, ++this.lastSeq);
    const past = this.index.conflicts(cmd);
    this.index.register(dot, cmd, 0);
    // The coordinator acks itself by recording `past` as its own report directly rather than through a
    // message to itself, so a host that delivers self-messages late cannot make it drop early reports.
    const state = this.state(dot);
    state.status = Status.Collect;
    state.cmd = cmd;
    state.synod.setInitialValue({ isNoop: false, deps: past });
    state.reports = [past];
    state.reportedBy = [this.id];
    this.outbox.send(this.others, { type: 'MCollect', dot, cmd, deps: past, quorum: this.fastQuorum });
  }

  handle(from: ProcessId, msg: AtlasMessage, _now: Time): void {
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
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg);
    }
  }

  onTimer(timer: string, _now: Time): void {
    invariant(timer === GC_TIMER, () => `atlas has no timer ${timer}`);
    const report = this.gc.report();
    this.outbox.send(this.others, { type: 'MGarbageCollection', committed: report.committed, executed: report.executed });
  }

  executed(dots: readonly Dot[], _now: Time): void {
    for (const dot of dots) this.gc.execute(dot);
  }

  drain(): readonly Output<AtlasMessage, GraphInfo>[] {
    return this.outbox.drain();
  }

  metrics(): ProtocolMetrics {
    return { fastPath: this.fastPath, slowPath: this.slowPath };
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
      state = { status: Status.Start, cmd: undefined, synod: new Synod(), reports: undefined, reportedBy: undefined, bufferedCommit: undefined };
      this.dots.set(dot, state);
    }
    return state;
  }

  private handleMCollect(from: ProcessId, msg: MCollect): void {
    if (this.gc.isCollected(msg.dot)) return; // late: committed everywhere already
    const state = this.state(msg.dot);
    if (state.status !== Status.Start) return;
    state.cmd = msg.cmd;
    if (!msg.quorum.includes(this.id)) {
      state.status = Status.Payload;
    } else {
      const deps = unionDeps(msg.deps, this.index.conflicts(msg.cmd));
      this.index.register(msg.dot, msg.cmd, 0);
      state.status = Status.Collect;
      state.synod.setInitialValue({ isNoop: false, deps });
      if (state.bufferedCommit === undefined) this.outbox.send([from], { type: 'MCollectAck', dot: msg.dot, deps });
    }
    if (state.bufferedCommit !== undefined) this.commit(msg.dot, state, state.bufferedCommit);
  }

  private handleMCollectAck(from: ProcessId, msg: MCollectAck): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status !== Status.Collect) return;
    const reports = state.reports;
    const reportedBy = state.reportedBy;
    if (reports === undefined || reportedBy === undefined || reportedBy.includes(from)) return;
    reports.push(msg.deps);
    reportedBy.push(from);
    if (reports.length < this.fastQuorumSize) return;
    state.reports = undefined;
    state.reportedBy = undefined;

    // Dependencies executed at every process cannot be reordered any more; dropping them (all at once,
    // with what is known now) keeps members that pruned their index at different moments from spoiling
    // the fast path.
    for (let i = 0; i < reports.length; i++) reports[i] = withoutDeps(reports[i]!, this.executedEverywhere);
    const deps = reportedEnough(reports, this.threshold);
    const value: AtlasValue = { isNoop: false, deps: deps.union };
    if (deps.fast) {
      this.fastPath++;
      this.outbox.send(this.all, { type: 'MCommit', dot: msg.dot, value });
      return;
    }
    this.slowPath++;
    const ballot = Synod.roundZeroBallot(this.id);
    state.synod.propose(ballot, value);
    this.outbox.send(this.writeQuorum, { type: 'MConsensus', dot: msg.dot, ballot, value });
  }

  private handleMConsensus(from: ProcessId, msg: MConsensus): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot);
    const outcome = state.synod.accept(msg.ballot, msg.value);
    switch (outcome.kind) {
      case 'accepted':
        return this.outbox.send([from], { type: 'MConsensusAck', dot: msg.dot, ballot: outcome.ballot });
      case 'chosen':
        return this.outbox.send([from], { type: 'MCommit', dot: msg.dot, value: outcome.value });
      case 'rejected':
        return; // a stale ballot; without recovery there is nobody to tell
    }
  }

  private handleMConsensusAck(from: ProcessId, msg: MConsensusAck): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status === Status.Commit) return;
    const value = state.synod.accepted(from, msg.ballot, this.slowQuorumSize);
    if (value !== undefined) this.outbox.send(this.all, { type: 'MCommit', dot: msg.dot, value });
  }

  private handleMCommit(msg: MCommit): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.state(msg.dot);
    if (state.status === Status.Commit) return;
    if (state.status === Status.Start) {
      state.bufferedCommit = msg.value; // the payload is still on its way
      return;
    }
    this.commit(msg.dot, state, msg.value);
  }

  private commit(dot: Dot, state: DotState, value: AtlasValue): void {
    invariant(state.cmd !== undefined, () => `atlas: commit of a dot without payload at ${this.id}`);
    state.status = Status.Commit;
    state.bufferedCommit = undefined;
    state.reports = undefined;
    state.reportedBy = undefined;
    state.synod.choose(value);
    this.gc.commit(dot);
    this.outbox.execute({ dot, cmd: value.isNoop ? null : state.cmd, deps: value.deps, seq: 0 });
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection): void {
    this.gc.receive(from, msg, this.collect, this.prune);
  }
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
