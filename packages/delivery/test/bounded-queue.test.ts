import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../src/index.js';

const item = (id: number, bytes = 10) => ({ id, bytes });

describe('BoundedQueue', () => {
  it('refuses past the item bound and keeps FIFO order', () => {
    const q = new BoundedQueue<ReturnType<typeof item>>(3, 1000);
    expect([1, 2, 3, 4].map((i) => q.offer(item(i)))).toEqual([true, true, true, false]);
    expect(q.take(2, 1000).map((i) => i.id)).toEqual([1, 2]);
    expect(q.offer(item(5))).toBe(true);
    expect(q.drain().map((i) => i.id)).toEqual([3, 5]);
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it('refuses past the byte bound and takes batches within a byte budget', () => {
    const q = new BoundedQueue<ReturnType<typeof item>>(100, 50);
    expect(q.offer(item(1, 30))).toBe(true);
    expect(q.hasRoomFor(20)).toBe(true);
    expect(q.hasRoomFor(21)).toBe(false);
    expect(q.offer(item(2, 30))).toBe(false);
    expect(q.offer(item(3, 20))).toBe(true);
    expect(q.bytes).toBe(50);
    expect(q.take(10, 40).map((i) => i.id)).toEqual([1]);
    // An item over the batch budget still leaves, alone, so it cannot wedge the queue.
    expect(q.take(10, 5).map((i) => i.id)).toEqual([3]);
    expect(q.bytes).toBe(0);
  });

  it('stays correct across many cycles of its head index', () => {
    const q = new BoundedQueue<ReturnType<typeof item>>(10_000, 1_000_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 3000; i++) q.offer(item(next++, 1));
      for (const taken of q.take(2900, 1_000_000)) expect(taken.id).toBe(expected++);
    }
    expect(q.length).toBe(next - expected);
    expect(q.bytes).toBe(next - expected);
  });
});
