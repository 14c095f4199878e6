import { describe, expect, it } from 'vitest';
import {
  createRetryingFetch,
  DeliveryOutcomes,
  parseRetryAfter,
  type RawAnswer,
  RetryPolicy,
} from '../src/index.js';

describe('RetryPolicy', () => {
  it('waits a full-jitter delay under a doubling ceiling', () => {
    const high = new RetryPolicy({
      baseMs: 100,
      maxMs: 1_000,
      maxElapsedMs: 10_000,
      random: () => 0.999,
    });
    expect([0, 1, 2, 3, 4].map((a) => high.delay(a))).toEqual([99, 199, 399, 799, 999]);
    const low = new RetryPolicy({
      baseMs: 100,
      maxMs: 1_000,
      maxElapsedMs: 10_000,
      random: () => 0,
    });
    expect(low.delay(3)).toBe(0);
  });

  it('honours Retry-After up to its cap', () => {
    const p = new RetryPolicy({ baseMs: 100, maxMs: 1_000, maxElapsedMs: 10_000 });
    expect(p.delay(0, 2_500)).toBe(2_500);
    expect(p.delay(0, 90_000)).toBe(30_000);
  });

  it('classifies statuses: 2xx, 413, 408/429/5xx with Retry-After, the rest refused', () => {
    const p = new RetryPolicy({ baseMs: 1, maxMs: 1, maxElapsedMs: 1 });
    expect(p.classify(204)).toEqual({ kind: 'delivered' });
    expect(p.classify(413)).toEqual({ kind: 'too_large' });
    expect(p.classify(429, '3')).toEqual({ kind: 'retry', reason: '429', retryAfterMs: 3_000 });
    expect(p.classify(408)).toEqual({ kind: 'retry', reason: '408' });
    expect(p.classify(502)).toEqual({ kind: 'retry', reason: '502' });
    expect(p.classify(401)).toEqual({ kind: 'refused', reason: '401' });
  });

  it('stops inside the elapsed budget', () => {
    const p = new RetryPolicy({ baseMs: 1, maxMs: 1, maxElapsedMs: 1_000 });
    expect(p.allows(0, 500, 400)).toBe(true);
    expect(p.allows(0, 700, 400)).toBe(false);
  });

  it('stops after maxRetries when one is set', () => {
    const p = new RetryPolicy({ baseMs: 1, maxMs: 1, maxElapsedMs: 1_000, maxRetries: 2 });
    expect(p.allows(0, 0, 0, 2)).toBe(true);
    expect(p.allows(0, 0, 0, 3)).toBe(false);
  });

  it('refuses negative settings', () => {
    expect(() => new RetryPolicy({ baseMs: -1, maxMs: 1, maxElapsedMs: 1 })).toThrow(/baseMs/);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, capped', () => {
    expect(parseRetryAfter('2', 60_000)).toBe(2_000);
    expect(parseRetryAfter(['7'], 5_000)).toBe(5_000);
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(parseRetryAfter('Tue, 01 Dec 2026 00:00:03 GMT', 60_000, now)).toBe(3_000);
    expect(parseRetryAfter('soon', 60_000)).toBeUndefined();
    expect(parseRetryAfter(undefined, 60_000)).toBeUndefined();
  });
});

describe('createRetryingFetch', () => {
  const policy = new RetryPolicy({ baseMs: 1, maxMs: 2, maxElapsedMs: 200 });
  const body = JSON.stringify({ batch: [{ uuid: 'a' }, { uuid: 'b' }] });
  const eventsOf = (b: unknown) =>
    (JSON.parse(String(b)) as { batch: { uuid: string }[] }).batch.map((m) => m.uuid);
  const make = (answers: (RawAnswer | Error)[]) => {
    const outcomes = new DeliveryOutcomes('sdk');
    const settled: string[] = [];
    let n = 0;
    const fetch = createRetryingFetch({
      policy,
      outcomes,
      eventsOf,
      shutdown: new AbortController().signal,
      async request() {
        const a = answers[Math.min(n++, answers.length - 1)]!;
        if (a instanceof Error) throw a;
        return a;
      },
      onSettled: (events, how) => settled.push(`${how}:${events.join('')}`),
    });
    return { fetch, outcomes, settled, attempts: () => n };
  };
  const init = { method: 'POST', headers: {}, body };

  it('retries under the policy and counts the events a 2xx delivered', async () => {
    const { fetch, outcomes, settled, attempts } = make([
      { status: 503, headers: {}, body: '' },
      new Error('reset'),
      { status: 200, headers: {}, body: '{"status":"Ok"}' },
    ]);
    const res = await fetch('http://127.0.0.1/batch/', init);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'Ok' });
    expect(attempts()).toBe(3);
    expect(outcomes.delivered).toBe(2);
    expect(settled).toEqual(['delivered:ab']);
  });

  it('passes a 413 on several events back unsettled, so the SDK halves its batch', async () => {
    const { fetch, outcomes, settled } = make([{ status: 413, headers: {}, body: '' }]);
    expect((await fetch('http://x/', init)).status).toBe(413);
    expect(outcomes.delivered + outcomes.failedTotal()).toBe(0);
    expect(settled).toEqual([]);
  });

  it('answers 504 and counts retries_exhausted when no attempt got an answer', async () => {
    const { fetch, outcomes } = make([new Error('refused')]);
    expect((await fetch('http://x/', init)).status).toBe(504);
    expect(outcomes.failed.retries_exhausted).toBe(2);
    expect(outcomes.requests.network).toBeGreaterThan(1);
  });

  it('counts a refusal without retrying it', async () => {
    const { fetch, outcomes, attempts } = make([{ status: 401, headers: {}, body: 'no' }]);
    expect((await fetch('http://x/', init)).status).toBe(401);
    expect(attempts()).toBe(1);
    expect(outcomes.failed.refused).toBe(2);
  });

  it('throws once the shutdown signal aborts, leaving the events to the SDK', async () => {
    const outcomes = new DeliveryOutcomes('sdk');
    const shutdown = new AbortController();
    const fetch = createRetryingFetch({
      policy: new RetryPolicy({
        baseMs: 10_000,
        maxMs: 10_000,
        maxElapsedMs: 60_000,
        random: () => 0.5,
      }),
      outcomes,
      eventsOf,
      shutdown: shutdown.signal,
      request: async () => ({ status: 503, headers: {}, body: '' }),
      // Shut down at the moment it decides to wait for a retry.
      onRetry: () => shutdown.abort(),
    });
    const pending = fetch('http://x/', init);
    await expect(pending).rejects.toThrow(/shutdown/);
    expect(outcomes.delivered + outcomes.failedTotal()).toBe(0);
  });
});
