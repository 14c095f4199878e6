import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import {
  createRetryingFetch,
  DeliveryOutcomes,
  type DeliverySource,
  type RawAnswer,
  type RetryPolicy,
} from '@runmat-telemetry/delivery';
import { type NormalizedEvent, toPostHogCapture } from '@runmat-telemetry/schema';
import type { FastifyBaseLogger } from 'fastify';
import { PostHog } from 'posthog-node';
import type { Pool } from 'undici';
import type { WorkerMetrics } from '../metrics.js';
import type { Forwarder } from './forward-queue.js';
import { retryPolicyFor } from './retry.js';
import { upstreamPool } from './upstream-pool.js';

/** Settings for {@link PostHogForwarder}. */
export interface PostHogForwarderOptions {
  apiKey: string;
  host: string;
  /** Events per `/batch/` request (posthog-node's `flushAt` and `maxBatchSize`). */
  batchSize: number;
  flushIntervalMs: number;
  /** One attempt's timeout. */
  timeoutMs: number;
  /** Retries per request under the shared policy (posthog-node's own are off). */
  retries: number;
  /** The policy's first backoff ceiling. */
  retryDelayMs: number;
  gzip: boolean;
  /** posthog-node clients, i.e. `/batch/` requests in flight at once. */
  concurrency: number;
  metrics: WorkerMetrics;
  log: FastifyBaseLogger;
  /** Overrides the policy built from `retries` and `retryDelayMs`. */
  retry?: RetryPolicy;
}

/**
 * What one held event is charged against the queue's byte bound besides its
 * properties' characters: posthog-node keeps each capture as objects (its
 * message, the queue item, the pending promise), about this much heap.
 */
export const CAPTURE_OVERHEAD_BYTES = 1536;

/** An accepted event not yet handed to posthog-node. */
interface Waiting {
  readonly event: NormalizedEvent;
  readonly clientIp: string | undefined;
  readonly bytes: number;
}

/** One posthog-node client and how many of its captures are unsettled. */
interface Lane {
  readonly client: PostHog;
  held: number;
}

/** An event inside posthog-node, by uuid, until a request carrying it settles. */
interface Held {
  readonly lane: Lane;
  readonly bytes: number;
}

const gzipFast = promisify(gzip);

/** Heap an event costs while held: two bytes a character of its properties, plus the fixed overhead. */
function heldBytesOf(event: NormalizedEvent): number {
  let chars = event.uuid.length + event.distinct_id.length + event.event.length;
  const props = event.properties as Record<string, unknown>;
  for (const key in props) {
    const v = props[key];
    chars += key.length + (typeof v === 'string' ? v.length : 8);
  }
  return chars * 2 + CAPTURE_OVERHEAD_BYTES;
}

const UUID_KEY = /"uuid":"([^"\\]*)"/g;

/**
 * The uuids of a posthog-node `/batch/` body (`{"api_key":…,"batch":[…]}`);
 * none for any other body. Read by scanning for the `"uuid":"…"` members
 * rather than parsing the whole body (a batch of 500 events would be 500
 * objects of garbage per request): a quote inside a JSON string is always
 * escaped, so the pattern only matches a real `uuid` key, and the only
 * objects in a batch with one are its events (no allowlisted property is
 * named `uuid`; a schema test keeps it so).
 */
export function batchUuids(body: unknown): string[] {
  if (typeof body !== 'string') return [];
  const start = body.indexOf('"batch":[');
  if (start < 0) return [];
  const out: string[] = [];
  UUID_KEY.lastIndex = start;
  for (let m = UUID_KEY.exec(body); m !== null; m = UUID_KEY.exec(body)) out.push(m[1]!);
  return out;
}

/**
 * Forwards to PostHog through stock posthog-node and its public API only.
 *
 * - Events enter through `capture()` with their own `uuid` and `timestamp`;
 *   posthog-node batches them (`flushAt`, `maxBatchSize`, `flushInterval`) and
 *   halves a batch on 413.
 * - Every request it makes goes through its public `fetch` option, which is
 *   the delivery package's retrying fetch: the shared {@link RetryPolicy}
 *   (posthog-node's `fetchRetryCount` is 0) and exact accounting, by uuid,
 *   of what each request delivered or failed.
 * - posthog-node drops its oldest event when its queue is full, so each
 *   client is handed at most one batch of unsettled events (below its
 *   `maxQueueSize`); the rest wait in this forwarder's backlog. What is still
 *   held at shutdown is counted as failed `shutdown`.
 *
 * `concurrency` clients give that many `/batch/` requests in flight.
 */
export class PostHogForwarder implements Forwarder, DeliverySource {
  readonly destination = 'posthog' as const;
  readonly outcomes = new DeliveryOutcomes('posthog');
  private readonly lanes: Lane[] = [];
  /** FIFO of events not yet handed to a client; `backlogHead` is its first live slot. */
  private backlog: (Waiting | undefined)[] = [];
  private backlogHead = 0;
  private readonly held = new Map<string, Held[]>();
  private heldEvents = 0;
  private heldBytes = 0;
  private requestsInFlight = 0;
  private nextLane = 0;
  private readonly laneLimit: number;
  private readonly shutdown = new AbortController();
  private readonly pool: Pool;
  private readonly log: FastifyBaseLogger;
  capacity: { events: number; bytes: number };

  constructor(opts: PostHogForwarderOptions) {
    this.log = opts.log;
    this.laneLimit = opts.batchSize;
    // Every request in flight and its retry wait listen on the shutdown signal: expected, not a leak.
    setMaxListeners(opts.concurrency * 4 + 10, this.shutdown.signal);
    this.capacity = { events: 0, bytes: 0 };
    const policy = opts.retry ?? retryPolicyFor(opts.retries, opts.retryDelayMs, opts.timeoutMs);
    const url = new URL(opts.host);
    this.pool = upstreamPool(url, opts.concurrency, opts.timeoutMs);
    const fetch = createRetryingFetch({
      policy,
      outcomes: this.outcomes,
      eventsOf: batchUuids,
      shutdown: this.shutdown.signal,
      prepare: async (init) => {
        const headers = { ...init.headers };
        const text = typeof init.body === 'string' ? init.body : '';
        if (!opts.gzip) return { headers, body: text };
        headers['Content-Encoding'] = 'gzip';
        // Level 1: for batches of similar events within a few percent of level 6, at about half the CPU.
        const body = new Uint8Array(
          await gzipFast(Buffer.from(text), { level: zlibConstants.Z_BEST_SPEED }),
        );
        return { headers, body };
      },
      request: (target, init, signal) => this.request(target, init, signal, opts.timeoutMs),
      onSettled: (uuids, how, detail) => {
        this.settle(uuids);
        if (how !== 'delivered') {
          this.log.error(
            { destination: 'posthog', lost: uuids.length, reason: how, detail },
            'forward failed',
          );
        }
      },
      onRetry: (reason, attempt, delayMs) =>
        this.log.debug({ destination: 'posthog', reason, attempt, delayMs }, 'request retried'),
    });
    // The retrying fetch may take the whole elapsed budget; posthog-node's own
    // request deadline must not cut it short.
    const requestTimeout = policy.maxElapsedMs + opts.timeoutMs * 2;
    for (let i = 0; i < opts.concurrency; i++) {
      const client = new PostHog(opts.apiKey, {
        host: opts.host,
        flushAt: opts.batchSize,
        maxBatchSize: opts.batchSize,
        maxQueueSize: opts.batchSize * 4,
        flushInterval: opts.flushIntervalMs,
        requestTimeout,
        fetchRetryCount: 0,
        disableCompression: true,
        disableGeoip: true,
        preloadFeatureFlags: false,
        enableExceptionAutocapture: false,
        fetch,
      });
      client.on('error', (err: unknown) => {
        // Already counted and logged by the fetch; this is posthog-node's own notice.
        this.log.debug({ destination: 'posthog', err: describe(err) }, 'posthog-node error');
      });
      this.lanes.push({ client, held: 0 });
    }
    if (this.lanes.length === 0)
      throw new Error('PostHog forwarding needs a concurrency of at least 1');
    opts.metrics.deliverySources.push(this);
  }

  pending(): number {
    return this.heldEvents;
  }

  pendingBytes(): number {
    return this.heldBytes;
  }

  inFlightRequests(): number {
    return this.requestsInFlight;
  }

  push(event: NormalizedEvent, clientIp: string | undefined): void {
    this.outcomes.admitted++;
    if (!Number.isFinite(event.timestamp)) {
      // Normalized events always have a time; if one ever did not, it is
      // counted as lost rather than handed to posthog-node or thrown.
      this.outcomes.fail('encode_error', 1);
      this.log.error({ destination: 'posthog', lost: 1 }, 'event not encodable');
      return;
    }
    const bytes = heldBytesOf(event);
    this.heldEvents++;
    this.heldBytes += bytes;
    this.backlog.push({ event, clientIp, bytes });
    this.pump();
  }

  /** Hands waiting events to clients below their limit, filling one client at a time. */
  private pump(): void {
    const lanes = this.lanes;
    let tried = 0;
    const backlog = this.backlog;
    while (this.backlogHead < backlog.length && tried < lanes.length) {
      const lane = lanes[this.nextLane]!;
      if (lane.held >= this.laneLimit) {
        this.nextLane = (this.nextLane + 1) % lanes.length;
        tried++;
        continue;
      }
      tried = 0;
      const { event, clientIp, bytes } = backlog[this.backlogHead]!;
      backlog[this.backlogHead++] = undefined;
      lane.held++;
      const entry: Held = { lane, bytes };
      const same = this.held.get(event.uuid);
      if (same === undefined) this.held.set(event.uuid, [entry]);
      else same.push(entry);
      lane.client.capture(toPostHogCapture(event, clientIp));
    }
    // The consumed prefix is cut off once it is most of the array.
    if (this.backlogHead === backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 4096 && this.backlogHead * 2 > backlog.length) {
      this.backlog = backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  /** Releases the events a request settled (delivered or failed). */
  private settle(uuids: readonly string[]): void {
    for (const uuid of uuids) {
      const entries = this.held.get(uuid);
      const entry = entries?.shift();
      if (entry === undefined) continue;
      if (entries!.length === 0) this.held.delete(uuid);
      entry.lane.held--;
      this.heldEvents--;
      this.heldBytes -= entry.bytes;
    }
    this.pump();
  }

  private async request(
    target: string,
    init: { method: string; headers: Record<string, string>; body: Uint8Array | string },
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<RawAnswer> {
    const url = new URL(target);
    this.requestsInFlight++;
    try {
      const res = await this.pool.request({
        path: `${url.pathname}${url.search}`,
        method: init.method as 'POST',
        headers: init.headers,
        body: init.body,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body };
    } finally {
      this.requestsInFlight--;
    }
  }

  async close(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    // Flush client by client until nothing is held or the deadline passes.
    while (this.heldEvents > 0 && Date.now() < deadline) {
      const before = this.heldEvents;
      const flushes = this.lanes.map((lane) => lane.client.flush().catch(() => {}));
      const timer = new AbortController();
      await Promise.race([
        Promise.all(flushes),
        sleep(Math.max(1, deadline - Date.now()), undefined, { signal: timer.signal }).catch(
          () => {},
        ),
      ]);
      timer.abort();
      this.pump();
      if (this.heldEvents === before && this.backlogHead === this.backlog.length) {
        // Nothing settled and nothing more to hand over: what is left is in flight.
        await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
      }
    }
    // Anything still in a request gives up now; posthog-node keeps those events.
    this.shutdown.abort();
    await Promise.all(this.lanes.map((lane) => lane.client.shutdown(100).catch(() => {})));
    await this.pool.destroy().catch(() => {});
    const lost = this.heldEvents;
    if (lost > 0) {
      this.outcomes.fail('shutdown', lost);
      this.log.error({ destination: 'posthog', lost }, 'events not delivered before shutdown');
    }
    this.heldEvents = 0;
    this.heldBytes = 0;
    this.held.clear();
    this.backlog = [];
    this.backlogHead = 0;
    return lost;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { status?: number }).status;
    return status === undefined ? `${err.name}: ${err.message}` : `${err.name}: HTTP ${status}`;
  }
  return String(err);
}
