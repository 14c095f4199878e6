import type { NormalizedEvent } from '@runmat-telemetry/schema';
import { describe, expect, it } from 'vitest';
import { type Forwarder, ForwardQueue } from './forward-queue.js';

/** Holds every event, `bytes` each. */
class Holding implements Forwarder {
  readonly destination = 'posthog' as const;
  held = 0;
  constructor(private readonly bytes: number) {}
  pending() {
    return this.held;
  }
  pendingBytes() {
    return this.held * this.bytes;
  }
  push() {
    this.held++;
  }
  async close() {
    return 0;
  }
}

const event = {} as NormalizedEvent;

describe('ForwardQueue', () => {
  it('bounds every destination by events and by bytes', () => {
    const small = new Holding(100);
    const big = new Holding(1000);
    const q = new ForwardQueue([small, big], 1000, 50_000);
    // Before any push it assumes 2 KiB an event: 24 fit in 50 kB.
    expect(q.hasRoom(24)).toBe(true);
    expect(q.hasRoom(25)).toBe(false);
    // The queue does not refuse pushes (the intake checks room first): past the bound, it is full.
    for (let i = 0; i < 400; i++) q.push(event, undefined);
    expect(big.pendingBytes()).toBe(400_000);
    expect(q.hasRoom(1)).toBe(false);
    expect(q.isFull()).toBe(true);
    big.held = 0;
    small.held = 0;
    // Learned sizes: about 1000 bytes an event at `big`, so ~50 fit.
    expect(q.hasRoom(45)).toBe(true);
    expect(q.hasRoom(60)).toBe(false);
  });

  it('keeps reserved room from other requests until it is released', () => {
    const f = new Holding(0);
    const q = new ForwardQueue([f], 1000);
    const r = q.reserve(600);
    expect(r).not.toBeNull();
    expect(q.reserve(500)).toBeNull();
    expect(q.hasRoom(400)).toBe(true);
    for (let i = 0; i < 600; i++) q.push(event, undefined);
    q.release(r!);
    q.release(r!);
    // 600 held, nothing reserved.
    expect(q.hasRoom(400)).toBe(true);
    expect(q.hasRoom(401)).toBe(false);
  });
});
