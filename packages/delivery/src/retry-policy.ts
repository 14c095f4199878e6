import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What one attempt to deliver a batch came to, as a destination's status
 * classifier reports it.
 *
 * - `delivered`: the destination took the batch. `rejected` counts events it
 *   refused one by one inside an accepted request (the worker's per-event
 *   batch results); those are failed with reason `rejected`, never retried.
 * - `retry`: worth another attempt (408, 429, 5xx, a network error or a
 *   timeout); `reason` is the status or `network`, `retryAfterMs` the
 *   server's `Retry-After` when it sent one.
 * - `too_large`: 413. A batch of several events is halved and both halves are
 *   sent; a single event that is too large fails with reason `too_large`.
 * - `refused`: any other answer, which would only repeat; fails at once.
 */
export type Verdict =
  | { readonly kind: 'delivered'; readonly rejected?: number }
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'refused'; readonly reason: string };

/** HTTP statuses worth retrying: busy, rate limited or failing transiently. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date,
 * capped at `capMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | readonly string[] | null | undefined,
  capMs: number,
  now = Date.now(),
): number | undefined {
  const text = (typeof value === 'string' ? value : value?.[0])?.trim();
  if (!text) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(capMs, Math.max(0, ms));
}

/** Settings of a {@link RetryPolicy}. */
export interface RetryPolicyOptions {
  /** First backoff ceiling; the ceiling doubles with each attempt. */
  baseMs: number;
  /** Largest backoff ceiling. */
  maxMs: number;
  /**
   * How long one batch keeps being retried, from its first attempt: a retry
   * whose wait would end past this fails the batch (`retries_exhausted`).
   */
  maxElapsedMs: number;
  /** Retries per batch at most (default: unbounded, the elapsed budget alone). */
  maxRetries?: number;
  /** Longest `Retry-After` honoured (default: `max(maxMs, 30 s)`). */
  retryAfterCapMs?: number;
  /** Uniform random in [0, 1) (tests pass their own). */
  random?: () => number;
}

/**
 * The one retry rule every destination uses: retry 408, 429, 5xx and network
 * errors; wait what `Retry-After` asks, else a full-jitter exponential
 * backoff (a uniform delay in [0, min(max, base * 2^attempt)], so instances
 * recovering together do not retry in step); stop once the elapsed budget
 * would be exceeded, or after `maxRetries` retries when one is set.
 */
export class RetryPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
  readonly maxElapsedMs: number;
  readonly retryAfterCapMs: number;
  readonly maxRetries: number;
  private readonly random: () => number;

  constructor(options: RetryPolicyOptions) {
    for (const key of ['baseMs', 'maxMs', 'maxElapsedMs'] as const) {
      const v = options[key];
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`RetryPolicy ${key} must be >= 0`);
    }
    this.baseMs = options.baseMs;
    this.maxMs = options.maxMs;
    this.maxElapsedMs = options.maxElapsedMs;
    this.retryAfterCapMs = options.retryAfterCapMs ?? Math.max(options.maxMs, 30_000);
    this.maxRetries = options.maxRetries ?? Number.POSITIVE_INFINITY;
    if (!(this.maxRetries >= 0)) throw new RangeError('RetryPolicy maxRetries must be >= 0');
    this.random = options.random ?? Math.random;
  }

  /** The wait before retry number `attempt + 1` (attempt 0 is the first try). */
  delay(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.retryAfterCapMs);
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(attempt, 30));
    return Math.floor(this.random() * ceiling);
  }

  /**
   * Whether retry number `retry` (1 for the first), waiting `delayMs` from
   * `now`, is within the retry count and ends inside the elapsed budget.
   */
  allows(startedAt: number, delayMs: number, now = Date.now(), retry = 1): boolean {
    return retry <= this.maxRetries && now + delayMs - startedAt <= this.maxElapsedMs;
  }

  /** The verdict for an HTTP answer (the default status classifier). */
  classify(status: number, retryAfter?: string | readonly string[] | null): Verdict {
    if (status >= 200 && status < 300) return { kind: 'delivered' };
    if (status === 413) return { kind: 'too_large' };
    if (isRetryableStatus(status)) {
      const retryAfterMs = parseRetryAfter(retryAfter, this.retryAfterCapMs);
      return retryAfterMs === undefined
        ? { kind: 'retry', reason: String(status) }
        : { kind: 'retry', reason: String(status), retryAfterMs };
    }
    return { kind: 'refused', reason: String(status) };
  }
}

/** How {@link runAttempts} ended. */
export type AttemptsResult<T> =
  | { readonly kind: 'settled'; readonly verdict: Verdict; readonly value: T; attempts: number }
  | { readonly kind: 'exhausted'; readonly last: string; attempts: number }
  | { readonly kind: 'aborted'; attempts: number };

/** One attempt: resolves with its verdict (and any value the caller wants back), or throws for a network error. */
export type Attempt<T> = (signal: AbortSignal) => Promise<{ verdict: Verdict; value: T }>;

/** Hooks {@link runAttempts} calls as it goes. */
export interface AttemptHooks {
  /** Before each wait: why the previous attempt is retried. */
  onRetry?(reason: string, attempt: number, delayMs: number): void;
  /** A thrown attempt (a network error), before it is retried. */
  onNetworkError?(err: unknown, attempt: number): void;
}

/**
 * `promise`, or a rejection as soon as `signal` aborts: an attempt that
 * ignores its signal cannot hold a shutdown past its deadline.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * Runs `attempt` under `policy` until it gives a verdict other than `retry`,
 * the elapsed budget runs out, or `signal` aborts. Never throws.
 */
export async function runAttempts<T>(
  policy: RetryPolicy,
  attempt: Attempt<T>,
  signal: AbortSignal,
  hooks: AttemptHooks = {},
  startedAt = Date.now(),
): Promise<AttemptsResult<T>> {
  for (let n = 0; ; n++) {
    if (signal.aborted) return { kind: 'aborted', attempts: n };
    let reason: string;
    let retryAfterMs: number | undefined;
    try {
      const { verdict, value } = await untilAborted(attempt(signal), signal);
      if (verdict.kind !== 'retry') return { kind: 'settled', verdict, value, attempts: n + 1 };
      reason = verdict.reason;
      retryAfterMs = verdict.retryAfterMs;
    } catch (err) {
      if (signal.aborted) return { kind: 'aborted', attempts: n + 1 };
      hooks.onNetworkError?.(err, n);
      reason = 'network';
    }
    const delay = policy.delay(n, retryAfterMs);
    if (!policy.allows(startedAt, delay, Date.now(), n + 1))
      return { kind: 'exhausted', last: reason, attempts: n + 1 };
    hooks.onRetry?.(reason, n, delay);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return { kind: 'aborted', attempts: n + 1 };
    }
  }
}
