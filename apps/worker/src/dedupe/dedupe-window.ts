/**
 * Remembers event uuids for a bounded time and count, so the same event sent
 * over UDP and HTTP (or retried by the forwarder) is forwarded once.
 *
 * Lookups go through a Map; expiry order lives in a ring buffer beside it.
 * (Evicting by iterating the Map from its front looks O(1) but is not: V8
 * keeps deleted entries as holes until it rehashes, so every scan would skip
 * all of them again.) With one TTL for every entry, insertion order is expiry
 * order, so eviction only ever looks at the ring's head.
 */
export class DedupeWindow {
  private readonly expiries = new Map<string, number>();
  private readonly ringIds: Array<string | undefined>;
  private readonly ringExpiries: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    private readonly ttlMs: number,
    maxEntries: number,
  ) {
    const capacity = ttlMs > 0 ? Math.max(0, maxEntries) : 0;
    this.ringIds = new Array(capacity);
    this.ringExpiries = new Float64Array(capacity);
  }

  /** True when `uuid` was added less than `ttlMs` ago. */
  has(uuid: string, now: number): boolean {
    const expiry = this.expiries.get(uuid);
    return expiry !== undefined && expiry > now;
  }

  add(uuid: string, now: number): void {
    const capacity = this.ringIds.length;
    if (capacity === 0) return;
    while (this.count > 0 && (this.ringExpiries[this.head]! <= now || this.count === capacity)) {
      this.evictHead();
    }
    const expiry = now + this.ttlMs;
    const slot = (this.head + this.count) % capacity;
    this.ringIds[slot] = uuid;
    this.ringExpiries[slot] = expiry;
    this.count++;
    this.expiries.set(uuid, expiry);
  }

  get size(): number {
    return this.expiries.size;
  }

  private evictHead(): void {
    const id = this.ringIds[this.head]!;
    // A uuid re-added after expiring has a newer ring entry; only the entry
    // that set the current expiry may remove it.
    if (this.expiries.get(id) === this.ringExpiries[this.head]) this.expiries.delete(id);
    this.ringIds[this.head] = undefined;
    this.head = (this.head + 1) % this.ringIds.length;
    this.count--;
  }
}
