import { RetryPolicy } from '@runmat-telemetry/delivery';

/**
 * The shared retry policy from a destination's settings: at most `retries`
 * retries, full-jitter backoff from `retryDelayMs` doubling up to 32 times
 * it, and an elapsed budget that fits those retries and their attempts
 * (`timeoutMs` each).
 */
export function retryPolicyFor(
  retries: number,
  retryDelayMs: number,
  timeoutMs: number,
): RetryPolicy {
  const maxMs = retryDelayMs * 32;
  let budget = timeoutMs;
  for (let i = 0; i < retries; i++) budget += Math.min(maxMs, retryDelayMs * 2 ** i) + timeoutMs;
  return new RetryPolicy({
    baseMs: retryDelayMs,
    maxMs,
    maxElapsedMs: budget,
    maxRetries: retries,
  });
}
