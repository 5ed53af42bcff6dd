/** Hand-driven flows for EPaxos and Atlas: processes built directly, messages delivered by the test. */
import { makeCommand, type Command } from '../core/command.js';
import { makeRifl } from '../core/ids.js';
import type { Message, Output, Process } from '../core/process.js';

/** Processes 1..n, each sorting the others by id (so p's quorums are its next ids, wrapping). */
export function cluster<P extends Process<Message, unknown>>(n: number, create: (id: number) => P): P[] {
  const processes: P[] = [];
  for (let id = 1; id <= n; id++) {
    const process = create(id);
    const others = Array.from({ length: n - 1 }, (_, i) => ((id + i) % n) + 1);
    process.discover([id, ...others]);
    processes.push(process);
  }
  return processes;
}

export function put(client: number, key = 'k'): Command {
  return makeCommand(makeRifl(client, 1), [{ key, ops: [{ op: 'put', value: `v${client}` }] }]);
}

/** The only send among `outputs`, checked to be of `type`. */
export function onlySend<M extends Message>(outputs: readonly Output<Message, unknown>[], type: M['type']): { kind: 'send'; to: readonly number[]; msg: M } {
  const sends = outputs.filter((o) => o.kind === 'send');
  if (sends.length !== 1 || outputs.length !== 1) throw new Error(`expected one ${type}, got ${JSON.stringify(outputs)}`);
  const send = sends[0]! as unknown as { kind: 'send'; to: readonly number[]; msg: M };
  if (send.msg.type !== type) throw new Error(`expected ${type}, got ${send.msg.type}`);
  return send;
}

/** The infos of every execute output. */
export function executes<I>(outputs: readonly Output<Message, I>[]): I[] {
  return outputs.flatMap((o) => (o.kind === 'execute' ? [o.info] : []));
}
