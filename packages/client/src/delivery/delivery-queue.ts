import type { DebugLog, Transport } from '../transport/transport.js';

/** A validated, serialized event waiting to be sent. */
export interface QueuedEvent {
  label: string;
  uuid: string | undefined;
  body: string;
}

/** Outcome of one event on one transport, for hosts and the CLI. */
export interface DeliveryResult {
  label: string;
  uuid: string | undefined;
  transport: 'http' | 'udp';
  ok: boolean;
  error?: string;
}

/** Counters a host can read at any time. */
export interface DeliveryStats {
  queued: number;
  inFlight: number;
  /** Transport deliveries that succeeded (an event sent over UDP and HTTP counts twice). */
  sent: number;
  failed: number;
  /** Events dropped because the queue was full or the drain deadline passed. */
  dropped: number;
}

/** Options for {@link DeliveryQueue}. */
export interface DeliveryQueueOptions {
  transports: Transport[];
  queueSize: number;
  /** Dispatch on the caller instead of from the background flush. */
  syncMode: boolean;
  log: DebugLog;
  onResult?: (result: DeliveryResult) => void;
  /** Concurrent events on the wire outside a drain. */
  maxInFlight?: number;
}

/**
 * Bounded queue between the host and the transports. `enqueue` only appends
 * and schedules a flush, so the caller pays microseconds; when full, the new
 * event is dropped and counted rather than blocking or growing.
 */
export class DeliveryQueue {
  readonly #opts: DeliveryQueueOptions;
  readonly #queue: QueuedEvent[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #maxInFlight: number;
  #scheduled = false;
  #closed = false;
  #sent = 0;
  #failed = 0;
  #dropped = 0;

  constructor(options: DeliveryQueueOptions) {
    this.#opts = options;
    this.#maxInFlight = options.maxInFlight ?? 8;
  }

  /** Appends an event; false (and counted) when the queue is full or closed. */
  enqueue(event: QueuedEvent): boolean {
    if (this.#closed) {
      this.#dropped++;
      return false;
    }
    if (this.#opts.syncMode) {
      this.#dispatch(event);
      return true;
    }
    if (this.#queue.length >= this.#opts.queueSize) {
      this.#dropped++;
      this.#opts.log('queue full, event dropped', {
        label: event.label,
        queueSize: this.#opts.queueSize,
      });
      return false;
    }
    this.#queue.push(event);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#pump(this.#maxInFlight);
      });
    }
    return true;
  }

  stats(): DeliveryStats {
    return {
      queued: this.#queue.length,
      inFlight: this.#inFlight.size,
      sent: this.#sent,
      failed: this.#failed,
      dropped: this.#dropped,
    };
  }

  /** True when nothing is queued or in flight. */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#inFlight.size === 0;
  }

  /**
   * Sends everything still queued and waits for it, at most `timeoutMs`.
   * Past the deadline, in-flight requests are cancelled and leftovers counted
   * as dropped. Resolves true when everything settled in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    // Armed before dispatching, so the synchronous cost of starting requests
    // counts against the bound. A ref'd timer: `await telemetry.shutdown()` at
    // the top of a module must keep the loop alive for the (bounded) drain, or
    // Node would exit mid-await.
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    this.#pump(Number.POSITIVE_INFINITY);
    if (this.#inFlight.size === 0) {
      clearTimeout(timer);
      return true;
    }
    const settled = (async () => {
      while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
      return true as const;
    })();
    const done = await Promise.race([settled, deadline]);
    clearTimeout(timer);
    if (!done) {
      this.#opts.log('drain deadline passed', { timeoutMs, inFlight: this.#inFlight.size });
      for (const t of this.#opts.transports) t.abortAll();
    }
    return done;
  }

  /** Stops accepting events; queued ones are dropped and counted. */
  close(): void {
    this.#closed = true;
    this.#dropped += this.#queue.length;
    this.#queue.length = 0;
    for (const t of this.#opts.transports) t.close();
  }

  #pump(limit: number): void {
    while (this.#queue.length > 0 && this.#inFlight.size < limit) {
      const next = this.#queue.shift();
      if (next) this.#dispatch(next);
    }
  }

  #report(result: DeliveryResult): void {
    try {
      this.#opts.onResult?.(result);
    } catch (err) {
      // A throwing host callback must not become an unhandled rejection in the host.
      this.#opts.log('onResult callback threw', { error: String(err) });
    }
  }

  #dispatch(event: QueuedEvent): void {
    for (const transport of this.#opts.transports) {
      const p: Promise<void> = transport.send(event.body).then(
        () => {
          this.#sent++;
          this.#report({
            label: event.label,
            uuid: event.uuid,
            transport: transport.name,
            ok: true,
          });
        },
        (err: unknown) => {
          this.#failed++;
          const error = err instanceof Error ? err.message : String(err);
          this.#opts.log('delivery failed', {
            label: event.label,
            transport: transport.name,
            error,
          });
          this.#report({
            label: event.label,
            uuid: event.uuid,
            transport: transport.name,
            ok: false,
            error,
          });
        },
      );
      const tracked = p.finally(() => {
        this.#inFlight.delete(tracked);
        if (!this.#closed && this.#queue.length > 0) this.#pump(this.#maxInFlight);
      });
      this.#inFlight.add(tracked);
    }
  }
}
