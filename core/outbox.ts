/**
 * The FIFO output buffer every process uses behind `drain()`. Unlike fantoch's, it is first in,
 * first out: outputs leave in the order the protocol produced them.
 */
import type { ProcessId } from './ids.js';
import type { Message, Output } from './process.js';

const NOTHING: readonly never[] = Object.freeze([]);

export class Outbox<Msg extends Message, Info> {
  private outputs: Output<Msg, Info>[] = [];

  send(to: readonly ProcessId[], msg: Msg): void {
    this.outputs.push({ kind: 'send', to, msg });
  }

  execute(info: Info): void {
    this.outputs.push({ kind: 'execute', info });
  }

  drain(): readonly Output<Msg, Info>[] {
    const drained = this.outputs;
    if (drained.length === 0) return NOTHING;
    this.outputs = [];
    return drained;
  }
}
