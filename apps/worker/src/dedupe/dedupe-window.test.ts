import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DedupeWindow } from './dedupe-window.js';

describe('DedupeWindow', () => {
  it('remembers a uuid for the ttl only', () => {
    const w = new DedupeWindow(1000, 10);
    w.add('a', 0);
    expect(w.has('a', 999)).toBe(true);
    expect(w.has('a', 1000)).toBe(false);
    expect(w.has('b', 0)).toBe(false);
  });

  it('stays within its entry bound, evicting the oldest', () => {
    const w = new DedupeWindow(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) w.add(id, 0);
    expect(w.size).toBe(3);
    expect(w.has('a', 1)).toBe(false);
    expect(w.has('d', 1)).toBe(true);
  });

  it('is disabled by a zero window', () => {
    const w = new DedupeWindow(0, 10);
    w.add('a', 0);
    expect(w.has('a', 0)).toBe(false);
  });
});

describe('DedupeWindow at scale', () => {
  it('keeps the newest entries when evicting by count over many rounds', () => {
    const w = new DedupeWindow(60_000, 1000);
    for (let i = 0; i < 50_000; i++) w.add(`id-${i}`, i);
    expect(w.size).toBe(1000);
    expect(w.has('id-48999', 50_000)).toBe(false);
    expect(w.has('id-49000', 50_000)).toBe(true);
    expect(w.has('id-49999', 50_000)).toBe(true);
  });

  it('lets a re-added uuid outlive its first, expired entry', () => {
    const w = new DedupeWindow(100, 10);
    w.add('a', 0);
    w.add('a', 150);
    w.add('b', 160);
    expect(w.has('a', 200)).toBe(true);
    expect(w.has('a', 250)).toBe(false);
  });
});

describe('DedupeWindow against a reference model', () => {
  /** The obvious implementation: a Map of id → expiry, evicting the oldest insert. */
  class Reference {
    private readonly entries: Array<{ id: string; expiry: number }> = [];
    constructor(
      private readonly ttl: number,
      private readonly max: number,
    ) {}
    has(id: string, now: number): boolean {
      return this.entries.some((e) => e.id === id && e.expiry > now);
    }
    add(id: string, now: number): void {
      while (
        this.entries.length > 0 &&
        (this.entries[0]!.expiry <= now || this.entries.length === this.max)
      ) {
        this.entries.shift();
      }
      const at = this.entries.findIndex((e) => e.id === id);
      if (at >= 0) this.entries[at]!.expiry = Number.NEGATIVE_INFINITY;
      this.entries.push({ id, expiry: now + this.ttl });
    }
  }

  const ids = [
    '63b4b9a8-5f2b-4cef-95c1-c6e2b8f6c04c',
    '63B4B9A8-5F2B-4CEF-95C1-C6E2B8F6C04D',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'not-a-uuid',
    '',
    'x'.repeat(36),
  ];
  const op = fc.record({
    kind: fc.constantFrom('add', 'has'),
    id: fc.oneof(fc.constantFrom(...ids), fc.uuid(), fc.string({ maxLength: 40 })),
    dt: fc.nat({ max: 40 }),
  });

  it('answers every has() as the reference does, through eviction, expiry and re-adds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
        const ttl = 100;
        const real = new DedupeWindow(ttl, max);
        const model = new Reference(ttl, max);
        let now = 0;
        const seen: string[] = [];
        for (const o of ops) {
          now += o.dt;
          // Reuse earlier ids often, so hits, re-adds and evictions all happen.
          const id = seen.length > 0 && o.dt % 3 === 0 ? seen[o.dt % seen.length]! : o.id;
          if (o.kind === 'add') {
            real.add(id, now);
            model.add(id, now);
            seen.push(id);
          } else {
            expect(real.has(id, now)).toBe(model.has(id, now));
          }
          for (const s of seen.slice(-5)) expect(real.has(s, now)).toBe(model.has(s, now));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('treats a uuid in either case as the same id', () => {
    const w = new DedupeWindow(1000, 10);
    w.add('63b4b9a8-5f2b-4cef-95c1-c6e2b8f6c04c', 0);
    expect(w.has('63B4B9A8-5F2B-4CEF-95C1-C6E2B8F6C04C', 1)).toBe(true);
  });
});
