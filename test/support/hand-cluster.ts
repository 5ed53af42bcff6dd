/**
 * A hand-driven cluster for recovery scenarios: processes built directly, every send kept on a wire
 * the test delivers from (by predicate), drops, or leaves; crashed processes neither receive nor tick.
 */
import type { ProcessId } from '../../core/ids.js';
import type { Message, Process } from '../../core/process.js';

export interface Sent<M> {
  readonly from: ProcessId;
  readonly to: ProcessId;
  readonly msg: M;
}

export class HandCluster<M extends Message, I> {
  readonly wire: Sent<M>[] = [];
  readonly executed = new Map<ProcessId, I[]>();
  readonly crashed = new Set<ProcessId>();
  private readonly processes = new Map<ProcessId, Process<M, I>>();

  /** Processes 1..n; p sorts the others by next ids, wrapping (so p's quorums are p, p+1, ...). */
  constructor(n: number, create: (id: ProcessId) => Process<M, I>) {
    for (let id = 1; id <= n; id++) {
      const process = create(id);
      process.discover([id, ...Array.from({ length: n - 1 }, (_, i) => ((id + i) % n) + 1)]);
      this.processes.set(id, process);
      this.executed.set(id, []);
    }
  }

  p(id: ProcessId): Process<M, I> {
    return this.processes.get(id)!;
  }

  /** Moves `id`'s outputs to the wire (self-addressed copies included) and its executor list. */
  collect(id: ProcessId): void {
    for (const output of this.p(id).drain()) {
      if (output.kind === 'execute') this.executed.get(id)!.push(output.info);
      else for (const to of output.to) this.wire.push({ from: id, to, msg: output.msg });
    }
  }

  /** Delivers, in wire order and until none is left, every message `match` selects; crashed receivers lose theirs. */
  deliver(match: (sent: Sent<M>) => boolean, now = 0): void {
    for (let i = 0; i < this.wire.length; ) {
      const sent = this.wire[i]!;
      if (!match(sent)) {
        i++;
        continue;
      }
      this.wire.splice(i, 1);
      if (this.crashed.has(sent.to)) continue;
      this.p(sent.to).handle(sent.from, sent.msg, now);
      this.collect(sent.to);
      i = 0;
    }
  }

  /** Loses every message on the wire that `match` selects. */
  drop(match: (sent: Sent<M>) => boolean): void {
    for (let i = this.wire.length - 1; i >= 0; i--) if (match(this.wire[i]!)) this.wire.splice(i, 1);
  }

  /** Fires `timer` at the given live processes. */
  tick(ids: readonly ProcessId[], timer: string, now: number): void {
    for (const id of ids) {
      if (this.crashed.has(id)) continue;
      this.p(id).onTimer(timer, now);
      this.collect(id);
    }
  }

  /** From now on `id` receives nothing and does not tick (messages it sent stay on the wire). */
  crash(id: ProcessId): void {
    this.crashed.add(id);
  }
}
