/** HTTP statuses worth retrying: the worker is busy, rate limiting, or failing transiently. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^attempt)].
 * Full jitter spreads the forwarder instances' retries so a recovering worker
 * is not hit by all of them at once.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(Math.random() * ceiling);
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date,
 * capped at `capMs`; undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  capMs: number,
  now = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
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
