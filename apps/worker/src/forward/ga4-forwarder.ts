import { setTimeout as sleep } from 'node:timers/promises';
import { GA4_LIMITS, type NormalizedEvent, toGa4Event } from '@runmat-telemetry/schema';
import type { FastifyBaseLogger } from 'fastify';
import { Pool } from 'undici';
import type { WorkerMetrics } from '../metrics.js';
import type { Forwarder } from './forward-queue.js';

/** Settings for {@link Ga4Forwarder}. */
export interface Ga4ForwarderOptions {
  host: string;
  measurementId: string;
  apiSecret: string;
  flushIntervalMs: number;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  /** Parallel `/mp/collect` requests. */
  concurrency: number;
  metrics: WorkerMetrics;
  log: FastifyBaseLogger;
}

/** Events of one `client_id`, each already serialized (the JSON of a `Ga4Event`). */
interface Ga4Batch {
  clientId: string;
  events: string[];
  /** What they hold: {@link heldBytes} of each. */
  bytes: number;
}

/**
 * What one held event costs: its JSON (one byte a character for the ASCII a
 * GA4 event almost always is) and the string's and the group slot's overhead.
 */
export const GA4_EVENT_OVERHEAD_BYTES = 64;
const heldBytes = (json: string) => json.length + GA4_EVENT_OVERHEAD_BYTES;

/** 408, 429 and 5xx are worth another try; other statuses will not change. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * Forwards to GA4's Measurement Protocol. GA4 takes at most 25 events per
 * request, all of one `client_id`, so events are grouped per client and sent
 * when a group is full or the flush interval passes.
 */
export class Ga4Forwarder implements Forwarder {
  readonly destination = 'ga4' as const;
  private readonly pool: Pool;
  private readonly path: string;
  private readonly groups = new Map<string, Ga4Batch>();
  private readonly waiting: Ga4Batch[] = [];
  private held = 0;
  private heldBytes = 0;
  private active = 0;
  private readonly timer: NodeJS.Timeout;
  private idle: (() => void) | undefined;
  private closing = false;
  private readonly forwarded;
  private readonly failed;

  constructor(private readonly opts: Ga4ForwarderOptions) {
    const url = new URL(opts.host);
    this.pool = new Pool(url.origin, {
      connections: opts.concurrency,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 30_000,
    });
    const prefix = url.pathname.replace(/\/+$/, '');
    // The secret travels in the query string because GA4 requires it there;
    // this path is never logged.
    this.path = `${prefix}/mp/collect?measurement_id=${encodeURIComponent(opts.measurementId)}&api_secret=${encodeURIComponent(opts.apiSecret)}`;
    this.forwarded = opts.metrics.forwarded.labels('ga4');
    this.failed = opts.metrics.forwardFailed.labels('ga4');
    this.timer = setInterval(() => this.flushGroups(), opts.flushIntervalMs);
    this.timer.unref();
  }

  pending(): number {
    return this.held;
  }

  pendingBytes(): number {
    return this.heldBytes;
  }

  push(event: NormalizedEvent): void {
    // Serialized once, on arrival: a held event is one flat string rather
    // than an object graph, and its size is known for the queue's byte bound.
    let json: string;
    try {
      json = JSON.stringify(toGa4Event(event));
    } catch (err) {
      this.failed.inc(1);
      this.opts.log.error(
        { destination: 'ga4', lost: 1, err: err instanceof Error ? err.message : String(err) },
        'event not encodable',
      );
      return;
    }
    const bytes = heldBytes(json);
    this.held++;
    this.heldBytes += bytes;
    const clientId = event.distinct_id;
    let group = this.groups.get(clientId);
    if (group === undefined) {
      group = { clientId, events: [], bytes: 0 };
      this.groups.set(clientId, group);
    }
    group.events.push(json);
    group.bytes += bytes;
    if (group.events.length >= GA4_LIMITS.maxEventsPerRequest) {
      this.groups.delete(clientId);
      this.dispatch(group);
    }
  }

  async close(timeoutMs: number): Promise<number> {
    this.closing = true;
    clearInterval(this.timer);
    this.flushGroups();
    if (this.held > 0) {
      const drained = new Promise<void>((resolve) => {
        this.idle = resolve;
      });
      await Promise.race([drained, sleep(timeoutMs, undefined, { ref: false })]);
    }
    const lost = this.held;
    this.heldBytes = 0;
    if (lost > 0) {
      this.failed.inc(lost);
      this.opts.log.error({ destination: 'ga4', lost }, 'events not delivered before shutdown');
    }
    await this.pool.destroy().catch(() => {});
    return lost;
  }

  private flushGroups(): void {
    for (const group of this.groups.values()) this.dispatch(group);
    this.groups.clear();
  }

  private dispatch(batch: Ga4Batch): void {
    if (this.active >= this.opts.concurrency) {
      this.waiting.push(batch);
      return;
    }
    this.active++;
    void this.send(batch).finally(() => {
      this.active--;
      this.held -= batch.events.length;
      this.heldBytes -= batch.bytes;
      const next = this.waiting.shift();
      if (next !== undefined) this.dispatch(next);
      else if (this.held === 0) this.idle?.();
    });
  }

  private async send(batch: Ga4Batch): Promise<void> {
    // The same JSON as JSON.stringify of a Ga4Request, from the events' own.
    const payload = `{"client_id":${JSON.stringify(batch.clientId)},"events":[${batch.events.join(',')}]}`;
    let lastError = '';
    for (let attempt = 0; attempt <= this.opts.retries; attempt++) {
      if (attempt > 0) {
        // Exponential backoff, shortened while shutting down so the drain fits the grace period.
        const delay = this.opts.retryDelayMs * 2 ** (attempt - 1);
        await sleep(this.closing ? Math.min(delay, 100) : delay);
      }
      try {
        const res = await this.pool.request({
          path: this.path,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: payload,
          headersTimeout: this.opts.timeoutMs,
          bodyTimeout: this.opts.timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.forwarded.inc(batch.events.length);
          return;
        }
        lastError = `HTTP ${res.statusCode}`;
        if (!retryable(res.statusCode)) break;
      } catch (err) {
        lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
    }
    this.failed.inc(batch.events.length);
    this.opts.log.error(
      { destination: 'ga4', lost: batch.events.length, err: lastError },
      'forward failed',
    );
  }
}
