import { setTimeout as sleep } from 'node:timers/promises';
import { INGESTION_KEY_HEADER, REJECT_CODES } from '@runmat-telemetry/schema';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { type BatchItem, batchBody } from '../batch/batch-item.js';
import type { ForwarderMetrics } from '../metrics.js';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from './retry-policy.js';

export interface BatchSenderOptions {
  endpoint: URL;
  ingestionKey: string;
  concurrency: number;
  requestTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  retryMaxElapsedMs: number;
  metrics: ForwarderMetrics;
  logger: Logger;
}

const KNOWN_CODES: ReadonlySet<unknown> = new Set(REJECT_CODES);

/** What became of one batch. */
export type SendOutcome = 'delivered' | 'failed' | 'aborted';

interface BatchResultBody {
  accepted?: unknown;
  duplicates?: unknown;
  rejected?: unknown;
  results?: unknown;
}

class RetryableError extends Error {
  constructor(
    readonly outcome: string,
    readonly retryAfterMs?: number,
  ) {
    super(`retryable: ${outcome}`);
  }
}

/**
 * Posts batches to the worker's `/v1/batch` over a kept-alive undici pool sized
 * to the concurrency limit, retrying what may succeed later and counting
 * everything else.
 */
export class BatchSender {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(private readonly options: BatchSenderOptions) {
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

  /**
   * Sends one batch until it is delivered, refused for good, out of retry
   * time, or `signal` aborts (shutdown deadline). Never throws.
   */
  async send(items: readonly BatchItem[], signal: AbortSignal): Promise<SendOutcome> {
    const { metrics, logger, retryBaseMs, retryMaxMs, retryMaxElapsedMs } = this.options;
    const body = batchBody(items);
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return 'aborted';
      let retry: RetryableError;
      try {
        return await this.attempt(items, body, signal);
      } catch (err) {
        if (signal.aborted) return 'aborted';
        retry = err instanceof RetryableError ? err : new RetryableError('network');
        if (!(err instanceof RetryableError)) {
          logger.debug({ err, attempt }, 'batch request failed');
        }
      }
      const delay = retry.retryAfterMs ?? backoffDelay(attempt, retryBaseMs, retryMaxMs);
      if (Date.now() + delay - started > retryMaxElapsedMs) {
        metrics.stats.eventsFailed.retries_exhausted += items.length;
        logger.error(
          { events: items.length, attempts: attempt + 1, last: retry.outcome },
          'batch dropped: retries exhausted',
        );
        return 'failed';
      }
      metrics.stats.retries++;
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        return 'aborted';
      }
    }
  }

  private async attempt(
    items: readonly BatchItem[],
    body: Buffer,
    signal: AbortSignal,
  ): Promise<SendOutcome> {
    const { metrics, logger, ingestionKey, retryMaxMs } = this.options;
    const stats = metrics.stats;
    let response: Awaited<ReturnType<Pool['request']>>;
    try {
      response = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', [INGESTION_KEY_HEADER]: ingestionKey },
        body,
        signal,
      });
    } catch (err) {
      stats.requests.network = (stats.requests.network ?? 0) + 1;
      throw err;
    }
    const status = response.statusCode;
    stats.requests[status] = (stats.requests[status] ?? 0) + 1;

    if (status >= 200 && status < 300) {
      let parsed: BatchResultBody | undefined;
      try {
        parsed = (await response.body.json()) as BatchResultBody;
      } catch {
        // 2xx means the worker took the batch; an unreadable body only costs the per-event detail.
      }
      this.countResults(items.length, parsed);
      return 'delivered';
    }

    if (isRetryableStatus(status)) {
      await response.body.dump().catch(() => undefined);
      throw new RetryableError(
        String(status),
        parseRetryAfter(response.headers['retry-after'], Math.max(retryMaxMs, 30_000)),
      );
    }

    // Other 4xx (bad key, body too large, malformed batch) will fail the same way again.
    const text = await response.body.text().catch(() => '');
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: unknown }).error;
    } catch {
      code = undefined;
    }
    stats.eventsFailed.client_error += items.length;
    logger.error(
      { status, code: typeof code === 'string' ? code : undefined, events: items.length },
      'batch refused by worker: not retried',
    );
    return 'failed';
  }

  private countResults(sent: number, body: BatchResultBody | undefined): void {
    const stats = this.options.metrics.stats;
    const results = body?.results;
    if (!Array.isArray(results)) {
      stats.eventsForwarded += sent;
      return;
    }
    for (const result of results as { status?: unknown; code?: unknown }[]) {
      if (result?.status === 'rejected') {
        // Only known codes become label values, so a misbehaving worker cannot blow up cardinality.
        const code = KNOWN_CODES.has(result.code) ? (result.code as string) : 'other';
        stats.eventsRejected[code] = (stats.eventsRejected[code] ?? 0) + 1;
      } else {
        stats.eventsForwarded++;
        if (result?.status === 'duplicate') stats.eventsDuplicate++;
      }
    }
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
