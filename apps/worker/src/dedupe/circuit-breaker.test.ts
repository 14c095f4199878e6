import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

function breaker(failureThreshold = 3, cooldownMs = 1000) {
  let now = 0;
  const changes: CircuitState[] = [];
  const b = new CircuitBreaker({
    failureThreshold,
    cooldownMs,
    now: () => now,
    onChange: (s) => changes.push(s),
  });
  return { b, changes, advance: (ms: number) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, not before', () => {
    const { b, changes } = breaker(3);
    b.failure();
    b.failure();
    expect(b.admit()).toBe('call');
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.admit()).toBe('refuse');
    expect(changes).toEqual(['open']);
  });

  it('lets one probe through after the cooldown; success closes, failure reopens', () => {
    const { b, changes, advance } = breaker(1, 1000);
    b.failure();
    advance(999);
    expect(b.admit()).toBe('refuse');
    advance(1);
    expect(b.admit()).toBe('probe');
    expect(b.state).toBe('half_open');
    // Only one probe at a time.
    expect(b.admit()).toBe('refuse');
    b.failure();
    expect(b.state).toBe('open');
    advance(500);
    expect(b.admit()).toBe('refuse');
    advance(500);
    expect(b.admit()).toBe('probe');
    b.success();
    expect(b.state).toBe('closed');
    expect(b.admit()).toBe('call');
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });
});
