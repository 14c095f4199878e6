import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzip, constants as zlibConstants } from 'node:zlib';
import { createPostHogEncoder, type NormalizedEvent } from '@runmat-telemetry/schema';
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

/** One accepted event as the forwarder holds it: already serialized. */
interface QueuedCapture {
  distinct_id: string;
  event: string;
  uuid: string;
  /** The capture event's JSON in UTF-8, as it goes into the `/batch/` body. */
  wire: Buffer;
}

const isQueuedCapture = (message: unknown): message is QueuedCapture =>
  Buffer.isBuffer((message as Partial<QueuedCapture> | null)?.wire);

/**
 * Serializes events for PostHog with the library properties posthog-node
 * adds to every capture (`$lib`, `$lib_version`, `$is_server`).
 */
function encoderFor(client: PostHog): (event: NormalizedEvent, clientIp?: string) => string {
  const common = (
    client as unknown as { getCommonEventProperties(): Record<string, string | number | boolean> }
  ).getCommonEventProperties();
  return createPostHogEncoder(common);
}

/** posthog-node's retrying fetch (private in its types, present at runtime). */
type FetchWithRetry = (
  url: string,
  options: { method: 'POST'; headers: Record<string, string>; body: string | Uint8Array },
  responseHandling: { type: 'successful-write' },
  retryOptions?: unknown,
) => Promise<unknown>;

const gzipFast = promisify(gzip);
const COMMA = Buffer.from(',');

/**
 * What one held event costs besides its serialized bytes: the capture object
 * and its three strings, its backlog slot and posthog-node's queue entry.
 */
export const CAPTURE_OVERHEAD_BYTES = 256;

/** Bytes a held batch accounts for (0 for messages not queued as serialized captures). */
function heldBytesOf(batch: unknown[]): number {
  let bytes = 0;
  for (const m of batch) {
    const wire = (m as Partial<QueuedCapture> | undefined)?.wire;
    if (Buffer.isBuffer(wire)) bytes += wire.length + CAPTURE_OVERHEAD_BYTES;
  }
  return bytes;
}

/**
 * Hands out the UTF-8 bytes of serialized events from large shared chunks.
 * `Buffer.from` on a 1 KB string allocates from Node's 8 KB pool, so a new
 * pool every few events; one 256 KB chunk holds a few hundred. A chunk is
 * freed once every event written into it has been sent.
 */
export class WireArena {
  private chunk = Buffer.allocUnsafeSlow(0);
  private offset = 0;

  constructor(private readonly chunkBytes = 256 * 1024) {}

  write(text: string): Buffer {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes.
    const worst = text.length * 3;
    if (worst > this.chunkBytes) return Buffer.from(text, 'utf8');
    if (this.chunk.length - this.offset < worst) {
      this.chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
      this.offset = 0;
    }
    const start = this.offset;
    this.offset += this.chunk.write(text, start, 'utf8');
    return this.chunk.subarray(start, this.offset);
  }
}

/**
 * posthog-node client that queues events already serialized and reports
 * per-batch outcomes.
 *
 * posthog-node's own capture path copies every event three times and
 * serializes each batch through a replacer function that runs once per value;
 * on the worker's hot path that was most of the CPU per event. Here each
 * event is serialized once, when it is queued, by the schema's PostHog
 * encoder (with the `$lib`, `$lib_version` and `$is_server` posthog-node
 * would add), and `sendBatch` joins those strings into the `/batch/` body.
 * Everything else is still posthog-node's: its queue, flush triggers, 413
 * batch halving, network-error requeue, and `fetchWithRetry` with its
 * timeouts and retries on 408/429/5xx. Bodies are gzipped at level 1: for
 * batches of similar events it compresses within a few percent of level 6
 * at about half the CPU.
 *
 * `sendBatch` is also the one place every `/batch/` request goes through, so
 * it is where delivered and failed events are counted exactly.
 */
class CountingPostHog extends PostHog {
  onSent: (n: number, bytes: number) => void = () => {};
  onFailed: (n: number, bytes: number, err: unknown) => void = () => {};
  private readonly fetchWithRetryFn: FetchWithRetry;

  constructor(apiKey: string, options: ConstructorParameters<typeof PostHog>[1]) {
    super(apiKey, options);
    const fetchWithRetry = (this as unknown as { fetchWithRetry?: FetchWithRetry }).fetchWithRetry;
    if (typeof fetchWithRetry !== 'function') {
      throw new Error(
        'posthog-node has no fetchWithRetry: this posthog-node version is not supported by the worker',
      );
    }
    this.fetchWithRetryFn = fetchWithRetry.bind(this);
    // posthog-node normalizes each message when it is queued and again when
    // its batch is cut (a copy and a uuid check each time). A serialized
    // capture is final, so it passes through as it is.
    const internals = this as unknown as { normalizeMessage?: (m: unknown) => unknown };
    const normalize = internals.normalizeMessage;
    if (typeof normalize !== 'function') {
      throw new Error(
        'posthog-node has no normalizeMessage: this posthog-node version is not supported by the worker',
      );
    }
    internals.normalizeMessage = (m: unknown) => (isQueuedCapture(m) ? m : normalize.call(this, m));
  }

  /** Puts one serialized event in posthog-node's queue. */
  enqueueCapture(capture: QueuedCapture): void {
    this.enqueue('capture', capture);
  }

  /** A serialized capture already carries its uuid, timestamp and `$geoip_disable`. */
  protected override prepareMessage(
    message: unknown,
    options?: Parameters<PostHog['capture']>[0],
  ): ReturnType<PostHog['prepareMessage']> {
    if (isQueuedCapture(message))
      return message as unknown as ReturnType<PostHog['prepareMessage']>;
    return super.prepareMessage(message, options as never);
  }

  protected override async sendBatch(
    batch: unknown[],
    retryOptions?: unknown,
    route?: string,
  ): Promise<void> {
    try {
      const wires = wiresOf(batch);
      if (wires === null) await super.sendBatch(batch as never, retryOptions as never, route);
      else await this.sendWires(wires, retryOptions, route);
    } catch (err) {
      // Not every error settles the batch (see posthog-node's `_flushRoute`):
      // - a network error leaves it in posthog-node's queue for the next flush;
      // - a 413 on more than one event makes posthog-node halve its batch size
      //   and send the same events again in smaller batches, each of which
      //   lands here and is counted when it settles;
      // anything else (HTTP errors after retries, a 413 on a single event) drops it.
      if (!isRequeued(err, batch.length)) this.onFailed(batch.length, heldBytesOf(batch), err);
      throw err;
    }
    this.onSent(batch.length, heldBytesOf(batch));
  }

  private async sendWires(wires: Buffer[], retryOptions: unknown, route?: string): Promise<void> {
    // The body is assembled from the events' bytes in one copy.
    const parts: Buffer[] = [Buffer.from(`{"api_key":${JSON.stringify(this.apiKey)},"batch":[`)];
    for (let i = 0; i < wires.length; i++) {
      if (i > 0) parts.push(COMMA);
      parts.push(wires[i]!);
    }
    parts.push(Buffer.from(`],"sent_at":"${new Date().toISOString()}"}`));
    const payload = Buffer.concat(parts);
    const headers: Record<string, string> = {
      ...this.getCustomHeaders(),
      'Content-Type': 'application/json',
    };
    let body: Uint8Array = payload;
    if (!this.disableCompression) {
      body = new Uint8Array(await gzipFast(payload, { level: zlibConstants.Z_BEST_SPEED }));
      headers['Content-Encoding'] = 'gzip';
    }
    const url = `${this.host}${this.getBatchEndpointPath(route ?? 'default')}`;
    await this.fetchWithRetryFn(
      url,
      { method: 'POST', headers, body },
      { type: 'successful-write' },
      retryOptions,
    );
  }
}

/** The serialized events of a batch, or null if any message was not queued by `enqueueEvent`. */
function wiresOf(batch: unknown[]): Buffer[] | null {
  const wires: Buffer[] = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const wire = (batch[i] as Partial<QueuedCapture> | undefined)?.wire;
    if (!Buffer.isBuffer(wire)) return null;
    wires[i] = wire;
  }
  return wires;
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
  /** Their serialized bytes plus {@link CAPTURE_OVERHEAD_BYTES} each. */
  private inFlightBytes = 0;
  private readonly laneLimit: number;
  private backlog: Array<QueuedCapture | undefined> = [];
  private readonly encode: (event: NormalizedEvent, clientIp?: string) => string;
  private readonly arena = new WireArena();
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
    let encode: ((event: NormalizedEvent, clientIp?: string) => string) | undefined;
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
      encode ??= encoderFor(client);
      const lane = new Lane(client, opts.batchSize, opts.flushIntervalMs, opts.log);
      client.onSent = (n, bytes) => {
        this.inFlight -= n;
        this.inFlightBytes -= bytes;
        lane.held -= n;
        forwarded.inc(n);
        this.pump();
      };
      client.onFailed = (n, bytes, err) => {
        this.inFlight -= n;
        this.inFlightBytes -= bytes;
        lane.held -= n;
        this.failed.inc(n);
        this.log.error({ destination: 'posthog', lost: n, err: describe(err) }, 'forward failed');
        this.pump();
      };
      this.lanes.push(lane);
    }
    if (encode === undefined)
      throw new Error('PostHog forwarding needs a concurrency of at least 1');
    this.encode = encode;
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

  pendingBytes(): number {
    return this.inFlightBytes;
  }

  push(event: NormalizedEvent, clientIp: string | undefined): void {
    // Serialized on arrival, to UTF-8 bytes: the backlog then holds one
    // buffer per event (its bytes outside the JS heap) instead of an object
    // graph, which keeps a full queue cheap for the garbage collector, and a
    // batch body is one copy of those bytes.
    let wire: Buffer;
    try {
      wire = this.arena.write(this.encode(event, clientIp));
    } catch (err) {
      // Normalized events always serialize; if one ever did not, it is
      // counted as lost rather than thrown into the request that carried it.
      this.failed.inc(1);
      this.log.error(
        { destination: 'posthog', lost: 1, err: describe(err) },
        'event not encodable',
      );
      return;
    }
    this.inFlight++;
    this.inFlightBytes += wire.length + CAPTURE_OVERHEAD_BYTES;
    this.backlog.push({
      distinct_id: event.distinct_id,
      event: event.event,
      uuid: event.uuid,
      wire,
    });
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
      lane.client.enqueueCapture(item);
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
    this.inFlightBytes = 0;
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
