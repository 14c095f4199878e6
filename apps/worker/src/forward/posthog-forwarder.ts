import { type NormalizedEvent, toPostHogEvent } from '@runmat-telemetry/schema';
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
  /** Bound on events held; the forward queue admits no more than this. */
  capacity: number;
  metrics: WorkerMetrics;
  log: FastifyBaseLogger;
}

/**
 * posthog-node client that reports per-batch outcomes. `sendBatch` is the one
 * place every `/batch/` request goes through, so it is where delivered and
 * failed events are counted exactly.
 */
class CountingPostHog extends PostHog {
  onSent: (n: number) => void = () => {};
  onFailed: (n: number, err: unknown) => void = () => {};

  /** Queues one already-mapped event without posthog-node's async capture pipeline. */
  enqueueMapped(event: ReturnType<typeof toPostHogEvent>, geoip: boolean): void {
    this.captureStateless(event.distinct_id, event.event, event.properties, {
      uuid: event.uuid,
      timestamp: new Date(event.timestamp),
      disableGeoip: !geoip,
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
  private inFlight = 0;
  private readonly retryTimer: NodeJS.Timeout;
  private readonly log: FastifyBaseLogger;

  constructor(opts: PostHogForwarderOptions) {
    this.log = opts.log;
    const client = new CountingPostHog(opts.apiKey, {
      host: opts.host,
      flushAt: opts.batchSize,
      maxBatchSize: opts.batchSize,
      maxQueueSize: opts.capacity + opts.batchSize,
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
    client.onSent = (n) => {
      this.inFlight -= n;
      forwarded.inc(n);
    };
    client.onFailed = (n, err) => {
      this.inFlight -= n;
      failed.inc(n);
      this.log.error({ destination: 'posthog', lost: n, err: describe(err) }, 'forward failed');
    };
    // posthog-node's background flush reports errors with console.error; route
    // them through pino instead (the failure itself is counted in sendBatch).
    (client as unknown as { flushBackground: () => void }).flushBackground = () => {
      client.flush().catch((err: unknown) => {
        this.log.warn({ destination: 'posthog', err: describe(err) }, 'flush attempt failed');
      });
    };
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
    this.client.enqueueMapped(
      toPostHogEvent(event, clientIp === undefined ? {} : { clientIp }),
      clientIp !== undefined,
    );
  }

  async close(timeoutMs: number): Promise<number> {
    clearInterval(this.retryTimer);
    try {
      await this.client.shutdown(timeoutMs);
    } catch (err) {
      this.log.error({ destination: 'posthog', err: describe(err) }, 'shutdown flush failed');
    }
    return Math.max(0, this.inFlight);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { status?: number }).status;
    return status === undefined ? `${err.name}: ${err.message}` : `${err.name}: HTTP ${status}`;
  }
  return String(err);
}
