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
  /** posthog-node clients, i.e. `/batch/` requests in flight at once. */
  concurrency: number;
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
      // Not every error settles the batch (see posthog-node's `_flushRoute`):
      // - a network error leaves it in posthog-node's queue for the next flush;
      // - a 413 on more than one event makes posthog-node halve its batch size
      //   and send the same events again in smaller batches, each of which
      //   lands here and is counted when it settles;
      // anything else (HTTP errors after retries, a 413 on a single event) drops it.
      if (!isRequeued(err, batch.length)) this.onFailed(batch.length, err);
      throw err;
    }
    this.onSent(batch.length);
  }
}

/**
 * Whether posthog-node keeps (network error) or re-sends in smaller batches
 * (413 on a batch of several events) the events of a failed `/batch/` request,
 * rather than dropping them.
 */
export function isRequeued(err: unknown, batchLength: number): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'PostHogFetchNetworkError') return true;
  return (
    err.name === 'PostHogFetchHttpError' &&
    (err as { status?: number }).status === 413 &&
    batchLength > 1
  );
}

/**
 * One posthog-node client and what it holds. posthog-node sends one batch at
 * a time per client, so several lanes give several `/batch/` requests in
 * flight.
 */
class Lane {
  /** Events handed to this client and not yet settled. */
  held = 0;
  private flushing = false;
  private partialTimer: NodeJS.Timeout | undefined;
  closing = false;

  constructor(
    readonly client: CountingPostHog,
    private readonly batchSize: number,
    private readonly flushIntervalMs: number,
    private readonly log: FastifyBaseLogger,
  ) {
    // posthog-node calls flushBackground on every enqueue once its queue
    // reaches flushAt, and each call chains another flush that may send a
    // batch of a handful of events. One flush at a time, each sending full
    // batches, keeps per-event cost flat; errors go to pino instead of
    // console.error (the failure itself is counted in sendBatch).
    (client as unknown as { flushBackground: () => void }).flushBackground = () => this.flush();
  }

  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    this.client
      .flush()
      .catch((err: unknown) => {
        this.log.warn({ destination: 'posthog', err: describe(err) }, 'flush attempt failed');
      })
      .finally(() => {
        this.flushing = false;
        if (this.held >= this.batchSize) this.flush();
        else if (this.held > 0 && this.partialTimer === undefined && !this.closing) {
          this.partialTimer = setTimeout(() => {
            this.partialTimer = undefined;
            this.flush();
          }, this.flushIntervalMs);
          this.partialTimer.unref();
        }
      });
  }
}

/**
 * Forwards to PostHog through posthog-node's queue and `/batch/` endpoint.
 * Accepted events wait in a plain FIFO backlog here and are handed to
 * posthog-node a couple of batches at a time: its queue drops the oldest
 * event silently when full and rescans itself after every batch, so it is
 * kept short, and the forward queue's bound applies to the backlog.
 */
export class PostHogForwarder implements Forwarder {
  readonly destination = 'posthog' as const;
  private readonly lanes: Lane[];
  /** Accepted and not yet delivered or failed: backlog plus every lane. */
  private inFlight = 0;
  private readonly laneLimit: number;
  private backlog: Array<{ event: NormalizedEvent; clientIp: string | undefined } | undefined> = [];
  private backlogHead = 0;
  private nextLane = 0;
  private readonly retryTimer: NodeJS.Timeout;
  private readonly log: FastifyBaseLogger;
  private readonly failed: { inc: (n: number) => void };

  constructor(opts: PostHogForwarderOptions) {
    this.log = opts.log;
    // Two batches per lane: one being sent, one filling up behind it.
    this.laneLimit = opts.batchSize * 2;
    const forwarded = opts.metrics.forwarded.labels('posthog');
    this.failed = opts.metrics.forwardFailed.labels('posthog');
    this.lanes = [];
    for (let i = 0; i < opts.concurrency; i++) {
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
      const lane = new Lane(client, opts.batchSize, opts.flushIntervalMs, opts.log);
      client.onSent = (n) => {
        this.inFlight -= n;
        lane.held -= n;
        forwarded.inc(n);
        this.pump();
      };
      client.onFailed = (n, err) => {
        this.inFlight -= n;
        lane.held -= n;
        this.failed.inc(n);
        this.log.error({ destination: 'posthog', lost: n, err: describe(err) }, 'forward failed');
        this.pump();
      };
      this.lanes.push(lane);
    }
    // Batches that hit a network error stay in posthog-node's queue, and it
    // only flushes again when a new event arrives: nudge it while anything is held.
    this.retryTimer = setInterval(
      () => {
        for (const lane of this.lanes) if (lane.held > 0) lane.flush();
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

  /** Moves events from the backlog into lanes with room, filling one lane at a time. */
  private pump(): void {
    const lanes = this.lanes;
    let tried = 0;
    while (this.backlogHead < this.backlog.length && tried < lanes.length) {
      const lane = lanes[this.nextLane]!;
      if (lane.held >= this.laneLimit) {
        this.nextLane = (this.nextLane + 1) % lanes.length;
        tried++;
        continue;
      }
      tried = 0;
      const item = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined;
      lane.held++;
      lane.client.enqueueEvent(item.event, item.clientIp);
    }
    if (this.backlogHead > 4096 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
  }

  async close(timeoutMs: number): Promise<number> {
    clearInterval(this.retryTimer);
    for (const lane of this.lanes) lane.closing = true;
    const deadline = Date.now() + timeoutMs;
    // Drain the backlog through the lanes batch by batch, then let
    // posthog-node's shutdown send the remainder; all within one deadline.
    while (this.backlogHead < this.backlog.length && Date.now() < deadline) {
      const before = this.inFlight;
      const flushes = this.lanes.map((lane) => lane.client.flush().catch(() => {}));
      await Promise.race([Promise.all(flushes), sleep(Math.max(1, deadline - Date.now()))]);
      if (this.inFlight === before) break;
    }
    await Promise.all(
      this.lanes.map(async (lane) => {
        try {
          await lane.client.shutdown(Math.max(1, deadline - Date.now()));
        } catch (err) {
          this.log.error({ destination: 'posthog', err: describe(err) }, 'shutdown flush failed');
        }
      }),
    );
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
