import {
  type Answer,
  DeliveryEngine,
  type DeliveryOutcomes,
  type DeliverySource,
  type Destination,
  type RetryPolicy,
} from '@runmat-telemetry/delivery';
import { GA4_LIMITS, type NormalizedEvent, toGa4Event } from '@runmat-telemetry/schema';
import type { FastifyBaseLogger } from 'fastify';
import type { Pool } from 'undici';
import type { WorkerMetrics } from '../metrics.js';
import type { Forwarder } from './forward-queue.js';
import { retryPolicyFor } from './retry.js';
import { upstreamPool } from './upstream-pool.js';

/** Settings for {@link Ga4Forwarder}. */
export interface Ga4ForwarderOptions {
  host: string;
  measurementId: string;
  apiSecret: string;
  /** A partial batch (fewer than 25 events of one client) leaves after this long. */
  flushIntervalMs: number;
  /** One attempt's timeout. */
  timeoutMs: number;
  /** Retries per request under the shared policy. */
  retries: number;
  /** The policy's first backoff ceiling. */
  retryDelayMs: number;
  /** Parallel `/mp/collect` requests. */
  concurrency: number;
  metrics: WorkerMetrics;
  log: FastifyBaseLogger;
  /** Overrides the policy built from `retries` and `retryDelayMs`. */
  retry?: RetryPolicy;
}

/** One accepted event, serialized once on arrival (the JSON of a `Ga4Event`). */
interface Ga4Item {
  readonly clientId: string;
  readonly json: string;
  readonly bytes: number;
}

/**
 * What one held event costs: its JSON (one byte a character for the ASCII a
 * GA4 event almost always is) and the item's overhead.
 */
export const GA4_EVENT_OVERHEAD_BYTES = 64;

/** GA4's Measurement Protocol as a delivery destination: one `client_id` per request. */
class Ga4Destination implements Destination<Ga4Item> {
  readonly name = 'ga4';
  private readonly path: string;

  constructor(
    private readonly pool: Pool,
    prefix: string,
    opts: Ga4ForwarderOptions,
    private readonly policy: RetryPolicy,
  ) {
    // The secret travels in the query string because GA4 requires it there;
    // this path is never logged.
    this.path = `${prefix}/mp/collect?measurement_id=${encodeURIComponent(opts.measurementId)}&api_secret=${encodeURIComponent(opts.apiSecret)}`;
  }

  keyOf(item: Ga4Item): string {
    return item.clientId;
  }

  async send(items: readonly Ga4Item[], signal: AbortSignal): Promise<Answer> {
    // The same JSON as JSON.stringify of a Ga4Request, from the events' own.
    let body = `{"client_id":${JSON.stringify(items[0]!.clientId)},"events":[`;
    for (let i = 0; i < items.length; i++) body += (i > 0 ? ',' : '') + items[i]!.json;
    body += ']}';
    const res = await this.pool.request({
      path: this.path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal,
    });
    await res.body.dump();
    return {
      status: res.statusCode,
      verdict: this.policy.classify(res.statusCode, res.headers['retry-after']),
    };
  }
}

/**
 * Forwards to GA4's Measurement Protocol through the delivery engine: GA4
 * takes at most 25 events per request, all of one `client_id`, so batches
 * are keyed by client and sent when full or after the flush interval.
 */
export class Ga4Forwarder implements Forwarder, DeliverySource {
  readonly destination = 'ga4' as const;
  private readonly pool: Pool;
  private readonly engine: DeliveryEngine<Ga4Item>;
  private readonly log: FastifyBaseLogger;

  constructor(opts: Ga4ForwarderOptions) {
    this.log = opts.log;
    const url = new URL(opts.host);
    this.pool = upstreamPool(url, opts.concurrency, opts.timeoutMs);
    const policy = opts.retry ?? retryPolicyFor(opts.retries, opts.retryDelayMs, opts.timeoutMs);
    const destination = new Ga4Destination(
      this.pool,
      url.pathname.replace(/\/+$/, ''),
      opts,
      policy,
    );
    // The worker's forward queue bounds what is admitted; the engine's own bounds never bind.
    this.engine = new DeliveryEngine(destination, {
      maxEvents: Number.MAX_SAFE_INTEGER,
      maxBytes: Number.MAX_SAFE_INTEGER,
      batchMaxEvents: GA4_LIMITS.maxEventsPerRequest,
      batchMaxBytes: GA4_LIMITS.maxPayloadBytes,
      batchMaxWaitMs: opts.flushIntervalMs,
      concurrency: opts.concurrency,
      retry: policy,
      onFailed: (reason, lost, detail) =>
        this.log.error({ destination: 'ga4', lost, reason, err: detail }, 'forward failed'),
      onRetry: (reason, attempt, delayMs) =>
        this.log.debug({ destination: 'ga4', reason, attempt, delayMs }, 'request retried'),
    });
    opts.metrics.deliverySources.push(this);
  }

  get outcomes(): DeliveryOutcomes {
    return this.engine.outcomes;
  }

  capacity = { events: 0, bytes: 0 };

  pending(): number {
    return this.engine.pending();
  }

  pendingBytes(): number {
    return this.engine.pendingBytes();
  }

  inFlightRequests(): number {
    return this.engine.inFlightRequests();
  }

  push(event: NormalizedEvent): void {
    // Serialized once, on arrival: a held event is one flat string rather
    // than an object graph, and its size is known for the queue's byte bound.
    let json: string;
    try {
      json = JSON.stringify(toGa4Event(event));
    } catch (err) {
      this.engine.outcomes.admitted++;
      this.engine.outcomes.fail('encode_error', 1);
      this.log.error(
        { destination: 'ga4', lost: 1, err: err instanceof Error ? err.message : String(err) },
        'event not encodable',
      );
      return;
    }
    this.engine.offer({
      clientId: event.distinct_id,
      json,
      bytes: json.length + GA4_EVENT_OVERHEAD_BYTES,
    });
  }

  async close(timeoutMs: number): Promise<number> {
    const lost = await this.engine.close(timeoutMs);
    if (lost > 0)
      this.log.error({ destination: 'ga4', lost }, 'events not delivered before shutdown');
    await this.pool.destroy().catch(() => {});
    return lost;
  }
}
