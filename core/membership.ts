/**
 * Membership: an agreed sequence of configurations (docs/reconfiguration.md).
 *
 * Configuration 0 holds every process 1..n. Configuration e+1 is decided by instance e of a
 * single-decree Paxos whose acceptors are the members of configuration e (a majority of them), so
 * every process that learns configuration e+1 learns the same one, and configurations form one
 * sequence. A change removes processes (a dead replica) from the member set; the protocols then run
 * quorums, stability, dependency pruning and garbage collection over the members only
 * (`Process.reconfigure`), and the replica refuses every message from a removed process.
 *
 * Removal keeps at least `n − f` members: the quorum sizes stay those of the initial configuration
 * (recovery needs n − f answers), so a change never takes away a quorum the protocols still rely on.
 *
 * Sans-IO like a protocol process: inputs take `now`, outputs are drained. Messages of instance e
 * carry e; a process still at an earlier instance asks for the decisions it missed (MConfigStatus),
 * which are kept for that purpose (one small entry per change). A decision is broadcast to every
 * process, members or not, so a removed process learns it was removed and stops.
 */
import type { ProcessId } from './ids.js';
import type { Time } from './process.js';
import { invariant } from './invariant.js';

export interface MConfigPrepare {
  readonly type: 'MConfigPrepare';
  readonly epoch: number;
  readonly ballot: number;
}
export interface MConfigPromise {
  readonly type: 'MConfigPromise';
  readonly epoch: number;
  readonly ballot: number;
  /** The highest-ballot value this acceptor accepted in the instance, with its ballot (0: none). */
  readonly abal: number;
  readonly aval: readonly ProcessId[] | null;
}
export interface MConfigAccept {
  readonly type: 'MConfigAccept';
  readonly epoch: number;
  readonly ballot: number;
  readonly members: readonly ProcessId[];
}
export interface MConfigAccepted {
  readonly type: 'MConfigAccepted';
  readonly epoch: number;
  readonly ballot: number;
}
/** Configuration `epoch + 1` is `members` (instance `epoch` decided it). */
export interface MConfigDecided {
  readonly type: 'MConfigDecided';
  readonly epoch: number;
  readonly members: readonly ProcessId[];
}
/** "I am at configuration `epoch`": a process that knows later decisions sends them. */
export interface MConfigStatus {
  readonly type: 'MConfigStatus';
  readonly epoch: number;
}

export type MembershipMessage = MConfigPrepare | MConfigPromise | MConfigAccept | MConfigAccepted | MConfigDecided | MConfigStatus;

export const MEMBERSHIP_MESSAGE_TYPES = ['MConfigPrepare', 'MConfigPromise', 'MConfigAccept', 'MConfigAccepted', 'MConfigDecided', 'MConfigStatus'] as const;
const MEMBERSHIP_TYPES: ReadonlySet<string> = new Set(MEMBERSHIP_MESSAGE_TYPES);

/** True when `msg` belongs to the membership service rather than to the protocol. */
export function isMembershipMessage(msg: { readonly type: string }): msg is MembershipMessage {
  return MEMBERSHIP_TYPES.has(msg.type);
}

/**
 * Why a member list that crossed the network is unacceptable for a process of `n` with `f`, or
 * undefined when it is well formed: ascending distinct ids in 1..n, at least n − f of them.
 */
export function invalidMembers(members: unknown, n: number, f: number): string | undefined {
  if (!Array.isArray(members)) return 'members is not a list';
  if (members.length < n - f || members.length > n) return `${members.length} members; a configuration has ${n - f} to ${n}`;
  for (let i = 0; i < members.length; i++) {
    const p: unknown = members[i];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > n) return `member ${String(p)} is not a process 1..${n}`;
    if (i > 0 && p <= (members[i - 1] as number)) return 'members are not ascending and distinct';
  }
  return undefined;
}

/** One configuration: its number and its members, ascending. */
export interface Configuration {
  readonly epoch: number;
  readonly members: readonly ProcessId[];
}

export interface MembershipOptions {
  readonly n: number;
  readonly f: number;
  /** How long a proposer waits for an instance to decide before it tries again with a higher ballot. */
  readonly retryMs: number;
  /**
   * Propose the removal of a process this process has suspected without a break for this long
   * (absent: only explicit requests remove).
   */
  readonly removeAfterMs?: number;
}

export type MembershipOutput = { readonly to: readonly ProcessId[]; readonly msg: MembershipMessage };

/** Processes gossip their configuration number at most this often (ms). */
const STATUS_PERIOD_MIN_MS = 1_000;

/** A proposer's wait between attempts doubles until it reaches this (ms). */
const RETRY_REACH_MS = 2_000;

/** Ballots are `round · BALLOT_SPAN + proposer`, so two proposers never share one. */
const BALLOT_SPAN = 128;

/** One process's part of the membership service. */
export class Membership {
  private epochValue = 0;
  private membersValue: readonly ProcessId[];
  private readonly memberFlags: Uint8Array;
  /** decided[e]: configuration e+1, for the processes that missed it. */
  private readonly decided: (readonly ProcessId[])[] = [];
  private readonly all: readonly ProcessId[];
  private readonly minMembers: number;
  // Acceptor state of the current instance.
  private promised = 0;
  private abal = 0;
  private aval: readonly ProcessId[] | null = null;
  // Proposer state of the current instance.
  private round = 0;
  private ballot = 0;
  private phase: 'idle' | 'prepare' | 'accept' = 'idle';
  private promises = new Map<ProcessId, MConfigPromise>();
  private accepts = new Set<ProcessId>();
  private proposal: readonly ProcessId[] | null = null;
  private startedMs = 0;
  /** Failed attempts in the current instance (their backoff). */
  private attempts = 0;
  /** Processes this process wants removed (explicit requests and long suspicions). */
  private readonly wanted = new Set<ProcessId>();
  /** When the failure detector began suspecting each process (NaN: not suspected). */
  private readonly suspectedSince: Float64Array;
  private outputs: MembershipOutput[] = [];
  private statusSentMs = -Infinity;
  /** The latest configuration some process is known to be in, who, and when this process last asked it. */
  private aheadEpoch = 0;
  private aheadFrom = 0;
  private aheadAskedMs = 0;
  /** Changes learned since the last `takeChanges`. */
  private changes: Configuration[] = [];

  constructor(
    readonly self: ProcessId,
    private readonly options: MembershipOptions,
  ) {
    invariant(options.n >= 1 && options.n < BALLOT_SPAN, () => `membership of ${options.n} processes`);
    this.all = Array.from({ length: options.n }, (_, i) => i + 1);
    this.membersValue = this.all;
    this.memberFlags = new Uint8Array(options.n + 1).fill(1);
    this.memberFlags[0] = 0;
    this.minMembers = options.n - options.f;
    this.suspectedSince = new Float64Array(options.n + 1).fill(Number.NaN);
  }

  get epoch(): number {
    return this.epochValue;
  }

  get members(): readonly ProcessId[] {
    return this.membersValue;
  }

  /** True while `process` belongs to the current configuration. */
  isMember(process: ProcessId): boolean {
    return this.memberFlags[process] === 1;
  }

  /** True once this process learned that it was removed. */
  get removedSelf(): boolean {
    return this.memberFlags[this.self] !== 1;
  }

  /** The period of `tick` the host should call. */
  get tickMs(): number {
    return Math.max(10, Math.min(this.options.retryMs, this.options.removeAfterMs ?? Infinity) / 4);
  }

  /**
   * Asks for `process` to leave the configuration. Refused (returns a reason) when it is not a member
   * or when the members would drop below n − f.
   */
  requestRemoval(process: ProcessId, now: Time): string | undefined {
    if (!Number.isInteger(process) || process < 1 || process > this.options.n) return `process ${process} does not exist (1..${this.options.n})`;
    if (!this.isMember(process)) return `process ${process} is not a member of configuration ${this.epochValue}`;
    if (this.membersValue.length - 1 < this.minMembers) {
      return `removing process ${process} would leave ${this.membersValue.length - 1} members; at least n − f = ${this.minMembers} must remain`;
    }
    this.wanted.add(process);
    this.maybePropose(now);
    return undefined;
  }

  /** The failure detector's view, for removal after `removeAfterMs`. */
  suspect(process: ProcessId, now: Time): void {
    if (process >= 1 && process <= this.options.n && Number.isNaN(this.suspectedSince[process]!)) this.suspectedSince[process] = now;
  }

  unsuspect(process: ProcessId): void {
    if (process >= 1 && process <= this.options.n) this.suspectedSince[process] = Number.NaN;
  }

  /**
   * `from` is in configuration `epoch`, later than this process's: ask it for the decisions missed
   * (at once the first time, then again at each tick until they arrive).
   */
  behind(from: ProcessId, epoch: number, now: Time): void {
    if (epoch <= this.epochValue) return;
    if (epoch > this.aheadEpoch) {
      this.aheadEpoch = epoch;
      this.aheadFrom = from;
      this.aheadAskedMs = now;
      this.send([from], { type: 'MConfigStatus', epoch: this.epochValue });
    }
  }

  /** Periodic: long suspicions become removal requests; a stalled instance is retried; status is gossiped. */
  tick(now: Time): void {
    if (this.removedSelf) return;
    if (this.aheadEpoch > this.epochValue && now - this.aheadAskedMs >= this.tickMs) {
      this.aheadAskedMs = now;
      this.send([this.aheadFrom], { type: 'MConfigStatus', epoch: this.epochValue });
    }
    const after = this.options.removeAfterMs;
    if (after !== undefined) {
      for (let p = 1; p <= this.options.n; p++) {
        const since = this.suspectedSince[p]!;
        if (!Number.isNaN(since) && now - since >= after + this.staggerMs() && this.isMember(p) && p !== this.self) this.wanted.add(p);
      }
    }
    if (this.phase !== 'idle' && now - this.startedMs >= this.retryWaitMs()) {
      this.phase = 'idle';
      this.attempts++;
    }
    this.maybePropose(now);
    // Someone may have missed a decision (lost messages): now and then, tell the others where this
    // process stands; one that knows more answers with the decisions.
    if ((this.wanted.size > 0 || this.epochValue > 0) && now - this.statusSentMs >= Math.max(this.options.retryMs, STATUS_PERIOD_MIN_MS)) {
      this.statusSentMs = now;
      this.send(this.others(), { type: 'MConfigStatus', epoch: this.epochValue });
    }
  }

  /** A membership message from `from`. */
  handle(from: ProcessId, msg: MembershipMessage, now: Time): void {
    if (msg.type === 'MConfigDecided') return this.learn(from, msg.epoch, msg.members, now);
    if (msg.type === 'MConfigStatus') {
      // Behind the sender: ask it for what this process missed (it answers an older status with decisions).
      if (msg.epoch > this.epochValue) this.send([from], { type: 'MConfigStatus', epoch: this.epochValue });
      else this.answerStatus(from, msg.epoch);
      return;
    }
    if (msg.epoch < this.epochValue) {
      // The sender is behind: it needs the decisions it missed, not an answer.
      this.answerStatus(from, msg.epoch);
      return;
    }
    if (msg.epoch > this.epochValue) {
      // This process is behind: ask for what it missed, then take part.
      this.send([from], { type: 'MConfigStatus', epoch: this.epochValue });
      return;
    }
    if (this.removedSelf || !this.isMember(from)) return;
    switch (msg.type) {
      case 'MConfigPrepare':
        if (msg.ballot > this.promised) {
          this.promised = msg.ballot;
          this.reply(from, { type: 'MConfigPromise', epoch: msg.epoch, ballot: msg.ballot, abal: this.abal, aval: this.aval }, now);
        }
        return;
      case 'MConfigAccept':
        if (msg.ballot >= this.promised) {
          this.promised = msg.ballot;
          this.abal = msg.ballot;
          this.aval = msg.members;
          this.reply(from, { type: 'MConfigAccepted', epoch: msg.epoch, ballot: msg.ballot }, now);
        }
        return;
      case 'MConfigPromise':
        if (this.phase !== 'prepare' || msg.ballot !== this.ballot) return;
        this.promises.set(from, msg);
        if (this.promises.size >= this.majority()) this.startAccept(now);
        return;
      case 'MConfigAccepted':
        if (this.phase !== 'accept' || msg.ballot !== this.ballot) return;
        this.accepts.add(from);
        if (this.accepts.size >= this.majority()) {
          const members = this.proposal!;
          const epoch = this.epochValue;
          this.learn(this.self, epoch, members, now);
          this.send(this.all.filter((p) => p !== this.self), { type: 'MConfigDecided', epoch, members });
        }
        return;
    }
  }

  /** Outputs since the last call, in order; clears them. */
  drain(): readonly MembershipOutput[] {
    const drained = this.outputs;
    this.outputs = [];
    return drained;
  }

  /** Configurations learned since the last call, in order; clears them. */
  takeChanges(): readonly Configuration[] {
    const changes = this.changes;
    this.changes = [];
    return changes;
  }

  private majority(): number {
    return Math.floor(this.membersValue.length / 2) + 1;
  }

  private others(): ProcessId[] {
    return this.all.filter((p) => p !== this.self);
  }

  /** Proposers rank by id so that two of them rarely retry at once. */
  private staggerMs(): number {
    return ((this.self - 1) * this.options.retryMs) / (2 * this.options.n);
  }

  /**
   * How long an attempt may take before the next one: the retry period doubled per failed attempt
   * until it is at least RETRY_REACH_MS (a timeout below a round trip would otherwise restart every
   * attempt before its answers arrive, for ever), plus the stagger and a deterministic jitter of up
   * to half of it.
   */
  private retryWaitMs(): number {
    let waitMs = this.options.retryMs;
    for (let i = 0; i < this.attempts && waitMs < RETRY_REACH_MS; i++) waitMs *= 2;
    const jitter = (Math.imul(this.self * 0x9e37_79b9 + this.attempts * 0x85eb_ca6b + this.epochValue, 0xc2b2_ae35) >>> 0) / 2 ** 32;
    return waitMs + this.staggerMs() + (jitter * waitMs) / 2;
  }

  private send(to: readonly ProcessId[], msg: MembershipMessage): void {
    if (to.length > 0) this.outputs.push({ to, msg });
  }

  /** Answers `to`; an answer to this process itself is handled at once. */
  private reply(to: ProcessId, msg: MembershipMessage, now: Time): void {
    if (to === this.self) this.handle(to, msg, now);
    else this.outputs.push({ to: [to], msg });
  }

  /** The change this process would propose now, or null. */
  private ownProposal(): readonly ProcessId[] | null {
    for (const p of [...this.wanted]) if (!this.isMember(p)) this.wanted.delete(p);
    if (this.wanted.size === 0) return null;
    const next: ProcessId[] = [];
    let removed = 0;
    for (const p of this.membersValue) {
      if (this.wanted.has(p) && this.membersValue.length - (removed + 1) >= this.minMembers) removed++;
      else next.push(p);
    }
    return removed === 0 ? null : next;
  }

  private maybePropose(now: Time): void {
    if (this.phase !== 'idle' || this.removedSelf || this.ownProposal() === null) return;
    this.round++;
    this.ballot = Math.max(this.round * BALLOT_SPAN + this.self, (Math.floor(this.promised / BALLOT_SPAN) + 1) * BALLOT_SPAN + this.self);
    this.round = Math.floor(this.ballot / BALLOT_SPAN);
    this.phase = 'prepare';
    this.promises = new Map();
    this.accepts = new Set();
    this.proposal = null;
    this.startedMs = now;
    const msg: MConfigPrepare = { type: 'MConfigPrepare', epoch: this.epochValue, ballot: this.ballot };
    this.handle(this.self, msg, now);
    this.send(this.membersValue.filter((p) => p !== this.self), msg);
  }

  private startAccept(now: Time): void {
    let best: MConfigPromise | undefined;
    for (const promise of this.promises.values()) if (promise.aval !== null && (best === undefined || promise.abal > best.abal)) best = promise;
    const value = best?.aval ?? this.ownProposal();
    if (value === null) {
      this.phase = 'idle';
      return;
    }
    this.phase = 'accept';
    this.proposal = value;
    const msg: MConfigAccept = { type: 'MConfigAccept', epoch: this.epochValue, ballot: this.ballot, members: value };
    this.handle(this.self, msg, now);
    if (this.phase === 'accept') this.send(this.membersValue.filter((p) => p !== this.self), msg);
  }

  private answerStatus(to: ProcessId, epoch: number): void {
    for (let e = Math.max(0, epoch); e < this.epochValue; e++) this.send([to], { type: 'MConfigDecided', epoch: e, members: this.decided[e]! });
  }

  /** Instance `epoch` decided configuration `epoch + 1` = `members`. */
  private learn(from: ProcessId, epoch: number, members: readonly ProcessId[], now: Time): void {
    if (epoch !== this.epochValue) {
      if (epoch > this.epochValue && from !== this.self) this.send([from], { type: 'MConfigStatus', epoch: this.epochValue });
      return;
    }
    this.decided.push(members);
    this.epochValue = epoch + 1;
    this.membersValue = members;
    this.memberFlags.fill(0);
    for (const p of members) this.memberFlags[p] = 1;
    this.promised = 0;
    this.abal = 0;
    this.aval = null;
    this.phase = 'idle';
    this.attempts = 0;
    this.changes.push({ epoch: this.epochValue, members });
    this.maybePropose(now);
  }
}
