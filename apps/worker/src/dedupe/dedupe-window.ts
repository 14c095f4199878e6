/**
 * Remembers event uuids for a bounded time and count, so the same event sent
 * over UDP and HTTP (or retried by the forwarder) is forwarded once.
 *
 * Nothing here is a JavaScript object per remembered uuid. A uuid is kept as
 * its 128 bits in a ring of typed arrays (insertion order, which with one TTL
 * for every entry is also expiry order), and found through an open-addressing
 * index of ring slots. A Map of uuid strings costs the garbage collector a
 * string and an entry per event for the whole window (200k by default), which
 * showed up as several microseconds per accepted event; typed arrays are
 * never traced.
 *
 * Canonical textual uuids (what the schema accepts) map to their exact bits.
 * Any other string is folded into 128 bits by hashing, where a collision is
 * possible in principle but not in any realistic volume.
 */
export class DedupeWindow {
  /** Ring of remembered ids: 4 words each, with their expiry times. */
  private readonly words: Uint32Array;
  private readonly expiries: Float64Array;
  private readonly capacity: number;
  private head = 0;
  private count = 0;
  /** Open-addressing index: ring slot + 1, 0 for empty. Size is a power of two. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly key = new Uint32Array(4);

  constructor(
    private readonly ttlMs: number,
    maxEntries: number,
  ) {
    this.capacity = ttlMs > 0 ? Math.max(0, Math.floor(maxEntries)) : 0;
    this.words = new Uint32Array(this.capacity * 4);
    this.expiries = new Float64Array(this.capacity);
    let size = 8;
    while (size < this.capacity * 2) size *= 2;
    this.index = new Int32Array(this.capacity > 0 ? size : 0);
    this.mask = size - 1;
  }

  /** True when `uuid` was added less than `ttlMs` ago. */
  has(uuid: string, now: number): boolean {
    if (this.capacity === 0) return false;
    toKey(uuid, this.key);
    const slot = this.find(this.key);
    return slot >= 0 && this.expiries[slot]! > now;
  }

  add(uuid: string, now: number): void {
    if (this.capacity === 0) return;
    while (this.count > 0 && (this.expiries[this.head]! <= now || this.count === this.capacity)) {
      this.evictHead();
    }
    const key = this.key;
    toKey(uuid, key);
    // A uuid still in the window (a caller that skipped `has`) just gets a new expiry.
    const existing = this.find(key);
    if (existing >= 0) this.remove(existing);
    const slot = (this.head + this.count) % this.capacity;
    this.words.set(key, slot * 4);
    this.expiries[slot] = now + this.ttlMs;
    this.count++;
    let i = hashKey(key) & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = slot + 1;
  }

  /** Ids currently remembered (expired ones count until they are evicted). */
  get size(): number {
    return this.count;
  }

  /** Ring slot holding `key`, or -1. */
  private find(key: Uint32Array): number {
    const words = this.words;
    let i = hashKey(key) & this.mask;
    for (;;) {
      const entry = this.index[i]!;
      if (entry === 0) return -1;
      const slot = entry - 1;
      const at = slot * 4;
      if (
        words[at] === key[0] &&
        words[at + 1] === key[1] &&
        words[at + 2] === key[2] &&
        words[at + 3] === key[3]
      ) {
        return slot;
      }
      i = (i + 1) & this.mask;
    }
  }

  private evictHead(): void {
    this.unindex(this.head);
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  /**
   * Forgets the id in `slot` early by expiring it in place; it leaves the
   * ring when the ring's head reaches it.
   */
  private remove(slot: number): void {
    this.expiries[slot] = Number.NEGATIVE_INFINITY;
    this.unindex(slot);
  }

  /** Removes `slot` from the index (backward-shift deletion keeps probes intact). */
  private unindex(slot: number): void {
    const words = this.words;
    const mask = this.mask;
    const at = slot * 4;
    let i = hash4(words[at]!, words[at + 1]!, words[at + 2]!, words[at + 3]!) & mask;
    while (this.index[i] !== slot + 1) {
      // Already unindexed (removed early): nothing to do.
      if (this.index[i] === 0) return;
      i = (i + 1) & mask;
    }
    let hole = i;
    let j = (hole + 1) & mask;
    while (this.index[j] !== 0) {
      const other = this.index[j]! - 1;
      const o = other * 4;
      const home = hash4(words[o]!, words[o + 1]!, words[o + 2]!, words[o + 3]!) & mask;
      // Move `other` into the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!stays) {
        this.index[hole] = this.index[j]!;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    this.index[hole] = 0;
  }
}

const hashKey = (k: Uint32Array): number => hash4(k[0]!, k[1]!, k[2]!, k[3]!);

/** Mixes 128 bits into 32 (murmur3's finalizer over a combination of the words). */
function hash4(a: number, b: number, c: number, d: number): number {
  let h = a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The 128 bits of a textual uuid into `out`; any other string is hashed into them. */
export function toKey(id: string, out: Uint32Array): void {
  if (id.length === 36 && parseUuid(id, out)) return;
  // Four differently seeded FNV-1a passes.
  let h0 = 0x811c9dc5;
  let h1 = 0x01000193;
  let h2 = 0x9e3779b9;
  let h3 = 0x7f4a7c15;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h0 = Math.imul(h0 ^ ch, 0x01000193);
    h1 = Math.imul(h1 ^ ch, 0x01000193);
    h2 = Math.imul(h2 ^ ch, 0x01000193);
    h3 = Math.imul(h3 ^ ch, 0x01000193);
  }
  out[0] = h0 ^ id.length;
  out[1] = h1;
  out[2] = h2;
  out[3] = h3;
}

/** Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case); false if it is not one. */
function parseUuid(id: string, out: Uint32Array): boolean {
  let word = 0;
  let digits = 0;
  let w = 0;
  for (let i = 0; i < 36; i++) {
    const ch = id.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (ch !== 45) return false;
      continue;
    }
    let v: number;
    if (ch >= 48 && ch <= 57) v = ch - 48;
    else if (ch >= 97 && ch <= 102) v = ch - 87;
    else if (ch >= 65 && ch <= 70) v = ch - 55;
    else return false;
    word = (word << 4) | v;
    if (++digits === 8) {
      out[w++] = word >>> 0;
      word = 0;
      digits = 0;
    }
  }
  return true;
}
