/**
 * A map with a limit on its entries that evicts the oldest insertion first, in O(1) amortised.
 *
 * Why not `map.delete(map.keys().next().value)`: V8 leaves a deleted entry in a Map's table as a
 * hole until the table is rehashed, and a fresh iterator walks over every hole at the front. A map
 * kept at its limit by evicting from the front accumulates holes there, so each eviction walks more
 * of them: measured on this machine with 200,000 entries, 50,000 evict-and-insert steps took 1.8 s,
 * then 4.8 s, 11.6 s and 26.7 s as the holes grew, against 7–80 ms with the insertion order kept
 * here. In the replica host that was the retry cache, and a 60-second run lost four fifths of its
 * throughput once the cache filled (docs/runtime.md, "Membership and removal").
 */
export class FifoMap<K, V> {
  /** Each value with the sequence number of its key's insertion. */
  private readonly map = new Map<K, { value: V; readonly seq: number }>();
  /** Insertions in order from `head` on; one whose key was deleted (or deleted and set again) since is stale. */
  private order: Array<{ readonly key: K; readonly seq: number }> = [];
  private head = 0;
  private seq = 0;

  constructor(readonly entriesMax: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Sets `key`; a new key past the limit evicts the oldest entry first. */
  set(key: K, value: V): void {
    const entry = this.map.get(key);
    if (entry !== undefined) {
      entry.value = value;
      return;
    }
    while (this.map.size >= this.entriesMax) this.evictOldest();
    const seq = ++this.seq;
    this.map.set(key, { value, seq });
    this.order.push({ key, seq });
    // Insertions of keys deleted by hand pile up in `order`: drop them once they outnumber the live ones.
    if (this.order.length - this.head > 2 * this.map.size + 1024) this.compact();
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  private live(insertion: { readonly key: K; readonly seq: number }): boolean {
    return this.map.get(insertion.key)?.seq === insertion.seq;
  }

  private evictOldest(): void {
    while (this.head < this.order.length) {
      const insertion = this.order[this.head++]!;
      if (this.live(insertion)) {
        this.map.delete(insertion.key);
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  private compact(): void {
    this.order = this.order.slice(this.head).filter((insertion) => this.live(insertion));
    this.head = 0;
  }
}
