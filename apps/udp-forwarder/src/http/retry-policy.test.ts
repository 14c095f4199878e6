import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, parseRetryAfter } from './retry-policy.js';

describe('retry policy', () => {
  it('retries 408, 429 and 5xx only', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 415].some(isRetryableStatus)).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', 30_000, now)).toBe(2000);
    expect(parseRetryAfter('3600', 30_000, now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', 30_000, now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', 30_000, now)).toBe(0);
    expect(parseRetryAfter(['1', '9'], 30_000, now)).toBe(1000);
    expect(parseRetryAfter('soon', 30_000, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, 30_000, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter under the ceiling', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(1000, 10 * 2 ** attempt);
      for (let i = 0; i < 50; i++) {
        const delay = backoffDelay(attempt, 10, 1000);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(ceiling);
      }
    }
  });
});
