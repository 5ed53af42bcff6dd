/**
 * A client of the replicated adapter register over the runtime's wire protocol: what validators,
 * inference nodes and the release manager use to read the register (`get`) and to call it (`propose`,
 * `vote`, `markStable`).
 *
 * One command outstanding at a time (calls queue), each one SMR command on the target's key with a
 * fresh rifl of this client. The client talks to the first process of its preference list; a command
 * unanswered within `timeoutMs`, or whose connection closed, is re-submitted with the same rifl to the
 * next process, flagged `retry`, so a process that already executed it answers from its results and
 * the command takes effect once.
 */
import { connect, type Socket } from 'node:net';
import { decodeOutcome, decodeState, markStableOp, proposeOp, readOp, registerCommand, voteOp, type ProposeArgs, type VoteArgs } from '../apps/adapter-register/app.js';
import type { Outcome, RegisterState } from '../apps/adapter-register/register.js';
import type { Command, Op } from '../core/command.js';
import { makeRifl, PAIR_HIGH_MAX, type ProcessId } from '../core/ids.js';
import type { ExecutionResult } from '../core/process.js';
import { FRAME_BYTES_MAX_DEFAULT } from './codec.js';
import { frameCheck, plainMessageCheck, type WireFrame } from './schema.js';
import { BatchWriter, nowMs, readFrames, type Log } from './transport.js';

export interface RegisterClientOptions {
  /** Unique among every client of the cluster (rifls are per client). */
  readonly clientId: number;
  readonly addresses: ReadonlyArray<{ readonly id: ProcessId; readonly host: string; readonly port: number }>;
  /** Processes to try, in order. */
  readonly preference: readonly ProcessId[];
  readonly timeoutMs: number;
  readonly log: Log;
}

interface Call {
  readonly command: Command;
  readonly resolve: (result: string) => void;
  readonly reject: (error: Error) => void;
}

/** Re-submissions of one command before the call fails. */
const ATTEMPTS_MAX = 20;

export class RegisterClient {
  private readonly queue: Call[] = [];
  private active: { call: Call; target: number; attempts: number; timer: NodeJS.Timeout | undefined; resending: boolean } | undefined;
  private link: { socket: Socket; writer: BatchWriter; process: ProcessId; ready: Promise<void> } | undefined;
  private nextSeq = 1;
  private targetIndex = 0;
  private closed = false;
  private readonly check = frameCheck(plainMessageCheck, 64);
  /** Commands re-submitted to another process. */
  retries = 0;

  constructor(private readonly options: RegisterClientOptions) {
    if (!(options.clientId >= 1 && options.clientId <= PAIR_HIGH_MAX)) throw new Error(`register client id ${options.clientId} outside 1..${PAIR_HIGH_MAX}`);
  }

  /** The register state of `target`. */
  async read(target: string): Promise<RegisterState> {
    return decodeState(await this.submit(target, readOp()));
  }

  async propose(target: string, args: ProposeArgs): Promise<Outcome> {
    return decodeOutcome(await this.submit(target, proposeOp(args)));
  }

  async vote(target: string, args: VoteArgs): Promise<Outcome> {
    return decodeOutcome(await this.submit(target, voteOp(args)));
  }

  async markStable(target: string, versionId: string): Promise<Outcome> {
    return decodeOutcome(await this.submit(target, markStableOp(versionId)));
  }

  /** Submits one operation on `target` and resolves with its result. */
  submit(target: string, op: Op): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the register client is closed'));
    const command = registerCommand(makeRifl(this.options.clientId, this.nextSeq++), target, op);
    return new Promise((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      if (this.active === undefined) this.startNext();
    });
  }

  close(): void {
    this.closed = true;
    if (this.active?.timer !== undefined) clearTimeout(this.active.timer);
    const error = new Error('the register client closed');
    if (this.active !== undefined) this.active.call.reject(error);
    for (const call of this.queue) call.reject(error);
    this.queue.length = 0;
    this.active = undefined;
    this.link?.socket.destroy();
  }

  private startNext(): void {
    const call = this.queue.shift();
    if (call === undefined || this.closed) return;
    this.active = { call, target: this.currentTarget(), attempts: 0, timer: undefined, resending: false };
    this.send(false);
  }

  private currentTarget(): ProcessId {
    const { preference } = this.options;
    return preference[this.targetIndex % preference.length]!;
  }

  private send(retry: boolean): void {
    const active = this.active;
    if (active === undefined) return;
    active.resending = false;
    active.attempts++;
    if (active.attempts > ATTEMPTS_MAX) {
      this.active = undefined;
      active.call.reject(new Error(`no process answered command ${active.call.command.rifl} after ${ATTEMPTS_MAX} attempts`));
      this.startNext();
      return;
    }
    active.target = this.currentTarget();
    if (active.timer !== undefined) clearTimeout(active.timer);
    const attempt = active.attempts;
    active.timer = setTimeout(() => this.failover(attempt), this.options.timeoutMs);
    const command = active.call.command;
    this.connection(active.target).then(
      (writer) => writer.send({ cmd: command, retry }),
      () => this.failover(attempt),
    );
  }

  /**
   * Moves to the next process of the preference list and re-submits the active command there; only
   * once per attempt (a timeout and a closed connection may both report the same one).
   */
  private failover(attempt: number): void {
    const active = this.active;
    if (active === undefined || this.closed || active.attempts !== attempt || active.resending) return;
    active.resending = true;
    if (active.timer !== undefined) clearTimeout(active.timer);
    active.timer = undefined;
    this.retries++;
    this.targetIndex++;
    this.link?.socket.destroy();
    this.link = undefined;
    // With every process tried in a row, pause before the next round.
    const pauseMs = this.targetIndex % this.options.preference.length === 0 ? 100 : 0;
    setTimeout(() => {
      if (this.active === active) this.send(true);
    }, pauseMs);
  }

  private connection(process: ProcessId): Promise<BatchWriter> {
    const existing = this.link;
    if (existing !== undefined && existing.process === process && !existing.writer.isClosed) return existing.ready.then(() => existing.writer);
    this.link?.socket.destroy();
    const address = this.options.addresses.find((a) => a.id === process);
    if (address === undefined) return Promise.reject(new Error(`no address for process ${process}`));
    const socket = connect({ host: address.host, port: address.port });
    socket.setNoDelay(true);
    const describe = () => `process ${process}`;
    const writer = new BatchWriter({ socket, kind: 'submit', field: 'cmds', describe, log: this.options.log, frameBytesMax: FRAME_BYTES_MAX_DEFAULT });
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        writer.sendFrame({ k: 'hello', role: 'client', id: this.options.clientId });
        resolve();
      });
      socket.once('error', reject);
    });
    const link = { socket, writer, process, ready };
    this.link = link;
    readFrames({
      socket,
      describe,
      check: this.check,
      log: this.options.log,
      onFrame: (value) => {
        const frame = value as WireFrame;
        if (frame.k !== 'reply') return `a process may send reply frames, not '${frame.k}'`;
        for (const reply of frame.replies) this.onReply(reply.rifl, reply.results as ExecutionResult[]);
        return undefined;
      },
      onClose: () => {
        if (this.link !== link) return;
        this.link = undefined;
        if (this.active !== undefined && this.active.target === process) this.failover(this.active.attempts);
      },
    });
    return ready.then(() => writer);
  }

  private onReply(rifl: number, results: readonly ExecutionResult[]): void {
    const active = this.active;
    if (active === undefined || active.call.command.rifl !== rifl) return; // a late duplicate
    if (active.timer !== undefined) clearTimeout(active.timer);
    this.active = undefined;
    const result = results[0]?.results[0];
    if (results.length !== 1 || typeof result !== 'string') active.call.reject(new Error(`a register command answers one string result (rifl ${rifl})`));
    else active.call.resolve(result);
    this.startNext();
  }
}

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes of one machine. */
export function epochMs(): number {
  return performance.timeOrigin + nowMs();
}
