import { describe, expect, it } from 'vitest';
import { FaultInjector, FaultSpecError, parseFaultSpec } from './fault-injector.js';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('FaultInjector', () => {
  it('applies a counted fault to exactly that many requests', () => {
    const f = new FaultInjector();
    f.set({ status: 503, count: 2 });
    expect(f.take('posthog')).toEqual({ status: 503 });
    expect(f.take('ga4')).toEqual({ status: 503 });
    expect(f.take('posthog')).toBeUndefined();
    expect(f.injected).toBe(2);
    expect(f.active()).toEqual([]);
  });

  it('defaults to one request when neither count nor duration is given', () => {
    const f = new FaultInjector();
    f.set({ drop: true });
    expect(f.take('posthog')).toEqual({ drop: true });
    expect(f.take('posthog')).toBeUndefined();
  });

  it('applies a timed fault to every request until it expires', () => {
    const c = clock();
    const f = new FaultInjector(c.now);
    f.set({ status: 500, durationMs: 5000 });
    for (let i = 0; i < 10; i++) expect(f.take('posthog')).toEqual({ status: 500 });
    c.advance(4999);
    expect(f.take('posthog')).toEqual({ status: 500 });
    c.advance(1);
    expect(f.take('posthog')).toBeUndefined();
    expect(f.injected).toBe(11);
  });

  it('ends a fault with both count and duration at whichever comes first', () => {
    const c = clock();
    const f = new FaultInjector(c.now);
    f.set({ status: 429, count: 1, durationMs: 1000 });
    expect(f.take('ga4')).toEqual({ status: 429 });
    expect(f.take('ga4')).toBeUndefined();
    f.set({ status: 429, count: 5, durationMs: 1000 });
    c.advance(1000);
    expect(f.take('ga4')).toBeUndefined();
  });

  it('only touches the destination it names', () => {
    const f = new FaultInjector();
    f.set({ delayMs: 10, count: 1, destination: 'ga4' });
    expect(f.take('posthog')).toBeUndefined();
    expect(f.take('ga4')).toEqual({ delayMs: 10 });
  });

  it('uses faults in the order they were set and replaces them on set', () => {
    const f = new FaultInjector();
    f.set([
      { status: 413, count: 1 },
      { status: 500, count: 1 },
    ]);
    expect(f.take('posthog')?.status).toBe(413);
    expect(f.take('posthog')?.status).toBe(500);
    f.set({ status: 503, count: 3 });
    f.set({ delayMs: 1, count: 1 });
    expect(f.active()).toEqual([{ delayMs: 1, count: 1, remaining: 1 }]);
    f.clear();
    expect(f.take('posthog')).toBeUndefined();
  });
});

describe('parseFaultSpec', () => {
  it.each([
    [null, /JSON object/],
    [[], /JSON object/],
    [{}, /needs status, delayMs or drop/],
    [{ status: 404 }, /status must be one of 413, 429, 500, 503/],
    [{ status: 500, drop: true }, /cannot both/],
    [{ delayMs: -1 }, /delayMs/],
    [{ delayMs: 1.5 }, /delayMs/],
    [{ drop: 'yes' }, /boolean/],
    [{ status: 500, count: 0 }, /count/],
    [{ status: 500, durationMs: 0 }, /durationMs/],
    [{ status: 500, destination: 'mixpanel' }, /destination/],
    [{ status: 500, cuont: 2 }, /unknown fault field "cuont"/],
  ])('rejects %j', (input, message) => {
    expect(() => parseFaultSpec(input)).toThrow(FaultSpecError);
    expect(() => parseFaultSpec(input)).toThrow(message);
  });

  it('accepts a delay combined with a status', () => {
    expect(parseFaultSpec({ delayMs: 5, status: 500, count: 1 })).toEqual({
      delayMs: 5,
      status: 500,
      count: 1,
    });
  });
});
