/**
 * The replica: one process, its executor shard(s) and the pending-client bookkeeping, driven alike
 * by the simulator and the runtime so that neither re-implements routing.
 *
 * Contract, per input (`submit`, `handle`, `onTimer`):
 * 1. the input goes to the process;
 * 2. the process's outputs are taken FIFO: a send is split into the copy for this process, which is
 *    delivered here at once (queued behind outputs already taken), and the copy for the others,
 *    which is emitted for the host; an execute goes to the executor shard that owns it;
 * 3. executor partial results are gathered per rifl; once every key of a command submitted here has
 *    answered, a reply is emitted; the dots the executor ran go back to the process when both ask for
 *    it (`Executor.drainExecuted`, `Process.executed`), which feeds garbage collection;
 * 4. infos an executor shard addresses to other shards (`drainShardInfos`) are routed with `shardOf`
 *    through one FIFO queue, emptied before the next process output is taken. With one queue for all
 *    shards, the shards see the same infos in the same order whatever their number.
 * Outputs for the host come out of `drain()` in the order they were produced.
 *
 * Client retries (a client that timed out sends the same command, same rifl, to another replica):
 * executors run a rifl at most once, so a replica that already executed the retried command would
 * never see its results again. The replica therefore remembers, per client, the results of the
 * latest rifl it executed, and answers a retry of it at once. Clients are closed-loop (one command
 * outstanding), so a retry is always of the client's latest rifl, and the memory is one entry per client.
 */
import type { Command } from './command.js';
import { riflClient, type ClientId, type ProcessId, type Rifl, type ShardId } from './ids.js';
import { invariant } from './invariant.js';
import { isMembershipMessage, Membership, type Configuration, type MembershipOptions } from './membership.js';
import type { ExecutionResult, Executor, Message, Process, Time, TimerSpec } from './process.js';

/** Most messages held back for a configuration not learned yet. */
const HELD_MAX = 100_000;

/** The timer the replica adds for its membership service. */
export const MEMBERSHIP_TIMER = 'membership';

/** What a replica asks its host to do. */
export type ReplicaOutput<Msg extends Message> =
  | { readonly kind: 'send'; readonly to: readonly ProcessId[]; readonly msg: Msg }
  | { readonly kind: 'reply'; readonly rifl: Rifl; readonly results: readonly ExecutionResult[] };

export interface ReplicaOptions<Info> {
  /** Executor shards; one unless the protocol's executor is key-partitioned. */
  readonly executors: readonly Executor<Info>[];
  /** Which shard handles an info; required with more than one executor. */
  readonly shardOf?: (info: Info, shards: number) => ShardId;
  /** Observes every partial result this replica's executors produce, in execution order. */
  readonly onExecuted?: (result: ExecutionResult) => void;
  /** Limit on commands submitted here and not yet answered. */
  readonly pendingMax?: number;
  /**
   * Remember each client's latest executed rifl to answer its retries (default true). A host whose
   * clients never retry (a simulation without client timeouts) turns it off to save the bookkeeping.
   */
  readonly answerRetries?: boolean;
  /** Observes every info the process hands to its executors (not those shards send each other). */
  readonly onInfo?: (info: Info) => void;
  /**
   * Runs the membership service (core/membership.ts): configurations agreed by the processes,
   * removal on request or after a long suspicion, messages from removed processes refused. Absent:
   * the configuration never changes (and nothing of the service runs, so such runs keep their bytes).
   */
  readonly membership?: MembershipOptions;
  /** Observes every configuration this replica learns. */
  readonly onReconfigure?: (configuration: Configuration, now: Time) => void;
}

/** The partial results of a client's latest executed rifl, for answering its retries. */
interface Latest {
  readonly rifl: Rifl;
  readonly results: ExecutionResult[];
}

interface Pending {
  remainingKeys: number;
  readonly results: ExecutionResult[];
}

const NOTHING: readonly never[] = Object.freeze([]);

export class Replica<Msg extends Message, Info> {
  readonly id: ProcessId;
  private readonly executors: readonly Executor<Info>[];
  private readonly shardOf: ((info: Info, shards: number) => ShardId) | undefined;
  private readonly onExecuted: ((result: ExecutionResult) => void) | undefined;
  private readonly pendingMax: number;
  private readonly onInfo: ((info: Info) => void) | undefined;
  private readonly answerRetries: boolean;
  private readonly pending = new Map<Rifl, Pending>();
  private readonly latest = new Map<ClientId, Latest>();
  private outputs: ReplicaOutput<Msg>[] = [];
  /** Messages this process sent to itself, delivered FIFO before the input returns. */
  private readonly selfQueue: Msg[] = [];
  /** Infos executor shards addressed to shards, routed FIFO (see the contract, step 4). */
  private shardQueue: Info[] = [];
  /** The membership service, when the host runs one. */
  readonly membership: Membership | undefined;
  private readonly onReconfigure: ((configuration: Configuration, now: Time) => void) | undefined;
  /** True once some process left the configuration: sends are filtered from then on. */
  private excluding = false;
  /** Messages refused because their sender is not a member. */
  refusedFromNonMembers = 0;
  /** Messages from a configuration this replica has not learned yet, in arrival order. */
  private held: { readonly from: ProcessId; readonly msg: Msg; readonly epoch: number }[] = [];
  /** Messages dropped because too many were held. */
  heldDropped = 0;
  /** The timers the host drives: the process's, plus the membership service's. */
  readonly timers: readonly TimerSpec[];

  constructor(
    readonly process: Process<Msg, Info>,
    options: ReplicaOptions<Info>,
  ) {
    this.id = process.id;
    invariant(options.executors.length >= 1, 'a replica needs an executor');
    invariant(options.executors.length === 1 || options.shardOf !== undefined, 'several executors need shardOf');
    this.executors = options.executors;
    this.shardOf = options.shardOf;
    this.onExecuted = options.onExecuted;
    this.pendingMax = options.pendingMax ?? 1_000_000;
    this.onInfo = options.onInfo;
    this.answerRetries = options.answerRetries ?? true;
    this.membership = options.membership === undefined ? undefined : new Membership(process.id, options.membership);
    this.onReconfigure = options.onReconfigure;
    this.timers = this.membership === undefined ? process.timers : [...process.timers, { timer: MEMBERSHIP_TIMER, everyMs: this.membership.tickMs }];
    // Executors record executed dots only for a host that asks; ask before the first input.
    if (process.executed !== undefined) for (const executor of this.executors) executor.drainExecuted?.();
  }

  /** Number of commands submitted here that have not been answered yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * A command from a client connected to this replica. A rifl already pending is not registered
   * twice; a rifl this replica already executed in full is answered at once (see the file comment).
   */
  submit(cmd: Command, now: Time): void {
    // A removed process serves no one: its clients time out and go elsewhere.
    if (this.membership?.removedSelf === true) return;
    if (!this.pending.has(cmd.rifl)) {
      const latest = this.latest.get(riflClient(cmd.rifl));
      const executed = latest !== undefined && latest.rifl === cmd.rifl ? latest.results : NOTHING;
      if (executed.length === cmd.keys.length) {
        this.outputs.push({ kind: 'reply', rifl: cmd.rifl, results: executed.slice() });
        return;
      }
      invariant(this.pending.size < this.pendingMax, () => `pending commands exceed the limit pendingMax=${this.pendingMax}`);
      this.pending.set(cmd.rifl, { remainingKeys: cmd.keys.length - executed.length, results: executed.slice() });
    }
    this.process.submit(cmd, now);
    this.pump(now);
  }

  /** The configuration this replica is in (0 until a change; always 0 without the membership service). */
  get epoch(): number {
    return this.membership?.epoch ?? 0;
  }

  /**
   * A message from another process, sent when the sender was in configuration `senderEpoch` (hosts
   * stamp what they carry with the sender's `epoch` when it drained the message; a later epoch is
   * fine, it only delays). A message from a configuration this replica has not learned yet waits
   * until it has: whatever a process does knowing a configuration reaches others only after they
   * know it too, so a removed process never acts on a decision taken without it (for instance, a
   * command whose dependencies were pruned once it left), and a member never relays one to it.
   */
  handle(from: ProcessId, msg: Msg, now: Time, senderEpoch = 0): void {
    const membership = this.membership;
    if (membership !== undefined) {
      if (isMembershipMessage(msg)) {
        membership.handle(from, msg, now);
        this.pumpMembership(now);
        return;
      }
      if (membership.removedSelf) return;
      if (senderEpoch > membership.epoch) {
        this.holdForEpoch(from, msg, senderEpoch, now);
        return;
      }
      if (!membership.isMember(from)) {
        this.refusedFromNonMembers++;
        return;
      }
    }
    // Without the service nothing is checked here (hot path); no host sends membership messages to
    // such a replica, and a protocol's handle ignores message types it does not know.
    this.process.handle(from, msg, now);
    this.pump(now);
  }

  /** A periodic event the process declared, or the membership service's. */
  onTimer(timer: string, now: Time): void {
    const membership = this.membership;
    if (membership !== undefined) {
      if (timer === MEMBERSHIP_TIMER) {
        membership.tick(now);
        this.pumpMembership(now);
        return;
      }
      if (membership.removedSelf) return;
    }
    this.process.onTimer(timer, now);
    this.pump(now);
  }

  /** The host's failure detector suspects `process` (passed to the process when it listens). */
  suspect(process: ProcessId, now: Time): void {
    this.membership?.suspect(process, now);
    if (this.process.suspect === undefined) return;
    this.process.suspect(process, now);
    this.pump(now);
  }

  /** The host's failure detector withdrew its suspicion of `process`. */
  unsuspect(process: ProcessId, now: Time): void {
    this.membership?.unsuspect(process);
    if (this.process.unsuspect === undefined) return;
    this.process.unsuspect(process, now);
    this.pump(now);
  }

  /**
   * Asks the configuration to drop `process` (an operator's request, or a fault schedule's). Returns
   * why it was refused, or undefined when the change is under way.
   */
  requestRemoval(process: ProcessId, now: Time): string | undefined {
    const membership = this.membership;
    if (membership === undefined) return 'this replica runs no membership service';
    if (this.process.reconfigure === undefined) return 'this protocol cannot change its configuration';
    const refused = membership.requestRemoval(process, now);
    this.pumpMembership(now);
    return refused;
  }

  /** Keeps a message from a configuration not learned yet, and asks its sender for the decisions. */
  private holdForEpoch(from: ProcessId, msg: Msg, senderEpoch: number, now: Time): void {
    if (this.held.length < HELD_MAX) this.held.push({ from, msg, epoch: senderEpoch });
    else this.heldDropped++; // as if lost: the protocols resend or recover
    this.membership!.behind(from, senderEpoch, now);
    this.pumpMembership(now);
  }

  /** Takes the membership service's outputs and hands every new configuration to the process. */
  private pumpMembership(now: Time): void {
    const membership = this.membership!;
    for (const output of membership.drain()) this.outputs.push({ kind: 'send', to: output.to, msg: output.msg as unknown as Msg });
    const changes = membership.takeChanges();
    if (changes.length === 0) return;
    this.excluding = true;
    for (const configuration of changes) {
      this.onReconfigure?.(configuration, now);
      if (!membership.removedSelf) this.process.reconfigure?.(configuration, now);
    }
    this.pump(now);
    // Messages that waited for these configurations, in arrival order.
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    for (const h of held) this.handle(h.from, h.msg, now, h.epoch);
  }

  /** Partial results produced outside an input (asynchronous executors in the runtime). */
  deliverResults(results: readonly ExecutionResult[]): void {
    for (const result of results) this.gather(result);
  }

  drain(): readonly ReplicaOutput<Msg>[] {
    const drained = this.outputs;
    if (drained.length === 0) return NOTHING;
    this.outputs = [];
    return drained;
  }

  private pump(now: Time): void {
    for (;;) {
      const outputs = this.process.drain();
      for (const output of outputs) {
        if (output.kind === 'send') this.route(output.to, output.msg);
        else this.execute(output.info, now);
      }
      const next = this.selfQueue.shift();
      if (next === undefined) return;
      this.process.handle(this.id, next, now);
    }
  }

  private route(to: readonly ProcessId[], msg: Msg): void {
    if (this.excluding) {
      to = this.toMembers(to);
      if (to.length === 0) return;
    }
    const selfIndex = to.indexOf(this.id);
    if (selfIndex < 0) {
      this.outputs.push({ kind: 'send', to, msg });
      return;
    }
    this.selfQueue.push(msg);
    if (to.length > 1) {
      const others = to.slice();
      others.splice(selfIndex, 1);
      this.outputs.push({ kind: 'send', to: others, msg });
    }
  }

  /** `to` without the processes that left the configuration (they would refuse it anyway). */
  private toMembers(to: readonly ProcessId[]): readonly ProcessId[] {
    const membership = this.membership!;
    let all = true;
    for (const p of to) if (!membership.isMember(p)) all = false;
    return all ? to : to.filter((p) => membership.isMember(p));
  }

  private execute(info: Info, now: Time): void {
    this.onInfo?.(info);
    this.executeOnShard(info, now);
    const queue = this.shardQueue;
    if (queue.length === 0) return;
    // Every shard appends to this same array while it is walked, so the loop sees those infos too.
    for (let i = 0; i < queue.length; i++) this.executeOnShard(queue[i]!, now);
    this.shardQueue = [];
  }

  private executeOnShard(info: Info, now: Time): void {
    const shards = this.executors.length;
    const shard = shards === 1 ? 0 : this.shardOf!(info, shards);
    const executor = this.executors[shard];
    invariant(executor !== undefined, () => `no executor shard ${shard} of ${shards}`);
    executor.handle(info, now);
    for (const result of executor.drain()) this.gather(result);
    if (this.process.executed !== undefined && executor.drainExecuted !== undefined) {
      const dots = executor.drainExecuted();
      if (dots.length > 0) this.process.executed(dots, now);
    }
    if (executor.drainShardInfos === undefined) return;
    for (const forwarded of executor.drainShardInfos()) this.shardQueue.push(forwarded);
  }

  private gather(result: ExecutionResult): void {
    this.onExecuted?.(result);
    if (this.answerRetries) this.remember(result);
    const pending = this.pending.get(result.rifl);
    if (pending === undefined) return; // submitted elsewhere, or already answered
    pending.results.push(result);
    pending.remainingKeys--;
    if (pending.remainingKeys === 0) {
      this.pending.delete(result.rifl);
      this.outputs.push({ kind: 'reply', rifl: result.rifl, results: pending.results });
    }
  }

  /** Keeps the results of each client's latest executed rifl (older rifls are never retried). */
  private remember(result: ExecutionResult): void {
    const client = riflClient(result.rifl);
    const latest = this.latest.get(client);
    if (latest === undefined || latest.rifl < result.rifl) this.latest.set(client, { rifl: result.rifl, results: [result] });
    else if (latest.rifl === result.rifl) latest.results.push(result);
  }
}
