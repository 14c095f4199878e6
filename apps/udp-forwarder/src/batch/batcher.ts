import type { BoundedQueue } from '../queue/bounded-queue.js';
import type { BatchItem } from './batch-item.js';

export interface BatcherOptions {
  queue: BoundedQueue<BatchItem>;
  maxEvents: number;
  maxBytes: number;
  maxWaitMs: number;
  concurrency: number;
  /** Delivers one batch; must not reject. */
  send: (items: BatchItem[]) => Promise<unknown>;
}

/**
 * Cuts the queue into batches: a batch leaves as soon as it is full (by count
 * or bytes) or its oldest event has waited `maxWaitMs`, and only while fewer
 * than `concurrency` requests are in flight. Under backpressure events simply
 * wait in the bounded queue, so batches grow toward the maximum by themselves.
 */
export class Batcher {
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatcherOptions) {}

  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Call after each enqueue; cheap unless a full batch is ready. */
  notify(): void {
    const { queue, maxEvents, maxBytes } = this.options;
    if (queue.length >= maxEvents || queue.bytes >= maxBytes) this.pump();
    else if (!this.timer) this.arm();
  }

  /** From now on, send partial batches at once (shutdown). */
  flush(): void {
    this.flushing = true;
    this.pump();
  }

  /** Resolves when the queue is empty and nothing is in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels the wait timer. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.options.queue.length === 0;
  }

  private pump(): void {
    const { queue, maxEvents, maxBytes, maxWaitMs, concurrency } = this.options;
    while (this.inFlight < concurrency && queue.length > 0) {
      const oldest = queue.peek() as BatchItem;
      const ready =
        this.flushing ||
        queue.length >= maxEvents ||
        queue.bytes >= maxBytes ||
        Date.now() - oldest.receivedAt >= maxWaitMs;
      if (!ready) break;
      this.dispatch(queue.take(maxEvents, maxBytes));
    }
    if (queue.length > 0 && this.inFlight < concurrency) this.arm();
    if (this.isIdle()) this.wakeIdle();
  }

  private dispatch(items: BatchItem[]): void {
    this.inFlight++;
    void this.options.send(items).finally(() => {
      this.inFlight--;
      this.pump();
    });
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const oldest = this.options.queue.peek();
    const wait = oldest ? Math.max(0, oldest.receivedAt + this.options.maxWaitMs - Date.now()) : 0;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
