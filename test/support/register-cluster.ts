/**
 * Test support: the adapter register replicated by a real protocol. Replicas (core/replica.ts) of any
 * protocol run with `config.app = 'adapter-register'` over a seeded network (per-link FIFO, random
 * delays), with scripted, reactive clients playing the register's users:
 * - a release manager proposes each artifact at its scheduled time, at its scheduled process;
 * - once a proposal is answered, every validator (one per process, named by its id) votes after its
 *   own seeded validation delay, at its own process: pass for a good artifact, fail for a bad one;
 * - the client whose vote released a version marks it stable a little later;
 * - every process polls the register (a read-only `get`) periodically, like an inference node.
 * Timers run until every command has been answered and every process holds the same register state,
 * then the remaining messages drain. Everything derives from the seed.
 */
import { AdapterRegisterApp, decodeOutcome, decodeState, markStableOp, proposeOp, readOp, registerCommand, voteOp } from '../../apps/adapter-register/app.js';
import type { AuditEntry } from '../../apps/adapter-register/audit-log.js';
import type { RegisterState } from '../../apps/adapter-register/register.js';
import type { Command, Op } from '../../core/command.js';
import { makeConfig, type ProtocolName } from '../../core/config.js';
import { makeRifl, type ProcessId, type Rifl } from '../../core/ids.js';
import type { Message } from '../../core/process.js';
import { Replica } from '../../core/replica.js';
import { Rng } from '../../core/rng.js';
import { protocolByName } from '../../protocols/index.js';
import { EventQueue } from '../../sim/event-queue.js';

/** One artifact the release manager proposes. */
export interface ScriptedProposal {
  readonly atMs: number;
  readonly process: ProcessId;
  readonly target: string;
  readonly digest: string;
  readonly size: number;
  /** Whether validators find it good (they all agree; a bad one must never be released). */
  readonly good: boolean;
}

export interface RegisterRunOptions {
  readonly protocol: ProtocolName;
  readonly n: number;
  readonly seed: string | number;
  readonly proposals: readonly ScriptedProposal[];
  readonly pollEveryMs: number;
  /** Simulated time after which the run is declared stuck. */
  readonly maxTimeMs: number;
  /** Executor shards per process (key-partitioned executors only, i.e. Tempo); 1 by default. */
  readonly executorShards?: number;
  /**
   * Processes crashed from the start (a minority): they receive nothing, tick never, and their
   * validators never vote. Every process lists them last when sorting by distance, as if they were
   * far away, so quorums avoid them without needing recovery.
   */
  readonly crashed?: readonly ProcessId[];
  /** Protocol configuration beyond n and the application (e.g. f). */
  readonly config?: { readonly f?: number };
}

/** One process's register, whatever shard each target lives in. */
export interface RegisterView {
  targetNames(): string[];
  read(target: string): RegisterState;
  auditLog(target: string): readonly AuditEntry[];
}

/** The register of a process split over executor shards: each target lives in the shard that wrote it. */
class ShardedRegister implements RegisterView {
  constructor(private readonly shards: readonly AdapterRegisterApp[]) {}

  targetNames(): string[] {
    return this.shards.flatMap((shard) => shard.targetNames()).sort();
  }

  read(target: string): RegisterState {
    return this.owner(target).read(target);
  }

  auditLog(target: string): readonly AuditEntry[] {
    return this.owner(target).auditLog(target);
  }

  private owner(target: string): AdapterRegisterApp {
    const owners = this.shards.filter((shard) => shard.targetNames().includes(target));
    if (owners.length > 1) throw new Error(`target ${target} was written in ${owners.length} shards`);
    return owners[0] ?? this.shards[0]!;
  }
}

export interface RegisterRun {
  /** Each live process's application, after the run. */
  readonly apps: ReadonlyMap<ProcessId, RegisterView>;
  /** Outcomes of calls and states of reads, in the order clients received them. */
  readonly answered: { readonly process: ProcessId; readonly op: Op; readonly result: string }[];
  /** Every state a poll returned. */
  readonly polled: RegisterState[];
  readonly submitted: number;
  readonly endMs: number;
}

type Event =
  | { time: number; seq: number; kind: 'deliver'; from: ProcessId; to: ProcessId; msg: Message }
  | { time: number; seq: number; kind: 'timer'; process: ProcessId; timer: string; everyMs: number }
  | { time: number; seq: number; kind: 'submit'; process: ProcessId; target: string; op: Op }
  | { time: number; seq: number; kind: 'poll'; process: ProcessId };

/** Runs the scripted clients against `n` replicas of `protocol` and returns what every process ended with. */
export function runRegisterCluster(options: RegisterRunOptions): RegisterRun {
  const { n } = options;
  const protocol = protocolByName(options.protocol);
  const shards = options.executorShards ?? 1;
  const config = makeConfig(options.protocol, { n, app: 'adapter-register', executorShards: shards, ...options.config });
  const crashed = new Set(options.crashed ?? []);
  if (crashed.size * 2 >= n) throw new Error(`crash a minority only (${crashed.size} of ${n})`);
  const rng = new Rng(`register-cluster/${String(options.seed)}`);
  const replicas = new Map<ProcessId, Replica<Message, unknown>>();
  const apps = new Map<ProcessId, RegisterView>();
  const queue = new EventQueue<Event>();
  const linkFreeAt = new Map<string, number>();
  const pending = new Map<Rifl, { process: ProcessId; target: string; op: Op }>();
  const answered: RegisterRun['answered'] = [];
  const polled: RegisterState[] = [];
  const digestGood = new Map(options.proposals.map((proposal) => [proposal.digest, proposal.good]));
  const targets = [...new Set(options.proposals.map((proposal) => proposal.target))].sort();
  let nextClient = 1;
  let scheduledSubmits = 0;
  const schedule = (event: Event): void => {
    if (event.kind === 'submit') scheduledSubmits++;
    queue.push(event);
  };
  let submitted = 0;
  let now = 0;

  for (let id = 1; id <= n; id++) {
    const process = protocol.createProcess(id, config);
    const others = Array.from({ length: n - 1 }, (_, i) => ((id + i) % n) + 1);
    process.discover([id, ...others.filter((other) => !crashed.has(other)), ...others.filter((other) => crashed.has(other))]);
    const executors = Array.from({ length: shards }, (_, shard) => protocol.createExecutor(id, config, shard));
    const shardApps = executors.map((executor) => {
      const app = (executor as unknown as { app: unknown }).app;
      if (!(app instanceof AdapterRegisterApp)) throw new Error(`${options.protocol}: the executor does not run the adapter register`);
      return app;
    });
    if (!crashed.has(id)) apps.set(id, new ShardedRegister(shardApps));
    const shardOf = protocol.shardOf;
    if (shards > 1 && shardOf === undefined) throw new Error(`${options.protocol} has no key-partitioned executor`);
    replicas.set(id, new Replica(process, shardOf === undefined ? { executors } : { executors, shardOf }));
    for (const spec of process.timers) queue.push({ time: spec.everyMs, seq: 0, kind: 'timer', process: id, timer: spec.timer, everyMs: spec.everyMs });
    queue.push({ time: options.pollEveryMs, seq: 0, kind: 'poll', process: id });
  }
  for (const proposal of options.proposals) {
    schedule({
      time: proposal.atMs,
      seq: 0,
      kind: 'submit',
      process: proposal.process,
      target: proposal.target,
      op: proposeOp({ digest: proposal.digest, size: proposal.size, proposedAt: proposal.atMs }),
    });
  }

  const submit = (process: ProcessId, target: string, op: Op): void => {
    if (crashed.has(process)) throw new Error(`the script submits at crashed process ${process}`);
    // One client per command: no command waits behind another client's, and rifls never repeat.
    const rifl = makeRifl(nextClient++, 1);
    const cmd: Command = registerCommand(rifl, target, op);
    pending.set(rifl, { process, target, op });
    submitted++;
    replicas.get(process)!.submit(cmd, now);
    flush(process);
  };

  const onAnswer = (process: ProcessId, target: string, op: Op, result: string): void => {
    answered.push({ process, op, result });
    if (op.op === 'get') {
      polled.push(decodeState(result));
      return;
    }
    if (op.op !== 'call') return;
    const outcome = decodeOutcome(result);
    if (!outcome.ok) return;
    if (op.name === 'propose') {
      const { digest } = JSON.parse(op.args) as { digest: string };
      const pass = digestGood.get(digest) === true;
      for (let validator = 1; validator <= n; validator++) {
        if (crashed.has(validator)) continue;
        const evidence = pass ? 'quality above thresholds' : 'regression on the reference corpus';
        schedule({
          time: now + 5 + rng.int(200),
          seq: 0,
          kind: 'submit',
          process: validator,
          target,
          op: voteOp({ versionId: outcome.versionId, validator: String(validator), pass, evidence }),
        });
      }
    } else if (op.name === 'vote' && outcome.phase === 'RELEASE_COMMIT') {
      schedule({ time: now + 20, seq: 0, kind: 'submit', process, target, op: markStableOp(outcome.versionId) });
    }
  };

  function flush(process: ProcessId): void {
    for (const output of replicas.get(process)!.drain()) {
      if (output.kind === 'send') {
        for (const to of output.to) {
          if (to === process) continue;
          const link = `${process}>${to}`;
          const time = Math.max(now + 2 + rng.int(30), linkFreeAt.get(link) ?? 0);
          linkFreeAt.set(link, time);
          queue.push({ time, seq: 0, kind: 'deliver', from: process, to, msg: output.msg });
        }
      } else {
        const request = pending.get(output.rifl);
        if (request === undefined) throw new Error(`reply for unknown rifl ${output.rifl}`);
        pending.delete(output.rifl);
        const results = output.results;
        if (results.length !== 1 || results[0]!.results.length !== 1) throw new Error('a register command answers one result');
        onAnswer(request.process, request.target, request.op, results[0]!.results[0] as string);
      }
    }
  }

  const scriptDone = (): boolean => {
    if (pending.size > 0) return false;
    if (now < Math.max(...options.proposals.map((proposal) => proposal.atMs))) return false;
    // Scheduled client actions still in the queue keep the run going.
    return scheduledSubmits === 0;
  };
  const converged = (): boolean => {
    const reference = apps.values().next().value!;
    for (const target of targets) {
      const head = reference.read(target).logHead;
      for (const app of apps.values()) if (app.read(target).logHead !== head) return false;
    }
    return true;
  };

  let timersOn = true;
  for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
    now = event.time;
    if (now > options.maxTimeMs) throw new Error(`${options.protocol} seed ${String(options.seed)}: stuck at ${now} ms (${pending.size} commands unanswered, processes ${converged() ? "" : "not "}converged)`);
    switch (event.kind) {
      case 'deliver':
        if (crashed.has(event.to)) break;
        replicas.get(event.to)!.handle(event.from, event.msg, now);
        flush(event.to);
        break;
      case 'submit':
        scheduledSubmits--;
        submit(event.process, event.target, event.op);
        break;
      case 'poll':
        if (!timersOn || crashed.has(event.process)) break;
        submit(event.process, targets[rng.int(targets.length)]!, readOp());
        queue.push({ time: now + options.pollEveryMs, seq: 0, kind: 'poll', process: event.process });
        break;
      case 'timer':
        if (!timersOn || crashed.has(event.process)) break;
        replicas.get(event.process)!.onTimer(event.timer, now);
        flush(event.process);
        queue.push({ ...event, time: now + event.everyMs });
        break;
    }
    if (timersOn && scriptDone() && converged()) timersOn = false;
  }
  if (pending.size > 0) throw new Error(`${options.protocol} seed ${String(options.seed)}: ${pending.size} commands never answered`);
  return { apps, answered, polled, submitted, endMs: now };
}
