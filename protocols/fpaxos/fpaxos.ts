/**
 * Flexible Multi-Paxos (Howard, Malkhi, Spiegelman, "Flexible Paxos", 2016; normal case as in
 * fantoch's fpaxos.rs), with leader change by phase 1 (PROTOCOLS.md §2, §2.3).
 *
 * Message flow:
 *   client → any process ─MForwardSubmit→ leader ─MAccept→ write quorum ─MAccepted→ leader
 *   leader ─MChosen→ all → slot executor at every process; the process the client submitted to replies.
 * Leader change:
 *   candidate ─MPrepare{b}→ all ─MPromise{b, accepted, committed}→ candidate (n−f promises), which
 *   re-proposes every slot above its committed frontier up to the highest reported one: the value
 *   with the highest abal, or a no-op for a slot no promise reported. Refusals are MNack{bal}.
 *
 * Quorums: phase 2 uses the leader's f+1 closest processes (itself first), minus processes it
 * suspects (they left a phase-2 round unanswered); phase 1 needs n−f promises, which intersect every
 * (f+1)-quorum. Bootstrap needs no phase 1: every acceptor starts promised to the initial leader's
 * ballot (= its id). Ballots are `p + n·r` (owner p, round r).
 *
 * Timeouts (Config.recoveryTimeoutMs, checked on the `recovery` timer):
 * - a follower resends a command submitted here and not chosen for that long to the leader (lost
 *   messages), and when it also heard nothing from the leader for that long (plus a stagger by rank
 *   after the leader, so that one candidate usually goes first), it starts a leader change. Having
 *   something to wait for is a command submitted here, a hole in its committed slots, a slot
 *   accepted but not known to be chosen, or a peer reporting a higher committed frontier;
 * - a candidate without n−f promises in that time tries again with a higher ballot;
 * - the leader resends MAccept for rounds unanswered that long to every process;
 * - every process sends MChosen to a peer whose committed frontier stayed below its own that long
 *   (lost MChosen).
 * Every process heartbeats with its MGarbageCollection gossip, so a live leader is heard often.
 *
 * A command may end up chosen in two slots (resent, retried by its client, or re-forwarded after a
 * leader change); the slot executor runs a rifl once.
 */
import type { Command } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { FrontierSet } from '../../core/frontier.js';
import { riflClient, type ProcessId, type Rifl } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { phase1QuorumSize, QuorumChoice, writeQuorumSize } from '../../core/quorum.js';
import type { Configuration } from '../../core/membership.js';
import { backoffMs, recoveryJitter } from '../common/recovery.js';
import type {
  FPaxosMessage,
  MAccept,
  MAccepted,
  MChosen,
  MForwardSubmit,
  MGarbageCollection,
  MNack,
  MPrepare,
  MPromise,
  PromisedSlot,
  SlotInfo,
  SlotValue,
} from './messages.js';

/**
 * Deliberately broken behaviours, for the checker's own tests only (test/broken-variants.test.ts).
 * No host or CLI path sets them.
 */
export interface FPaxosFaultInjection {
  /** A new leader takes over without phase 1: it neither learns nor re-proposes accepted slots. */
  readonly skipPhase1?: boolean;
  /** Phase-2 quorum size instead of f+1 (e.g. f: one too small next to a phase 1 of n−f). */
  readonly writeQuorumSize?: number;
}

/** A slot the leader is driving through phase 2. */
interface Commander {
  readonly ballot: number;
  readonly cmd: SlotValue;
  readonly acks: Set<ProcessId>;
  /** When MAccept was last sent, for resending. */
  sentMs: Time;
}

/** An acceptor's record for one slot. */
interface Accepted {
  readonly abal: number;
  readonly cmd: SlotValue;
}

/** A command submitted at this process and not chosen yet. */
interface Pending {
  readonly cmd: Command;
  /** When it was last sent to the leader (or proposed). */
  sentMs: Time;
}

/** Phase 1 in progress at this process. */
interface Candidacy {
  readonly ballot: number;
  readonly promises: Map<ProcessId, MPromise>;
  readonly startedMs: Time;
}

/**
 * Commands submitted here and not chosen, by client. Every process looks up every chosen command
 * here, so the map is keyed by client id (a small integer) rather than by rifl (a large one, slower
 * to hash); a client has one command outstanding at a time, rarely more.
 */
class PendingCommands {
  private readonly byClient = new Map<number, Pending[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(rifl: Rifl): boolean {
    const list = this.byClient.get(riflClient(rifl));
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++) if (list[i]!.cmd.rifl === rifl) return true;
    return false;
  }

  add(pending: Pending): void {
    const client = riflClient(pending.cmd.rifl);
    const list = this.byClient.get(client);
    if (list === undefined) this.byClient.set(client, [pending]);
    else list.push(pending);
    this.count++;
  }

  remove(rifl: Rifl): void {
    const client = riflClient(rifl);
    const list = this.byClient.get(client);
    if (list === undefined) return;
    let index = -1;
    for (let i = 0; i < list.length && index < 0; i++) if (list[i]!.cmd.rifl === rifl) index = i;
    if (index < 0) return;
    this.count--;
    // The client's (usually one-element) array stays for its next command: one allocation per client.
    if (list.length === 1) list.pop();
    else list.splice(index, 1);
  }

  /** Every pending command, in the order their clients first appeared then submission order. */
  list(): Pending[] {
    const all: Pending[] = [];
    for (const list of this.byClient.values()) for (const pending of list) all.push(pending);
    return all;
  }
}

const GC_TIMER = 'gc';
const RECOVERY_TIMER = 'recovery';
/** The recovery timer fires this many times per recovery timeout. */
const RECOVERY_TICKS_PER_TIMEOUT = 4;
/** Limit on slots re-sent to one lagging process per timer tick. */
const CATCH_UP_SLOTS_MAX = 1024;
/** Limit on chosen slots held above the collected one (a process that never reports stops collection). */
const CHOSEN_HELD_MAX = 16 * 1024 * 1024;
/** Limit on commands submitted here and not chosen. */
const PENDING_MAX = 1_000_000;

export class FPaxosProcess implements Process<FPaxosMessage, SlotInfo> {
  readonly timers: readonly TimerSpec[];
  private readonly outbox = new Outbox<FPaxosMessage, SlotInfo>();
  private all: readonly ProcessId[] = [];
  private others: readonly ProcessId[] = [];
  /** member[p − 1] is 1 while process p belongs to the configuration (core/membership.ts). */
  private readonly member: Uint8Array;
  /**
   * The write quorum: the closest processes, suspected ones last. Suspects are processes that left a
   * phase-2 round unanswered, or that the host's failure detector suspects (core/quorum.ts).
   */
  private readonly quorums: QuorumChoice;
  private readonly writeQuorumSize: number;
  private readonly phase1Size: number;

  // Leader and candidate state.
  private leader: ProcessId;
  /** This process's ballot while it leads (0 otherwise). */
  private ballot: number;
  private lastSlot = 0;
  private readonly commanders = new Map<number, Commander>();
  /** Rifls with a commander in flight, so a resent command is not proposed twice at once. */
  private readonly inFlight = new Set<Rifl>();
  private candidacy: Candidacy | undefined;
  /** Highest ballot seen in any message. */
  private maxBallotSeen: number;
  private leaderChangesWon = 0;
  /**
   * Leader changes this process started since a leader last got established (it won one, or an
   * MAccept showed another leading): the backoff of its next candidacy (common/recovery.ts).
   */
  private leaderChangeAttempts = 0;

  // Acceptor state.
  private bal: number;
  private readonly accepted = new Map<number, Accepted>();
  /** Highest slot ever accepted here; above the committed frontier, a value may be chosen that nobody learned. */
  private maxAcceptedSlot = 0;

  // Learner, follower and garbage-collection state.
  private readonly committed = new FrontierSet();
  /**
   * Chosen values not yet collected, to re-send to lagging processes: chosenLog[slot − stableSlot − 1]
   * (an array, not a map: it is written once per slot on the hot path and trimmed from the front).
   */
  private chosenLog: Array<SlotValue | undefined> = [];
  private readonly pending = new PendingCommands();
  private lastHeardFromLeaderMs: Time = 0;
  /** Highest committed frontier reported by each process (index = id − 1). */
  private readonly committedFrontiers: number[];
  /** Since when each process's reported frontier has stayed where it is. */
  private readonly frontierSinceMs: number[];
  private stableSlot = 0;

  constructor(
    readonly id: ProcessId,
    private readonly config: Config,
    private readonly injected: FPaxosFaultInjection = {},
  ) {
    this.leader = config.leader;
    this.ballot = id === config.leader ? id : 0;
    this.bal = config.leader;
    this.maxBallotSeen = config.leader;
    this.writeQuorumSize = injected.writeQuorumSize ?? writeQuorumSize(config.f);
    invariant(this.writeQuorumSize >= 1 && this.writeQuorumSize <= config.n, () => `write quorum of ${this.writeQuorumSize} for n=${config.n}`);
    // FPaxos has no fast quorum: both quorums of the choice are the write quorum.
    this.quorums = new QuorumChoice(id, this.writeQuorumSize, this.writeQuorumSize);
    this.phase1Size = phase1QuorumSize(config.n, config.f);
    this.member = new Uint8Array(config.n).fill(1);
    this.committedFrontiers = new Array<number>(config.n).fill(0);
    this.frontierSinceMs = new Array<number>(config.n).fill(0);
    this.timers = [
      { timer: GC_TIMER, everyMs: config.gcIntervalMs },
      { timer: RECOVERY_TIMER, everyMs: config.recoveryTimeoutMs / RECOVERY_TICKS_PER_TIMEOUT },
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
    this.hold(cmd, now);
    this.dispatch(cmd, now);
  }

  handle(from: ProcessId, msg: FPaxosMessage, now: Time): void {
    if (from === this.leader) this.lastHeardFromLeaderMs = now;
    switch (msg.type) {
      case 'MForwardSubmit':
        return this.handleMForwardSubmit(msg, now);
      case 'MAccept':
        return this.handleMAccept(from, msg, now);
      case 'MAccepted':
        return this.handleMAccepted(from, msg);
      case 'MChosen':
        return this.handleMChosen(msg);
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg, now);
      case 'MPrepare':
        return this.handleMPrepare(from, msg, now);
      case 'MPromise':
        return this.handleMPromise(from, msg, now);
      case 'MNack':
        return this.handleMNack(msg, now);
    }
  }

  onTimer(timer: string, now: Time): void {
    if (timer === GC_TIMER) {
      this.outbox.send(this.others, { type: 'MGarbageCollection', committed: this.committed.frontier });
      return;
    }
    invariant(timer === RECOVERY_TIMER, () => `fpaxos has no timer ${timer}`);
    this.helpLaggingPeers(now);
    if (this.isLeader()) this.leaderTimeouts(now);
    else if (this.candidacy !== undefined) this.candidateTimeout(now);
    else this.followerTimeouts(now);
  }

  /**
   * The host's failure detector suspects `process`. A leader stops counting on it for its write
   * quorum and resends at once the rounds it left unanswered; a follower whose leader it is treats
   * the leader as silent since the detector's timeout, so the leader change starts after its stagger
   * alone (at the next tick) instead of after another recovery timeout.
   */
  suspect(process: ProcessId, now: Time): void {
    if (process === this.id) return;
    this.quorums.suspect(process);
    if (this.isLeader()) {
      for (const [slot, commander] of this.commanders) {
        if (commander.acks.has(process) || commander.acks.size >= this.writeQuorumSize) continue;
        commander.sentMs = now;
        this.outbox.send(this.all, { type: 'MAccept', ballot: commander.ballot, slot, cmd: commander.cmd });
      }
    } else if (process === this.leader) {
      this.lastHeardFromLeaderMs = Math.min(this.lastHeardFromLeaderMs, now - this.config.recoveryTimeoutMs);
    }
  }

  unsuspect(process: ProcessId, _now: Time): void {
    this.quorums.unsuspect(process);
  }

  /**
   * A new configuration: write and phase-1 quorums are drawn from its members, only members'
   * frontiers hold garbage collection back, and a removed leader is replaced at the next tick.
   */
  reconfigure(configuration: Configuration, now: Time): void {
    this.quorums.setMembers(configuration.members);
    this.member.fill(0);
    for (const p of configuration.members) this.member[p - 1] = 1;
    this.others = configuration.members.filter((p) => p !== this.id);
    if (this.member[this.leader - 1] !== 1) this.lastHeardFromLeaderMs = Math.min(this.lastHeardFromLeaderMs, now - this.config.recoveryTimeoutMs);
    this.collectGarbage();
  }

  /** Per-command state held: what garbage collection keeps bounded. */
  heldState(): number {
    return this.accepted.size + this.chosenLog.length;
  }

  drain(): readonly Output<FPaxosMessage, SlotInfo>[] {
    return this.outbox.drain();
  }

  metrics(): ProtocolMetrics {
    // FPaxos has a single path; every command goes through phase 2.
    return { fastPath: 0, slowPath: 0, recovered: this.leaderChangesWon };
  }

  /** Slots that are committed everywhere and were dropped from the acceptor's state. */
  get garbageCollectedUpTo(): number {
    return this.stableSlot;
  }

  /** Slots still held by the acceptor (for memory checks). */
  get acceptedSlots(): number {
    return this.accepted.size;
  }

  /** The process this one believes leads. */
  get currentLeader(): ProcessId {
    return this.leader;
  }

  /** The ballot this process promised. */
  get promisedBallot(): number {
    return this.bal;
  }

  isLeader(): boolean {
    return this.leader === this.id && this.ballot > 0;
  }

  // -------------------------------------------------------------------------------------------
  // Normal case.

  /** Proposes `cmd` when leading, holds it while campaigning, and forwards it to the leader otherwise. */
  private dispatch(cmd: Command, now: Time): void {
    if (this.isLeader()) this.propose(cmd, now);
    else if (this.candidacy === undefined && this.leader !== this.id) this.outbox.send([this.leader], { type: 'MForwardSubmit', cmd });
    // A candidate proposes its pending commands once it wins; a forwarded one is resent by its submitter.
  }

  private propose(cmd: Command, now: Time): void {
    if (this.inFlight.has(cmd.rifl)) return;
    this.inFlight.add(cmd.rifl);
    this.startCommander(++this.lastSlot, cmd, now);
  }

  private startCommander(slot: number, cmd: SlotValue, now: Time): void {
    this.commanders.set(slot, { ballot: this.ballot, cmd, acks: new Set(), sentMs: now });
    this.outbox.send(this.quorums.write, { type: 'MAccept', ballot: this.ballot, slot, cmd });
  }

  private handleMForwardSubmit(msg: MForwardSubmit, now: Time): void {
    if (this.isLeader()) this.propose(msg.cmd, now);
    else if (this.candidacy !== undefined) this.hold(msg.cmd, now); // proposed if this candidate wins
    else if (this.leader !== this.id) this.outbox.send([this.leader], msg); // the leader moved on; pass it along
  }

  /** Keeps `cmd` with the commands submitted here until it is chosen. */
  private hold(cmd: Command, now: Time): void {
    if (this.pending.has(cmd.rifl)) return;
    if (this.pending.size >= PENDING_MAX) invariant(false, `fpaxos: more than ${PENDING_MAX} commands pending at process ${this.id}`);
    this.pending.add({ cmd, sentMs: now });
  }

  private handleMAccept(from: ProcessId, msg: MAccept, now: Time): void {
    if (msg.ballot < this.bal) {
      this.outbox.send([from], { type: 'MNack', ballot: this.bal });
      return;
    }
    this.observeBallot(msg.ballot, now);
    this.leaderChangeAttempts = 0; // a leader runs phase 2
    if (msg.slot <= this.stableSlot) return; // already committed everywhere and collected
    this.bal = msg.ballot;
    this.accepted.set(msg.slot, { abal: msg.ballot, cmd: msg.cmd });
    if (msg.slot > this.maxAcceptedSlot) this.maxAcceptedSlot = msg.slot;
    this.outbox.send([from], { type: 'MAccepted', ballot: msg.ballot, slot: msg.slot });
  }

  private handleMAccepted(from: ProcessId, msg: MAccepted): void {
    const commander = this.commanders.get(msg.slot);
    if (commander === undefined || commander.ballot !== msg.ballot) return;
    this.quorums.unsuspect(from);
    commander.acks.add(from);
    if (commander.acks.size < this.writeQuorumSize) return;
    this.commanders.delete(msg.slot);
    if (commander.cmd !== null) this.inFlight.delete(commander.cmd.rifl);
    this.outbox.send(this.all, { type: 'MChosen', slot: msg.slot, cmd: commander.cmd });
  }

  private handleMChosen(msg: MChosen): void {
    if (msg.slot <= this.stableSlot || !this.committed.add(msg.slot)) return; // duplicate
    const index = msg.slot - this.stableSlot - 1;
    if (index >= CHOSEN_HELD_MAX) invariant(false, `fpaxos: more than ${CHOSEN_HELD_MAX} chosen slots held above the collected slot ${this.stableSlot}`);
    this.chosenLog[index] = msg.cmd;
    if (msg.cmd !== null && this.pending.size > 0) this.pending.remove(msg.cmd.rifl);
    this.outbox.execute({ slot: msg.slot, cmd: msg.cmd });
    this.committedFrontiers[this.id - 1] = this.committed.frontier;
    this.collectGarbage();
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection, now: Time): void {
    // Frontiers only grow; a reordered, older report must not move one back.
    const index = from - 1;
    if (msg.committed > this.committedFrontiers[index]!) {
      this.committedFrontiers[index] = msg.committed;
      this.frontierSinceMs[index] = now;
    }
    this.collectGarbage();
  }

  /** Drops accepted slots that every process has committed. */
  private collectGarbage(): void {
    let stable = Infinity;
    const frontiers = this.committedFrontiers;
    for (let i = 0; i < frontiers.length; i++) if (this.member[i] === 1 && frontiers[i]! < stable) stable = frontiers[i]!;
    for (let slot = this.stableSlot + 1; slot <= stable; slot++) this.accepted.delete(slot);
    if (stable > this.stableSlot) {
      this.chosenLog = this.chosenLog.slice(stable - this.stableSlot);
      this.stableSlot = stable;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Timeouts.

  /** Resends unanswered phase-2 rounds to everyone, avoiding the acceptors that did not answer from then on. */
  private leaderTimeouts(now: Time): void {
    const timeoutMs = this.config.recoveryTimeoutMs;
    // Decided against the quorum of this pass, applied once after it.
    const quorum = this.quorums.write;
    const unanswered = new Set<ProcessId>();
    for (const [slot, commander] of this.commanders) {
      if (now - commander.sentMs < timeoutMs) continue;
      // Members of the quorum that left it unanswered are probably down: avoid them from now on.
      for (const member of quorum) {
        if (member !== this.id && !commander.acks.has(member) && !this.quorums.suspects(member)) unanswered.add(member);
      }
      commander.sentMs = now;
      this.outbox.send(this.all, { type: 'MAccept', ballot: commander.ballot, slot, cmd: commander.cmd });
    }
    for (const member of unanswered) this.quorums.suspect(member);
  }

  /**
   * Sends chosen slots to peers whose reported committed frontier stayed below this process's for a
   * timeout (their MChosen were lost). Any process helps, not only the leader: after a partition the
   * old leader may be the one behind, still believing it leads, while the new leader is gone.
   */
  private helpLaggingPeers(now: Time): void {
    const timeoutMs = this.config.recoveryTimeoutMs;
    const frontier = this.committed.frontier;
    for (const peer of this.others) {
      const reported = this.committedFrontiers[peer - 1]!;
      if (reported >= frontier || now - this.frontierSinceMs[peer - 1]! < timeoutMs) continue;
      this.frontierSinceMs[peer - 1] = now;
      const upTo = Math.min(frontier, reported + CATCH_UP_SLOTS_MAX);
      for (let slot = Math.max(reported, this.stableSlot) + 1; slot <= upTo; slot++) {
        const cmd = this.chosenLog[slot - this.stableSlot - 1];
        if (cmd !== undefined) this.outbox.send([peer], { type: 'MChosen', slot, cmd });
      }
    }
  }

  private candidateTimeout(now: Time): void {
    const candidacy = this.candidacy!;
    if (now - candidacy.startedMs < this.leaderChangeWaitMs()) return;
    this.startLeaderChange(now); // not enough promises in time (lost messages, a rival): try higher
  }

  /** Resends pending commands to the leader, and starts a leader change when the leader is silent. */
  private followerTimeouts(now: Time): void {
    const timeoutMs = this.config.recoveryTimeoutMs;
    for (const pending of this.pending.list()) {
      if (now - pending.sentMs < timeoutMs) continue;
      pending.sentMs = now;
      this.dispatch(pending.cmd, now);
    }
    if (now - this.lastHeardFromLeaderMs < this.leaderChangeWaitMs()) return;
    if (this.waitingForLeader()) this.startLeaderChange(now);
  }

  /**
   * Something only a working leader can finish: a command submitted here, a hole, a slot accepted
   * here and not known to be chosen (the leader may have chosen it and crashed before anyone
   * learned it, after answering the client), or a peer ahead.
   */
  private waitingForLeader(): boolean {
    if (this.pending.size > 0 || this.committed.exceptionCount > 0) return true;
    const frontier = this.committed.frontier;
    if (this.maxAcceptedSlot > frontier) return true;
    return this.committedFrontiers.some((reported) => reported > frontier);
  }

  /**
   * How long a silent leader or an unfinished candidacy is given: the timeout plus the stagger, and
   * after failed candidacies of this process the timeout backed off (doubling until it outlasts a
   * phase 1 however short the timeout, so candidacies stop pre-empting themselves) with a jitter
   * derived from the process and the attempt (rivals fall out of step), as in common/recovery.ts.
   */
  private leaderChangeWaitMs(): number {
    const failed = Math.max(0, this.leaderChangeAttempts - (this.candidacy === undefined ? 0 : 1));
    // The leader is heard at least once per gcIntervalMs (its gossip is the heartbeat): a silence
    // shorter than two of those periods is no silence, whatever the recovery timeout.
    const backoff = Math.max(backoffMs(this.config.recoveryTimeoutMs, failed), 2 * this.config.gcIntervalMs);
    const jitter = failed === 0 ? 0 : (backoff / 2) * recoveryJitter(0, this.id, failed);
    return backoff + this.staggerMs() + jitter;
  }

  /** Followers wait longer the further they come after the leader in id order, so one goes first. */
  private staggerMs(): number {
    const n = this.config.n;
    const rank = (this.id - this.leader - 1 + 2 * n) % n;
    return (rank * this.config.recoveryTimeoutMs) / n;
  }

  // -------------------------------------------------------------------------------------------
  // Leader change (PROTOCOLS.md §2.3).

  private startLeaderChange(now: Time): void {
    const n = this.config.n;
    const ballot = this.id + n * (Math.floor(this.maxBallotSeen / n) + 1);
    this.maxBallotSeen = ballot;
    this.leader = this.id;
    this.ballot = 0;
    this.leaderChangeAttempts++;
    if (this.injected.skipPhase1 === true) {
      this.takeOverWithoutPhase1(ballot, now);
      return;
    }
    this.candidacy = { ballot, promises: new Map(), startedMs: now };
    this.outbox.send(this.all, { type: 'MPrepare', ballot });
  }

  private handleMPrepare(from: ProcessId, msg: MPrepare, now: Time): void {
    if (msg.ballot <= this.bal) {
      this.outbox.send([from], { type: 'MNack', ballot: this.bal });
      return;
    }
    this.observeBallot(msg.ballot, now);
    this.bal = msg.ballot;
    const accepted: PromisedSlot[] = [];
    for (const [slot, record] of this.accepted) accepted.push({ slot, abal: record.abal, cmd: record.cmd });
    accepted.sort((a, b) => a.slot - b.slot);
    this.outbox.send([from], { type: 'MPromise', ballot: msg.ballot, accepted, committed: this.committed.frontier });
  }

  private handleMPromise(from: ProcessId, msg: MPromise, now: Time): void {
    const candidacy = this.candidacy;
    if (candidacy === undefined || msg.ballot !== candidacy.ballot) return;
    candidacy.promises.set(from, msg);
    if (candidacy.promises.size < this.phase1Size) return;
    this.candidacy = undefined;
    this.becomeLeader(candidacy, now);
  }

  /**
   * After n−f promises: every slot above this process's committed frontier, up to the highest any
   * promise knows of, gets the value accepted with the highest ballot, or a no-op if none was. Slots
   * already committed here need nothing: their value is known and lagging processes get it resent.
   */
  private becomeLeader(candidacy: Candidacy, now: Time): void {
    const best = new Map<number, PromisedSlot>();
    let top = Math.max(this.lastSlot, this.committed.frontier);
    for (const from of [...candidacy.promises.keys()].sort((a, b) => a - b)) {
      const promise = candidacy.promises.get(from)!;
      top = Math.max(top, promise.committed);
      for (const entry of promise.accepted) {
        top = Math.max(top, entry.slot);
        const current = best.get(entry.slot);
        if (current === undefined || entry.abal > current.abal) best.set(entry.slot, entry);
      }
    }
    top = Math.max(top, this.stableSlot + this.chosenLog.length);
    this.ballot = candidacy.ballot;
    this.leader = this.id;
    this.leaderChangesWon++;
    this.leaderChangeAttempts = 0;
    this.commanders.clear();
    this.inFlight.clear();
    this.quorums.suspectOnly(this.all.filter((from) => !candidacy.promises.has(from)));
    for (let slot = this.committed.frontier + 1; slot <= top; slot++) {
      if (this.committed.has(slot)) continue;
      const cmd = best.get(slot)?.cmd ?? null;
      if (cmd !== null) this.inFlight.add(cmd.rifl);
      this.startCommander(slot, cmd, now);
    }
    this.lastSlot = top;
    this.proposePending(now);
  }

  /** The broken variant: lead at once from what this process alone knows. */
  private takeOverWithoutPhase1(ballot: number, now: Time): void {
    let top = Math.max(this.lastSlot, this.committed.frontier);
    for (const slot of this.accepted.keys()) top = Math.max(top, slot);
    top = Math.max(top, this.stableSlot + this.chosenLog.length);
    this.bal = Math.max(this.bal, ballot);
    this.ballot = ballot;
    this.leaderChangesWon++;
    this.commanders.clear();
    this.inFlight.clear();
    this.lastSlot = top;
    this.proposePending(now);
  }

  private proposePending(now: Time): void {
    for (const pending of this.pending.list().sort((a, b) => a.cmd.rifl - b.cmd.rifl)) {
      pending.sentMs = now;
      this.propose(pending.cmd, now);
    }
  }

  private handleMNack(msg: MNack, now: Time): void {
    this.observeBallot(msg.ballot, now);
  }

  /**
   * Any ballot above the highest seen names a newer leader: its owner. A leader or candidate with a
   * lower ballot steps down, and commands submitted here go to the new leader.
   */
  private observeBallot(ballot: number, now: Time): void {
    if (ballot <= this.maxBallotSeen) return;
    this.maxBallotSeen = ballot;
    const owner = ((ballot - 1) % this.config.n) + 1;
    if (owner === this.id) return; // our own ballot, echoed back
    this.ballot = 0;
    this.candidacy = undefined;
    this.commanders.clear();
    this.inFlight.clear();
    this.leader = owner;
    this.lastHeardFromLeaderMs = now;
    for (const pending of this.pending.list()) {
      pending.sentMs = now;
      this.outbox.send([owner], { type: 'MForwardSubmit', cmd: pending.cmd });
    }
  }
}
