import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Answer, DeliveryEngine, type Destination, RetryPolicy } from '../src/index.js';

interface Item {
  id: number;
  key: string;
  bytes: number;
}

const item = (id: number, key = 'a', bytes = 10): Item => ({ id, key, bytes });
const ok: Answer = { status: 200, verdict: { kind: 'delivered' } };
const policy = (over: Partial<ConstructorParameters<typeof RetryPolicy>[0]> = {}) =>
  new RetryPolicy({ baseMs: 1, maxMs: 5, maxElapsedMs: 2_000, ...over });

/** A destination that records every attempt and answers with `answer(items, attempt)`. */
function recording(
  answer: (items: readonly Item[], n: number) => Answer | Promise<Answer> = () => ok,
  keyed = false,
) {
  const attempts: number[][] = [];
  const dest: Destination<Item> = {
    name: 'test',
    async send(items) {
      attempts.push(items.map((i) => i.id));
      return answer(items, attempts.length);
    },
    ...(keyed ? { keyOf: (i: Item) => i.key } : {}),
  };
  return { dest, attempts };
}

function engine(
  dest: Destination<Item>,
  over: Partial<ConstructorParameters<typeof DeliveryEngine>[1]> = {},
) {
  return new DeliveryEngine<Item>(dest, {
    maxEvents: 1000,
    maxBytes: 1_000_000,
    batchMaxEvents: 5,
    batchMaxBytes: 1_000,
    batchMaxWaitMs: 10_000,
    concurrency: 1,
    retry: policy(),
    ...over,
  });
}

describe('DeliveryEngine batching', () => {
  it('sends a batch once it is full by count, and a partial one at close', async () => {
    const { dest, attempts } = recording();
    const e = engine(dest);
    for (let i = 0; i < 7; i++) e.offer(item(i));
    await expect.poll(() => attempts.length).toBe(1);
    expect(attempts[0]).toEqual([0, 1, 2, 3, 4]);
    expect(e.pending()).toBe(2);
    expect(await e.close(1_000)).toBe(0);
    expect(attempts[1]).toEqual([5, 6]);
    expect(e.outcomes.delivered).toBe(7);
  });

  it('cuts by bytes before an item that would not fit', async () => {
    const { dest, attempts } = recording();
    const e = engine(dest, { batchMaxBytes: 25 });
    e.offer(item(1, 'a', 10));
    e.offer(item(2, 'a', 10));
    e.offer(item(3, 'a', 10));
    await expect.poll(() => attempts.length).toBe(1);
    expect(attempts[0]).toEqual([1, 2]);
    await e.close(1_000);
    expect(attempts[1]).toEqual([3]);
  });

  it('sends a partial batch once its oldest event has waited batchMaxWaitMs', async () => {
    const { dest, attempts } = recording();
    const e = engine(dest, { batchMaxWaitMs: 20 });
    e.offer(item(1));
    await expect.poll(() => attempts.length, { timeout: 2_000 }).toBe(1);
    expect(attempts[0]).toEqual([1]);
    await e.close(1_000);
  });

  it('keeps one key per batch (GA4: one client_id, at most 25 events)', async () => {
    const { dest, attempts } = recording(() => ok, true);
    const e = engine(dest, { batchMaxEvents: 25, concurrency: 4 });
    for (let i = 0; i < 60; i++) e.offer(item(i, i % 2 === 0 ? 'even' : 'odd'));
    await e.close(1_000);
    expect(attempts.map((a) => a.length).sort((x, y) => x - y)).toEqual([5, 5, 25, 25]);
    for (const a of attempts) expect(new Set(a.map((id) => id % 2)).size).toBe(1);
    expect(e.outcomes.delivered).toBe(60);
  });

  it('lets batches grow while every request slot is busy', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { dest, attempts } = recording(async (_items, n) => {
      if (n === 1) await gate;
      return ok;
    });
    const e = engine(dest, { batchMaxWaitMs: 1, batchMaxEvents: 100 });
    e.offer(item(0));
    await expect.poll(() => attempts.length).toBe(1);
    for (let i = 1; i <= 30; i++) e.offer(item(i));
    release();
    await expect.poll(() => attempts.length).toBe(2);
    expect(attempts[1]).toHaveLength(30);
    await e.close(1_000);
  });
});

describe('DeliveryEngine bounds', () => {
  it('refuses beyond its event and byte bounds, never evicting', async () => {
    const { dest } = recording(() => new Promise<Answer>(() => {}));
    const e = engine(dest, { maxEvents: 3, maxBytes: 25, batchMaxEvents: 100 });
    expect(e.offer(item(1, 'a', 10))).toBe(true);
    expect(e.offer(item(2, 'a', 10))).toBe(true);
    expect(e.offer(item(3, 'a', 10))).toBe(false);
    expect(e.offer(item(4, 'a', 5))).toBe(true);
    expect(e.offer(item(5, 'a', 0))).toBe(false);
    expect(e.outcomes.dropped.queue_full).toBe(2);
    expect(e.pending()).toBe(3);
    expect(e.pendingBytes()).toBe(25);
    expect(await e.close(20)).toBe(3);
    expect(e.offer(item(6))).toBe(false);
    expect(e.outcomes.dropped.closed).toBe(1);
  });
});

describe('DeliveryEngine retries', () => {
  it('retries 408, 429, 5xx and network errors, then delivers', async () => {
    const answers: (Answer | Error)[] = [
      { status: 503, verdict: { kind: 'retry', reason: '503' } },
      new Error('ECONNRESET'),
      { status: 429, verdict: { kind: 'retry', reason: '429', retryAfterMs: 5 } },
      ok,
    ];
    const { dest, attempts } = recording((_i, n) => {
      const a = answers[n - 1]!;
      if (a instanceof Error) throw a;
      return a;
    });
    const e = engine(dest);
    e.offer(item(1));
    expect(await e.close(5_000)).toBe(0);
    expect(attempts).toHaveLength(4);
    expect(e.outcomes.delivered).toBe(1);
    expect(e.outcomes.retries).toEqual({ '503': 1, network: 1, '429': 1 });
    expect(e.outcomes.requests).toEqual({ '503': 1, network: 1, '429': 1, '200': 1 });
  });

  it('fails a batch as retries_exhausted once the elapsed budget would be passed', async () => {
    const { dest, attempts } = recording(() => ({
      status: 500,
      verdict: { kind: 'retry', reason: '500', retryAfterMs: 40 },
    }));
    const e = engine(dest, { retry: policy({ maxElapsedMs: 100 }) });
    e.offer(item(1));
    e.offer(item(2));
    await e.close(5_000);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.length).toBeLessThanOrEqual(4);
    expect(e.outcomes.failed.retries_exhausted).toBe(2);
    expect(e.outcomes.delivered).toBe(0);
  });

  it('does not retry a refusal', async () => {
    const { dest, attempts } = recording(() => ({
      status: 400,
      verdict: { kind: 'refused', reason: '400' },
    }));
    const failed: string[] = [];
    const e = engine(dest, { onFailed: (reason, n) => failed.push(`${reason}:${n}`) });
    e.offer(item(1));
    await e.close(1_000);
    expect(attempts).toHaveLength(1);
    expect(e.outcomes.failed.refused).toBe(1);
    expect(failed).toEqual(['refused:1']);
  });

  it('halves a batch on 413 until it fits, and fails a single event that does not', async () => {
    const { dest, attempts } = recording((items) =>
      items.some((i) => i.id === 7) || items.length > 2
        ? { status: 413, verdict: { kind: 'too_large' } }
        : ok,
    );
    const e = engine(dest, { batchMaxEvents: 8 });
    for (let i = 0; i < 8; i++) e.offer(item(i));
    await e.close(5_000);
    expect(attempts[0]).toHaveLength(8);
    for (const a of attempts.slice(1)) expect(a.length).toBeLessThanOrEqual(4);
    expect(e.outcomes.delivered).toBe(7);
    expect(e.outcomes.failed.too_large).toBe(1);
  });

  it('counts events the destination rejected one by one inside an accepted request', async () => {
    const { dest } = recording(() => ({
      status: 200,
      verdict: { kind: 'delivered', rejected: 2 },
    }));
    const e = engine(dest);
    for (let i = 0; i < 5; i++) e.offer(item(i));
    await e.close(1_000);
    expect(e.outcomes.delivered).toBe(3);
    expect(e.outcomes.failed.rejected).toBe(2);
  });

  it('aborts what is still held at the close deadline and counts it as shutdown', async () => {
    let aborted = 0;
    const dest: Destination<Item> = {
      name: 'hang',
      send: (_items, signal) =>
        new Promise<Answer>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted++;
            reject(new Error('aborted'));
          });
        }),
    };
    const e = engine(dest, { batchMaxEvents: 2 });
    for (let i = 0; i < 5; i++) e.offer(item(i));
    expect(await e.close(30)).toBe(5);
    expect(aborted).toBe(1);
    expect(e.outcomes.failed.shutdown).toBe(5);
    expect(e.pending()).toBe(0);
  });
});

describe('DeliveryEngine accounting', () => {
  it('accounts for every offered event exactly, whatever the destination answers', async () => {
    const answer = fc.constantFrom<Answer | 'throw'>(
      ok,
      { status: 200, verdict: { kind: 'delivered', rejected: 1 } },
      { status: 503, verdict: { kind: 'retry', reason: '503' } },
      { status: 413, verdict: { kind: 'too_large' } },
      { status: 400, verdict: { kind: 'refused', reason: '400' } },
      'throw',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(answer, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        async (answers, offered, concurrency) => {
          let n = 0;
          const dest: Destination<Item> = {
            name: 'prop',
            async send() {
              const a = answers[n++ % answers.length]!;
              if (a === 'throw') throw new Error('network');
              return a;
            },
          };
          const e = engine(dest, {
            maxEvents: 25,
            batchMaxEvents: 4,
            concurrency,
            retry: policy({ maxElapsedMs: 20 }),
          });
          for (let i = 0; i < offered; i++) e.offer(item(i));
          await e.close(2_000);
          const o = e.outcomes;
          expect(o.admitted + o.dropped.queue_full).toBe(offered);
          expect(o.delivered + o.failedTotal()).toBe(o.admitted);
          expect(e.pending()).toBe(0);
          expect(e.pendingBytes()).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
