import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sized } from './bounded-queue.js';
import { DeliveryOutcomes, type FailReason } from './outcomes.js';
import { type RetryPolicy, runAttempts, type Verdict } from './retry-policy.js';

/** A destination's answer to one attempt: the HTTP status and what it means. */
export interface Answer {
  readonly status: number;
  readonly verdict: Verdict;
}

/**
 * One destination, as the engine sees it: an encoder and a status classifier
 * behind `send`. `send` makes exactly one attempt; it resolves with the
 * answer (any HTTP status) and throws only when there was none (a network
 * error or timeout), which the engine retries as `network`.
 */
export interface Destination<T extends Sized> {
  readonly name: string;
  send(items: readonly T[], signal: AbortSignal): Promise<Answer>;
  /**
   * Batches are cut per key (GA4: one `client_id` per request). Without it
   * every item goes into one batch stream.
   */
  keyOf?(item: T): string;
}

/** Bounds and pacing of a {@link DeliveryEngine}. */
export interface DeliveryEngineOptions {
  /** Events held at once: waiting, batched or in flight. */
  maxEvents: number;
  /** Their bytes ({@link Sized.bytes}). */
  maxBytes: number;
  /** Events per request. */
  batchMaxEvents: number;
  /** Bytes per request (a single larger item still goes alone). */
  batchMaxBytes: number;
  /** A partial batch leaves once its oldest event has waited this long and a request slot is free. */
  batchMaxWaitMs: number;
  /** Requests in flight at once. */
  concurrency: number;
  retry: RetryPolicy;
  /** Called when events are given up on (for a log line; they are already counted). */
  onFailed?(reason: FailReason, events: number, detail: string): void;
  /** Called before each retry. */
  onRetry?(reason: string, attempt: number, delayMs: number): void;
}

interface Batch<T> {
  readonly key: string;
  items: T[];
  bytes: number;
  readonly openedAt: number;
  /** First attempt's time: the retry budget runs from here, halves of a 413 included. */
  startedAt?: number;
}

/**
 * The delivery engine: admits events up to its bounds (refusing, never
 * evicting, beyond them), cuts them into batches per destination key, sends
 * up to `concurrency` batches at once through the destination, retries under
 * the one {@link RetryPolicy}, halves a batch on 413, and accounts for every
 * event in {@link DeliveryOutcomes}.
 *
 * A partial batch is sent once its oldest event has waited `batchMaxWait`
 * and a request slot is free; while every slot is busy, batches keep filling,
 * so under backpressure requests grow toward the maximum by themselves.
 */
export class DeliveryEngine<T extends Sized> {
  readonly outcomes: DeliveryOutcomes;
  private readonly open = new Map<string, Batch<T>>();
  private readonly ready: Batch<T>[] = [];
  private heldEvents = 0;
  private heldBytes = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private closed = false;
  private readonly abort = new AbortController();
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly destination: Destination<T>,
    readonly options: DeliveryEngineOptions,
  ) {
    for (const key of [
      'maxEvents',
      'maxBytes',
      'batchMaxEvents',
      'batchMaxBytes',
      'concurrency',
    ] as const) {
      if (!(options[key] >= 1)) throw new RangeError(`DeliveryEngine ${key} must be >= 1`);
    }
    this.outcomes = new DeliveryOutcomes(destination.name);
    // Every in-flight attempt and retry wait listens on the shutdown signal: expected, not a leak.
    setMaxListeners(options.concurrency * 3 + 10, this.abort.signal);
  }

  /** Events admitted and not yet delivered or failed. */
  pending(): number {
    return this.heldEvents;
  }

  /** Their bytes. */
  pendingBytes(): number {
    return this.heldBytes;
  }

  inFlightRequests(): number {
    return this.inFlight;
  }

  /** The bounds, for capacity gauges. */
  get capacity(): { events: number; bytes: number } {
    return { events: this.options.maxEvents, bytes: this.options.maxBytes };
  }

  /** Whether `events` more events of `bytes` in all would be admitted now. */
  hasRoom(events: number, bytes: number): boolean {
    return (
      !this.closed &&
      this.heldEvents + events <= this.options.maxEvents &&
      this.heldBytes + bytes <= this.options.maxBytes
    );
  }

  /**
   * Admits one item, or counts it dropped (`queue_full`, `closed`) and
   * returns false. Never throws, never evicts.
   */
  offer(item: T): boolean {
    if (this.closed) {
      this.outcomes.drop('closed', 1);
      return false;
    }
    if (!this.hasRoom(1, item.bytes)) {
      this.outcomes.drop('queue_full', 1);
      return false;
    }
    this.heldEvents++;
    this.heldBytes += item.bytes;
    this.outcomes.admitted++;
    const { batchMaxEvents, batchMaxBytes } = this.options;
    const key = this.destination.keyOf?.(item) ?? '';
    let batch = this.open.get(key);
    if (batch !== undefined && batch.bytes + item.bytes > batchMaxBytes) {
      this.cut(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { key, items: [], bytes: 0, openedAt: Date.now() };
      this.open.set(key, batch);
    }
    batch.items.push(item);
    batch.bytes += item.bytes;
    if (batch.items.length >= batchMaxEvents || batch.bytes >= batchMaxBytes) this.cut(batch);
    this.pump();
    return true;
  }

  /** Resolves once nothing is held (waiting, batched or in flight). */
  idle(): Promise<void> {
    if (this.heldEvents === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops admitting, sends everything held at once, and waits up to
   * `timeoutMs`; whatever is still held then is aborted and failed as
   * `shutdown`. Resolves with the number of events lost that way.
   */
  async close(timeoutMs: number): Promise<number> {
    const before = this.outcomes.failed.shutdown;
    this.closed = true;
    this.flushing = true;
    this.pump();
    if (this.heldEvents > 0) {
      const timeout = new AbortController();
      await Promise.race([
        this.idle(),
        sleep(Math.max(0, timeoutMs), undefined, { signal: timeout.signal }).catch(() => {}),
      ]);
      timeout.abort();
    }
    if (this.heldEvents > 0) {
      this.abort.abort();
      this.pump();
      await this.idle();
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.outcomes.failed.shutdown - before;
  }

  /** Moves an open batch to the ready list (it is full, or the next item would not fit). */
  private cut(batch: Batch<T>): void {
    if (this.open.get(batch.key) === batch) this.open.delete(batch.key);
    this.ready.push(batch);
  }

  private pump(): void {
    const { concurrency, batchMaxWaitMs } = this.options;
    while (this.inFlight < concurrency) {
      let batch = this.ready.shift();
      if (batch === undefined) {
        // The first open batch is the oldest: open batches are inserted as they open.
        const oldest = this.open.values().next().value as Batch<T> | undefined;
        if (oldest === undefined) break;
        if (!this.flushing && Date.now() - oldest.openedAt < batchMaxWaitMs) break;
        this.open.delete(oldest.key);
        batch = oldest;
      }
      this.dispatch(batch);
    }
    if (this.open.size > 0 && this.inFlight < concurrency && this.timer === undefined) {
      const oldest = this.open.values().next().value as Batch<T>;
      const wait = Math.max(0, oldest.openedAt + batchMaxWaitMs - Date.now());
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      // An idle engine does not keep the process alive; close() flushes what it holds.
      this.timer.unref();
    }
  }

  private dispatch(batch: Batch<T>): void {
    this.inFlight++;
    void this.deliver(batch).finally(() => {
      this.inFlight--;
      this.pump();
      if (this.heldEvents === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
  }

  private async deliver(batch: Batch<T>): Promise<void> {
    const outcomes = this.outcomes;
    const n = batch.items.length;
    batch.startedAt ??= Date.now();
    const result = await runAttempts(
      this.options.retry,
      async (signal) => {
        let answer: Answer;
        try {
          answer = await this.destination.send(batch.items, signal);
        } catch (err) {
          outcomes.request('network');
          throw err;
        }
        outcomes.request(answer.status);
        return { verdict: answer.verdict, value: answer.status };
      },
      this.abort.signal,
      {
        onRetry: (reason, attempt, delay) => {
          outcomes.retry(reason);
          this.options.onRetry?.(reason, attempt, delay);
        },
      },
      batch.startedAt,
    );
    if (result.kind === 'aborted') return this.settle(batch, 'shutdown', 'shutdown deadline');
    if (result.kind === 'exhausted') {
      return this.settle(batch, 'retries_exhausted', `last: ${result.last}`);
    }
    const verdict = result.verdict;
    switch (verdict.kind) {
      case 'delivered': {
        const rejected = Math.min(n, Math.max(0, verdict.rejected ?? 0));
        outcomes.delivered += n - rejected;
        if (rejected > 0) {
          outcomes.fail('rejected', rejected);
          this.options.onFailed?.('rejected', rejected, `HTTP ${result.value}`);
        }
        return this.release(batch);
      }
      case 'too_large': {
        if (n === 1) return this.settle(batch, 'too_large', 'HTTP 413');
        // Both halves keep the batch's retry budget and go ahead of anything else.
        const half = Math.ceil(n / 2);
        const first = this.part(batch, batch.items.slice(0, half));
        const second = this.part(batch, batch.items.slice(half));
        this.ready.unshift(first, second);
        return;
      }
      case 'refused':
        return this.settle(batch, 'refused', `HTTP ${verdict.reason}`);
      default:
        return this.settle(batch, 'retries_exhausted', 'unexpected verdict');
    }
  }

  private part(batch: Batch<T>, items: T[]): Batch<T> {
    let bytes = 0;
    for (const item of items) bytes += item.bytes;
    const part: Batch<T> = { key: batch.key, items, bytes, openedAt: batch.openedAt };
    if (batch.startedAt !== undefined) part.startedAt = batch.startedAt;
    return part;
  }

  private settle(batch: Batch<T>, reason: FailReason, detail: string): void {
    this.outcomes.fail(reason, batch.items.length);
    this.options.onFailed?.(reason, batch.items.length, detail);
    this.release(batch);
  }

  private release(batch: Batch<T>): void {
    this.heldEvents -= batch.items.length;
    this.heldBytes -= batch.bytes;
  }
}
