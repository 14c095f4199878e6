/** Anything the queue holds: it only needs to know each item's size. */
export interface Sized {
  readonly bytes: number;
}

/**
 * FIFO bounded both in items and in bytes, so memory stays capped whatever
 * the input rate and whatever the item sizes. `offer` refuses rather than
 * evicts: what is already queued was promised delivery.
 */
export class BoundedQueue<T extends Sized> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private byteCount = 0;

  constructor(
    readonly maxItems: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Whether an item of `bytes` would be taken now (lets callers skip work for one that would not). */
  hasRoomFor(bytes: number): boolean {
    return this.length < this.maxItems && this.byteCount + bytes <= this.maxBytes;
  }

  /** Adds an item unless that would break a bound; returns whether it was taken. */
  offer(item: T): boolean {
    if (this.length >= this.maxItems || this.byteCount + item.bytes > this.maxBytes) return false;
    this.items.push(item);
    this.byteCount += item.bytes;
    return true;
  }

  /** The oldest item, without removing it. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /**
   * Removes up to `maxItems` oldest items whose sizes add up to at most
   * `maxBytes` (always at least one, so an item bigger than `maxBytes` cannot
   * wedge the queue).
   */
  take(maxItems: number, maxBytes: number): T[] {
    const out: T[] = [];
    let bytes = 0;
    while (out.length < maxItems && this.head < this.items.length) {
      const item = this.items[this.head] as T;
      if (out.length > 0 && bytes + item.bytes > maxBytes) break;
      this.items[this.head] = undefined;
      this.head++;
      bytes += item.bytes;
      out.push(item);
    }
    this.byteCount -= bytes;
    this.compact();
    return out;
  }

  /** Empties the queue and returns everything it held. */
  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    this.byteCount = 0;
    return out;
  }

  // Advancing a head index keeps `take` O(batch); the dead prefix is cut off
  // once it is most of the array so the backing store does not grow forever.
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
