/**
 * The key-value store every executor applies commands to (PROTOCOLS.md §1.2): `get` returns the
 * current value or null, `put` stores and returns null, `delete` removes and returns the previous
 * value. Results depend only on the order operations are applied in, never on anything else.
 */
import type { KeyOps, OpResult } from '../../core/command.js';
import { UnsupportedOperationError, type StateMachine } from '../../core/state-machine.js';

export class KVStore implements StateMachine {
  private readonly entries = new Map<string, string>();

  get(key: string): string | null {
    return this.entries.get(key) ?? null;
  }

  put(key: string, value: string): null {
    this.entries.set(key, value);
    return null;
  }

  delete(key: string): string | null {
    const previous = this.entries.get(key) ?? null;
    this.entries.delete(key);
    return previous;
  }

  /** Every `[key, value]` whose key starts with `prefix`, sorted by key (a local read of this replica's state). */
  list(prefix: string): Array<[string, string]> {
    const found: Array<[string, string]> = [];
    for (const [key, value] of this.entries) {
      if (key.startsWith(prefix)) found.push([key, value]);
    }
    return found.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Applies one command's operations on one key, in order, and returns their results. */
  apply(keyOps: KeyOps): OpResult[] {
    const results: OpResult[] = [];
    for (const op of keyOps.ops) {
      switch (op.op) {
        case 'get':
          results.push(this.get(keyOps.key));
          break;
        case 'put':
          results.push(this.put(keyOps.key, op.value));
          break;
        case 'delete':
          results.push(this.delete(keyOps.key));
          break;
        case 'call':
          // The store has no result value meaning "refused"; answering anything would pass for data.
          throw new UnsupportedOperationError(
            `the kv application has no operation '${op.name}' (key ${keyOps.key}); run the application that defines it (config.app)`,
          );
      }
    }
    return results;
  }
}
