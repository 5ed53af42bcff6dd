/**
 * EPaxos (Moraru, Andersen, Kaminsky, "There Is More Consensus in Egalitarian Parliaments", SOSP'13;
 * normal case as in fantoch's epaxos.rs, plus the paper's `seq`). PROTOCOLS.md §3.
 *
 * Message flow, per command, at the coordinator c (the process the client submitted to):
 *   c ─MCollect{deps, seq}→ all others   (processes outside c's fast quorum only store the payload)
 *   fast-quorum member ─MCollectAck{deps ∪ local, max seq}→ c   (c does not ack itself)
 *   fast path: every member's reply is identical → c ─MCommit→ all
 *   slow path: c ─MConsensus{union, max seq}→ its F+1 closest ─MConsensusAck→ c ─MCommit→ all
 *   MCommit → graph executor at every process (SCCs ordered by (seq, dot)); the submit process replies.
 *
 * Quorums (F = ⌊n/2⌋; the configured f does not apply): fast F + ⌊(F+1)/2⌋ closest to the
 * coordinator, itself included, so it waits for that minus one replies; slow F + 1.
 *
 * Dependencies come from the Option-F index (common/dependency-index.ts). Garbage collection
 * (common/garbage-collector.ts) drops a dot's state once every process committed it, and prunes the
 * index once every process executed it; the coordinator also drops executed-everywhere dots from the
 * replies before comparing them, so that members that pruned at different moments still agree.
 */
import type { Command } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { makeDot, type Dot, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { closestQuorum, epaxosFastQuorumSize, epaxosSlowQuorumSize } from '../../core/quorum.js';
import { DependencyIndex } from '../common/dependency-index.js';
import { sameDeps, unionDeps, withoutDeps } from '../common/deps.js';
import { GarbageCollector } from '../common/garbage-collector.js';
import type { GraphInfo } from '../common/graph-executor.js';
import { Synod } from '../common/synod.js';
import type { EPaxosMessage, EPaxosValue, MCollect, MCollectAck, MCommit, MConsensus, MConsensusAck, MGarbageCollection } from './messages.js';

/** Per-dot status (PROTOCOLS.md §3.1). */
const enum Status {
  /** Nothing known but perhaps a buffered commit. */
  Start,
  /** The payload is known; this process is not in the fast quorum. */
  Payload,
  /** In the fast quorum: proposed (coordinator) or replied (member). */
  Collect,
  Commit,
}

interface DotState {
  status: Status;
  cmd: Command | undefined;
  readonly synod: Synod<EPaxosValue>;
  /** Coordinator only: the fast-quorum replies so far, and who sent them. */
  replies: MCollectAck[] | undefined;
  repliedBy: ProcessId[] | undefined;
  /** A commit that arrived before the payload. */
  bufferedCommit: EPaxosValue | undefined;
}

const GC_TIMER = 'gc';

/** Most dots whose state one process holds; reaching it means garbage collection is not keeping up. */
export const DOTS_HELD_MAX = 4 * 1024 * 1024;

/** One EPaxos process: coordinator of its own dots, fast-quorum member, acceptor and learner of the others'. */
export class EPaxosProcess implements Process<EPaxosMessage, GraphInfo> {
  readonly timers: readonly TimerSpec[];
  private readonly outbox = new Outbox<EPaxosMessage, GraphInfo>();
  private readonly fastQuorumSize: number;
  private readonly slowQuorumSize: number;
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
    this.fastQuorumSize = epaxosFastQuorumSize(config.n);
    this.slowQuorumSize = epaxosSlowQuorumSize(config.n);
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
    const deps = this.index.conflicts(cmd);
    const seq = this.index.nextSeq(deps);
    this.index.register(dot, cmd, seq);
    // The coordinator takes its own proposal directly instead of through a message to itself, so a
    // host that delivers self-messages late cannot make it drop early replies.
    const state = this.state(dot);
    state.status = Status.Collect;
    state.cmd = cmd;
    state.synod.setInitialValue({ deps, seq });
    state.replies = [];
    state.repliedBy = [];
    this.outbox.send(this.others, { type: 'MCollect', dot, cmd, deps, seq, quorum: this.fastQuorum });
  }

  handle(from: ProcessId, msg: EPaxosMessage, _now: Time): void {
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
    invariant(timer === GC_TIMER, () => `epaxos has no timer ${timer}`);
    const report = this.gc.report();
    this.outbox.send(this.others, { type: 'MGarbageCollection', committed: report.committed, executed: report.executed });
  }

  executed(dots: readonly Dot[], _now: Time): void {
    for (const dot of dots) this.gc.execute(dot);
  }

  drain(): readonly Output<EPaxosMessage, GraphInfo>[] {
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
      invariant(this.dots.size < DOTS_HELD_MAX, () => `epaxos process ${this.id} holds more than DOTS_HELD_MAX=${DOTS_HELD_MAX} dots`);
      state = { status: Status.Start, cmd: undefined, synod: new Synod(), replies: undefined, repliedBy: undefined, bufferedCommit: undefined };
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
      const local = this.index.conflicts(msg.cmd);
      const deps = unionDeps(msg.deps, local);
      const seq = Math.max(msg.seq, this.index.nextSeq(local));
      this.index.register(msg.dot, msg.cmd, seq);
      state.status = Status.Collect;
      state.synod.setInitialValue({ deps, seq });
      if (state.bufferedCommit === undefined) this.outbox.send([from], { type: 'MCollectAck', dot: msg.dot, deps, seq });
    }
    if (state.bufferedCommit !== undefined) this.commit(msg.dot, state, state.bufferedCommit);
  }

  private handleMCollectAck(from: ProcessId, msg: MCollectAck): void {
    if (this.gc.isCollected(msg.dot)) return;
    const state = this.dots.get(msg.dot);
    if (state === undefined || state.status !== Status.Collect) return;
    const replies = state.replies;
    const repliedBy = state.repliedBy;
    if (replies === undefined || repliedBy === undefined || repliedBy.includes(from)) return;
    replies.push(msg);
    repliedBy.push(from);
    if (replies.length < this.fastQuorumSize - 1) return;
    state.replies = undefined;
    state.repliedBy = undefined;

    // Dependencies executed at every process cannot be reordered any more; dropping them keeps members
    // that pruned their index at different moments from spoiling the fast path.
    const first = withoutDeps(replies[0]!.deps, this.executedEverywhere);
    let deps = first;
    let seq = replies[0]!.seq;
    let identical = true;
    for (let i = 1; i < replies.length; i++) {
      const reply = replies[i]!;
      const replyDeps = withoutDeps(reply.deps, this.executedEverywhere);
      if (reply.seq !== seq || !sameDeps(replyDeps, first)) identical = false;
      deps = unionDeps(deps, replyDeps);
      if (reply.seq > seq) seq = reply.seq;
    }
    const value: EPaxosValue = { deps, seq };
    if (identical) {
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

  private commit(dot: Dot, state: DotState, value: EPaxosValue): void {
    invariant(state.cmd !== undefined, () => `epaxos: commit of a dot without payload at ${this.id}`);
    state.status = Status.Commit;
    state.bufferedCommit = undefined;
    state.replies = undefined;
    state.repliedBy = undefined;
    state.synod.choose(value);
    this.index.updateSeq(dot, value.seq);
    this.gc.commit(dot);
    this.outbox.execute({ dot, cmd: state.cmd, deps: value.deps, seq: value.seq });
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection): void {
    this.gc.receive(from, msg, this.collect, this.prune);
  }
}
