import { setTimeout as sleep } from 'node:timers/promises';
import { type NormalizedEvent, POSTHOG_LIB, type PostHogEvent } from '@runmat-telemetry/schema';
import type { FastifyBaseLogger } from 'fastify';
import { PostHog } from 'posthog-node';
import type { WorkerMetrics } from '../metrics.js';
import type { Forwarder } from './forward-queue.js';

/** Settings for {@link PostHogForwarder}. */
export interface PostHogForwarderOptions {
  apiKey: string;
  host: string;
  /** Events per `/batch/` request (also the size that triggers a flush). */
  batchSize: number;
  flushIntervalMs: number;
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  gzip: boolean;
  metrics: WorkerMetrics;
  log: FastifyBaseLogger;
}

/**
 * The properties `toPostHogEvent` produces, copied key by key. The
 * normalized property bag is a dictionary-mode object (dotted keys added one
 * at a time), and spreading one of those costs microseconds per event, twice
 * (here and inside posthog-node); a copy built this way spreads cheaply.
 * A test pins this to `toPostHogEvent`'s output.
 */
export function posthogProperties(
  event: NormalizedEvent,
  clientIp: string | undefined,
): PostHogEvent['properties'] {
  const props: Record<string, unknown> = {};
  const source = event.properties as Record<string, unknown>;
  for (const key in source) props[key] = source[key];
  props.$lib = POSTHOG_LIB;
  props.$process_person_profile = false;
  props.$geoip_disable = clientIp === undefined;
  if (clientIp !== undefined) props.$ip = clientIp;
  return props as PostHogEvent['properties'];
}

/**
 * posthog-node client that reports per-batch outcomes. `sendBatch` is the one
 * place every `/batch/` request goes through, so it is where delivered and
 * failed events are counted exactly.
 */
class CountingPostHog extends PostHog {
  onSent: (n: number) => void = () => {};
  onFailed: (n: number, err: unknown) => void = () => {};

  /** Queues one event without posthog-node's async capture pipeline. */
  enqueueEvent(event: NormalizedEvent, clientIp: string | undefined): void {
    this.captureStateless(event.distinct_id, event.event, posthogProperties(event, clientIp), {
      uuid: event.uuid,
      timestamp: new Date(event.timestamp),
      disableGeoip: clientIp === undefined,
    });
  }

  protected override async sendBatch(
    batch: unknown[],
    retryOptions?: unknown,
    route?: string,
  ): Promise<void> {
    try {
      await super.sendBatch(batch as never, retryOptions as never, route);
    } catch (err) {
      // Network errors leave the batch in posthog-node's queue for the next
      // flush; anything else (HTTP errors after retries) drops it.
      if (!(err instanceof Error && err.name === 'PostHogFetchNetworkError')) {
        this.onFailed(batch.length, err);
      }
      throw err;
    }
    this.onSent(batch.length);
  }
}

/**
 * Forwards to PostHog through posthog-node's queue and `/batch/` endpoint.
 * The queue is sized above the forward-queue bound so posthog-node never
 * silently drops its oldest event.
 */
export class PostHogForwarder implements Forwarder {
  readonly destination = 'posthog' as const;
  private readonly client: CountingPostHog;
  /** Accepted and not yet delivered or failed: backlog plus posthog-node's queue. */
  private inFlight = 0;
  /** Events handed to posthog-node and not yet settled. */
  private inClient = 0;
  private readonly clientLimit: number;
  private backlog: Array<{ event: NormalizedEvent; clientIp: string | undefined } | undefined> = [];
  private backlogHead = 0;
  private closing = false;
  private readonly retryTimer: NodeJS.Timeout;
  private readonly log: FastifyBaseLogger;
  private readonly failed: { inc: (n: number) => void };

  constructor(opts: PostHogForwarderOptions) {
    this.log = opts.log;
    // Two batches: one being sent, one filling up behind it.
    this.clientLimit = opts.batchSize * 2;
    const client = new CountingPostHog(opts.apiKey, {
      host: opts.host,
      flushAt: opts.batchSize,
      maxBatchSize: opts.batchSize,
      maxQueueSize: opts.batchSize * 4,
      flushInterval: opts.flushIntervalMs,
      requestTimeout: opts.timeoutMs,
      fetchRetryCount: opts.retries,
      fetchRetryDelay: opts.retryDelayMs,
      disableCompression: !opts.gzip,
      disableGeoip: true,
      enableExceptionAutocapture: false,
      featureFlagsPollingInterval: null,
    } as ConstructorParameters<typeof PostHog>[1]);
    const forwarded = opts.metrics.forwarded.labels('posthog');
    const failed = opts.metrics.forwardFailed.labels('posthog');
    this.failed = failed;
    client.onSent = (n) => {
      this.inFlight -= n;
      this.inClient -= n;
      forwarded.inc(n);
      this.pump();
    };
    client.onFailed = (n, err) => {
      this.inFlight -= n;
      this.inClient -= n;
      this.pump();
      failed.inc(n);
      this.log.error({ destination: 'posthog', lost: n, err: describe(err) }, 'forward failed');
    };
    // posthog-node calls flushBackground on every enqueue once its queue
    // reaches flushAt, and each call chains another flush that may send a
    // batch of a handful of events. One flush at a time, each sending full
    // batches, is what keeps per-event cost flat; its errors go to pino
    // instead of console.error (the failure itself is counted in sendBatch).
    const internals = client as unknown as { flushBackground: () => void };
    let flushing = false;
    let partialTimer: NodeJS.Timeout | undefined;
    const flushBackground = (): void => {
      if (flushing) return;
      flushing = true;
      client
        .flush()
        .catch((err: unknown) => {
          this.log.warn({ destination: 'posthog', err: describe(err) }, 'flush attempt failed');
        })
        .finally(() => {
          flushing = false;
          if (this.inClient >= opts.batchSize) flushBackground();
          else if (this.inClient > 0 && partialTimer === undefined && !this.closing) {
            partialTimer = setTimeout(() => {
              partialTimer = undefined;
              flushBackground();
            }, opts.flushIntervalMs);
            partialTimer.unref();
          }
        });
    };
    internals.flushBackground = flushBackground;
    this.client = client;
    // Batches that hit a network error stay queued; posthog-node only flushes
    // again when a new event arrives, so nudge it while anything is pending.
    this.retryTimer = setInterval(
      () => {
        if (this.inFlight > 0) client.flush().catch(() => {});
      },
      Math.max(opts.flushIntervalMs, 1000),
    );
    this.retryTimer.unref();
  }

  pending(): number {
    return this.inFlight;
  }

  push(event: NormalizedEvent, clientIp: string | undefined): void {
    this.inFlight++;
    this.backlog.push({ event, clientIp });
    this.pump();
  }

  /**
   * Moves events from the backlog into posthog-node while its own queue is
   * short. posthog-node rescans its whole queue after every batch it sends,
   * so letting tens of thousands of events pile up there costs O(n^2); the
   * backlog here is a plain FIFO.
   */
  private pump(): void {
    while (this.inClient < this.clientLimit && this.backlogHead < this.backlog.length) {
      const item = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined;
      this.inClient++;
      this.client.enqueueEvent(item.event, item.clientIp);
    }
    if (this.backlogHead > 4096 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  async close(timeoutMs: number): Promise<number> {
    this.closing = true;
    clearInterval(this.retryTimer);
    const deadline = Date.now() + timeoutMs;
    // Drain the backlog through posthog-node batch by batch, then let its
    // shutdown send the remainder; both within the one deadline.
    while (this.backlogHead < this.backlog.length && Date.now() < deadline) {
      const before = this.inFlight;
      await Promise.race([this.client.flush().catch(() => {}), sleep(deadline - Date.now())]);
      if (this.inFlight === before) break;
    }
    try {
      await this.client.shutdown(Math.max(1, deadline - Date.now()));
    } catch (err) {
      this.log.error({ destination: 'posthog', err: describe(err) }, 'shutdown flush failed');
    }
    const lost = Math.max(0, this.inFlight);
    if (lost > 0) {
      this.failed.inc(lost);
      this.log.error({ destination: 'posthog', lost }, 'events not delivered before shutdown');
    }
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
