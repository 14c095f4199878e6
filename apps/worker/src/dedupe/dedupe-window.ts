/**
 * Remembers event uuids for a bounded time and count, so the same event sent
 * over UDP and HTTP (or retried by the forwarder) is forwarded once. A Map
 * keeps insertion order, and with one TTL for every entry insertion order is
 * expiry order: eviction only ever looks at the front.
 */
export class DedupeWindow {
  private readonly expiries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** True when `uuid` was added less than `ttlMs` ago. */
  has(uuid: string, now: number): boolean {
    const expiry = this.expiries.get(uuid);
    if (expiry === undefined) return false;
    if (expiry > now) return true;
    this.expiries.delete(uuid);
    return false;
  }

  add(uuid: string, now: number): void {
    if (this.ttlMs <= 0 || this.maxEntries <= 0) return;
    this.evict(now);
    this.expiries.delete(uuid);
    this.expiries.set(uuid, now + this.ttlMs);
  }

  get size(): number {
    return this.expiries.size;
  }

  private evict(now: number): void {
    for (const [uuid, expiry] of this.expiries) {
      if (expiry > now && this.expiries.size < this.maxEntries) return;
      this.expiries.delete(uuid);
    }
  }
}
