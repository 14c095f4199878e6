import type { Answer, Destination, RetryPolicy } from '@runmat-telemetry/delivery';
import { INGESTION_KEY_HEADER, REJECT_CODES } from '@runmat-telemetry/schema';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { type BatchItem, batchBody } from '../batch/batch-item.js';
import type { ForwarderMetrics } from '../metrics.js';

export interface WorkerDestinationOptions {
  /** Full URL of the worker's `POST /v1/batch`. */
  endpoint: URL;
  ingestionKey: string;
  concurrency: number;
  requestTimeoutMs: number;
  metrics: ForwarderMetrics;
  logger: Logger;
  /** The shared policy, whose status classifier (with `Retry-After`) this uses. */
  policy: RetryPolicy;
}

const KNOWN_CODES: ReadonlySet<unknown> = new Set(REJECT_CODES);

interface BatchResultBody {
  results?: unknown;
}

/**
 * The worker's `/v1/batch` as a delivery destination. The encoder splices
 * each queued event's bytes into the body (`batchBody`); the classifier is
 * the shared one, plus the worker's per-event results: events it rejected
 * are failed `rejected` (by code in `runmat_forwarder_events_rejected_total`),
 * duplicates are delivered. Requests go over a kept-alive undici pool sized
 * to the concurrency.
 */
export class WorkerDestination implements Destination<BatchItem> {
  readonly name = 'worker';
  private readonly pool: Pool;
  private readonly path: string;

  constructor(private readonly options: WorkerDestinationOptions) {
    const { endpoint, concurrency, requestTimeoutMs } = options;
    this.path = `${endpoint.pathname}${endpoint.search}`;
    this.pool = new Pool(endpoint.origin, {
      connections: concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(requestTimeoutMs, 10_000),
      headersTimeout: requestTimeoutMs,
      bodyTimeout: requestTimeoutMs,
    });
  }

  async send(items: readonly BatchItem[], signal: AbortSignal): Promise<Answer> {
    const { ingestionKey, logger, policy } = this.options;
    const response = await this.pool.request({
      path: this.path,
      method: 'POST',
      headers: { 'content-type': 'application/json', [INGESTION_KEY_HEADER]: ingestionKey },
      body: batchBody(items),
      signal,
    });
    const status = response.statusCode;
    const verdict = policy.classify(status, response.headers['retry-after']);
    if (verdict.kind === 'delivered') {
      let parsed: BatchResultBody | undefined;
      try {
        parsed = (await response.body.json()) as BatchResultBody;
      } catch {
        // 2xx means the worker took the batch; an unreadable body only costs the per-event detail.
      }
      return { status, verdict: { kind: 'delivered', rejected: this.countResults(parsed) } };
    }
    if (verdict.kind !== 'refused') {
      await response.body.dump().catch(() => undefined);
      return { status, verdict };
    }
    // A refusal (bad key, malformed batch) would fail the same way again.
    const text = await response.body.text().catch(() => '');
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: unknown }).error;
    } catch {
      code = undefined;
    }
    logger.error(
      { status, code: typeof code === 'string' ? code : undefined, events: items.length },
      'batch refused by worker: not retried',
    );
    return { status, verdict };
  }

  /** Counts duplicates and rejects from the per-event results; returns how many were rejected. */
  private countResults(body: BatchResultBody | undefined): number {
    const stats = this.options.metrics.stats;
    const results = body?.results;
    if (!Array.isArray(results)) return 0;
    let rejected = 0;
    for (const result of results as { status?: unknown; code?: unknown }[]) {
      if (result?.status === 'rejected') {
        // Only known codes become label values, so a misbehaving worker cannot blow up cardinality.
        const code = KNOWN_CODES.has(result.code) ? (result.code as string) : 'other';
        stats.eventsRejected[code] = (stats.eventsRejected[code] ?? 0) + 1;
        rejected++;
      } else if (result?.status === 'duplicate') stats.eventsDuplicate++;
    }
    return rejected;
  }

  /** Closes kept-alive connections once nothing is in flight. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Tears connections down at once (in-flight requests fail). */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
