/**
 * The slot executor (PROTOCOLS.md §2.2): commands run in slot order 1, 2, 3, … with no gaps; a slot
 * chosen early waits in a buffer until every slot below it has run. A no-op (a hole a new leader
 * filled) only advances. A rifl chosen in two slots (a command re-forwarded or retried after a
 * leader change) runs once.
 */
import { FrontierMap } from '../../core/frontier.js';
import { riflClient, riflSeq, type ProcessId } from '../../core/ids.js';
import { invariant } from '../../core/invariant.js';
import type { ExecutionResult, Executor, Time } from '../../core/process.js';
import { KVStore } from '../../apps/kv/store.js';
import type { StateMachine } from '../../core/state-machine.js';
import type { SlotInfo } from './messages.js';

export class SlotExecutor implements Executor<SlotInfo> {
  private nextSlot = 1;
  private readonly buffer = new Map<number, SlotInfo>();
  private readonly executedRifls = new FrontierMap();
  private results: ExecutionResult[] = [];

  /** `app` is the application commands run against (config.app through apps/index.ts; the store by default). */
  constructor(
    readonly process: ProcessId,
    readonly app: StateMachine = new KVStore(),
  ) {}

  /** The next slot this executor will run; every slot below it has run. */
  get executedUpTo(): number {
    return this.nextSlot - 1;
  }

  handle(info: SlotInfo, _now: Time): void {
    if (info.slot < this.nextSlot) return;
    const earlier = this.buffer.get(info.slot);
    invariant(earlier === undefined || (earlier.cmd?.rifl ?? null) === (info.cmd?.rifl ?? null), () => `slot ${info.slot} chosen with two values`);
    invariant(this.buffer.size < 16 * 1024 * 1024, 'slot executor buffer exceeds 16M slots');
    this.buffer.set(info.slot, info);
    for (let next = this.buffer.get(this.nextSlot); next !== undefined; next = this.buffer.get(this.nextSlot)) {
      this.buffer.delete(this.nextSlot);
      this.nextSlot++;
      this.run(next);
    }
  }

  drain(): readonly ExecutionResult[] {
    const drained = this.results;
    if (drained.length > 0) this.results = [];
    return drained;
  }

  private run(info: SlotInfo): void {
    const { cmd } = info;
    if (cmd === null) return;
    if (!this.executedRifls.add(riflClient(cmd.rifl), riflSeq(cmd.rifl))) return;
    for (const keyOps of cmd.keys) {
      this.results.push({ rifl: cmd.rifl, key: keyOps.key, results: this.app.apply(keyOps) });
    }
  }
}
