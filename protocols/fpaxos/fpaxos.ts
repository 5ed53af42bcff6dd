/**
 * Flexible Multi-Paxos with a fixed leader (Howard, Malkhi, Spiegelman, "Flexible Paxos", 2016;
 * normal case as in fantoch's fpaxos.rs). PROTOCOLS.md §2.
 *
 * Message flow:
 *   client → any process ─MForwardSubmit→ leader ─MAccept→ write quorum ─MAccepted→ leader
 *   leader ─MChosen→ all → slot executor at every process; the process the client submitted to replies.
 *
 * Quorums: phase 2 uses the leader's f+1 closest processes (itself first); phase 1 (leader change,
 * n−f promises) is not needed at bootstrap because every acceptor starts promised to the initial
 * leader's ballot (= its id).
 */
import type { Command } from '../../core/command.js';
import type { Config } from '../../core/config.js';
import { FrontierSet } from '../../core/frontier.js';
import type { ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import { Outbox } from '../../core/outbox.js';
import type { Output, Process, ProtocolMetrics, Time, TimerSpec } from '../../core/process.js';
import { closestQuorum, writeQuorumSize } from '../../core/quorum.js';
import type { FPaxosMessage, MAccept, MAccepted, MChosen, MForwardSubmit, MGarbageCollection, SlotInfo } from './messages.js';

/** A slot the leader is driving through phase 2. */
interface Commander {
  readonly ballot: number;
  readonly cmd: Command;
  readonly acks: Set<ProcessId>;
}

/** An acceptor's record for one slot. */
interface Accepted {
  readonly abal: number;
  readonly cmd: Command;
}

const GC_TIMER = 'gc';

export class FPaxosProcess implements Process<FPaxosMessage, SlotInfo> {
  readonly timers: readonly TimerSpec[];
  private readonly outbox = new Outbox<FPaxosMessage, SlotInfo>();
  private all: readonly ProcessId[] = [];
  private writeQuorum: readonly ProcessId[] = [];

  // Leader state.
  private leader: ProcessId;
  private ballot: number;
  private lastSlot = 0;
  private readonly commanders = new Map<number, Commander>();

  // Acceptor state.
  private bal: number;
  private readonly accepted = new Map<number, Accepted>();

  // Learner and garbage-collection state.
  private readonly committed = new FrontierSet();
  /** Highest committed frontier reported by each process (index = id − 1). */
  private readonly committedFrontiers: number[];
  private stableSlot = 0;

  constructor(
    readonly id: ProcessId,
    private readonly config: Config,
  ) {
    this.leader = config.leader;
    this.ballot = id === config.leader ? id : 0;
    this.bal = config.leader;
    this.committedFrontiers = new Array<number>(config.n).fill(0);
    this.timers = [{ timer: GC_TIMER, everyMs: config.gcIntervalMs }];
  }

  discover(sortedByDistance: readonly ProcessId[]): void {
    invariant(sortedByDistance[0] === this.id, 'discover: a process must come first in its own list');
    invariant(sortedByDistance.length === this.config.n, () => `discover: ${sortedByDistance.length} processes for n=${this.config.n}`);
    this.all = [...sortedByDistance].sort((a, b) => a - b);
    this.writeQuorum = closestQuorum(sortedByDistance, writeQuorumSize(this.config.f));
  }

  submit(cmd: Command, _now: Time): void {
    if (this.isLeader()) this.propose(cmd);
    else this.outbox.send([this.leader], { type: 'MForwardSubmit', cmd });
  }

  handle(from: ProcessId, msg: FPaxosMessage, _now: Time): void {
    switch (msg.type) {
      case 'MForwardSubmit':
        return this.handleMForwardSubmit(msg);
      case 'MAccept':
        return this.handleMAccept(from, msg);
      case 'MAccepted':
        return this.handleMAccepted(from, msg);
      case 'MChosen':
        return this.handleMChosen(msg);
      case 'MGarbageCollection':
        return this.handleMGarbageCollection(from, msg);
    }
  }

  onTimer(timer: string, _now: Time): void {
    invariant(timer === GC_TIMER, () => `fpaxos has no timer ${timer}`);
    const others = this.all.filter((p) => p !== this.id);
    this.outbox.send(others, { type: 'MGarbageCollection', committed: this.committed.frontier });
  }

  drain(): readonly Output<FPaxosMessage, SlotInfo>[] {
    return this.outbox.drain();
  }

  metrics(): ProtocolMetrics {
    // FPaxos has a single path; every command goes through phase 2.
    return { fastPath: 0, slowPath: 0 };
  }

  /** Slots that are committed everywhere and were dropped from the acceptor's state. */
  get garbageCollectedUpTo(): number {
    return this.stableSlot;
  }

  /** Slots still held by the acceptor (for memory checks). */
  get acceptedSlots(): number {
    return this.accepted.size;
  }

  private isLeader(): boolean {
    return this.leader === this.id && this.ballot > 0;
  }

  private propose(cmd: Command): void {
    const slot = ++this.lastSlot;
    this.commanders.set(slot, { ballot: this.ballot, cmd, acks: new Set() });
    this.outbox.send(this.writeQuorum, { type: 'MAccept', ballot: this.ballot, slot, cmd });
  }

  private handleMForwardSubmit(msg: MForwardSubmit): void {
    if (this.isLeader()) this.propose(msg.cmd);
    else this.outbox.send([this.leader], msg); // the leader moved on; pass it along
  }

  private handleMAccept(from: ProcessId, msg: MAccept): void {
    if (msg.ballot < this.bal) return; // a stale leader; ignored (fantoch)
    if (msg.slot <= this.stableSlot) return; // already committed everywhere and collected
    this.bal = msg.ballot;
    this.accepted.set(msg.slot, { abal: msg.ballot, cmd: msg.cmd });
    this.outbox.send([from], { type: 'MAccepted', ballot: msg.ballot, slot: msg.slot });
  }

  private handleMAccepted(from: ProcessId, msg: MAccepted): void {
    const commander = this.commanders.get(msg.slot);
    if (commander === undefined || commander.ballot !== msg.ballot) return;
    commander.acks.add(from);
    if (commander.acks.size < writeQuorumSize(this.config.f)) return;
    this.commanders.delete(msg.slot);
    this.outbox.send(this.all, { type: 'MChosen', slot: msg.slot, cmd: commander.cmd });
  }

  private handleMChosen(msg: MChosen): void {
    if (!this.committed.add(msg.slot)) return; // duplicate
    this.outbox.execute({ slot: msg.slot, cmd: msg.cmd });
    this.committedFrontiers[this.id - 1] = this.committed.frontier;
    this.collectGarbage();
  }

  private handleMGarbageCollection(from: ProcessId, msg: MGarbageCollection): void {
    // Frontiers only grow; a reordered, older report must not move one back.
    const index = from - 1;
    if (msg.committed > this.committedFrontiers[index]!) this.committedFrontiers[index] = msg.committed;
    this.collectGarbage();
  }

  /** Drops accepted slots that every process has committed. */
  private collectGarbage(): void {
    let stable = Infinity;
    for (const frontier of this.committedFrontiers) if (frontier < stable) stable = frontier;
    for (let slot = this.stableSlot + 1; slot <= stable; slot++) this.accepted.delete(slot);
    if (stable > this.stableSlot) this.stableSlot = stable;
  }
}
