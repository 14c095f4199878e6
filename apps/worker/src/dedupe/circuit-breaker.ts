/** `closed`: calls go through; `open`: they are refused; `half_open`: one probe is in flight. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Gauge values for {@link CircuitState}. */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = {
  closed: 0,
  half_open: 1,
  open: 2,
};

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through. */
  cooldownMs: number;
  now?: () => number;
  onChange?: (state: CircuitState) => void;
}

/**
 * A consecutive-failure circuit breaker. Closed, every call is tried; after
 * `failureThreshold` failures in a row it opens and refuses calls for
 * `cooldownMs`; the first call after that is the probe (half-open, every
 * other call still refused): its success closes the circuit, its failure
 * opens it for another cooldown. Nothing here waits or sets timers: a
 * refused call costs a comparison.
 */
export class CircuitBreaker {
  private stateNow: CircuitState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private readonly now: () => number;

  constructor(private readonly opts: CircuitBreakerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.stateNow;
  }

  /**
   * Whether a call may go ahead now. When it returns 'probe' the caller
   * holds the single half-open attempt and must report its outcome.
   */
  admit(): 'call' | 'probe' | 'refuse' {
    switch (this.stateNow) {
      case 'closed':
        return 'call';
      case 'half_open':
        return 'refuse';
      case 'open':
        if (this.now() - this.openedAt < this.opts.cooldownMs) return 'refuse';
        this.set('half_open');
        return 'probe';
    }
  }

  success(): void {
    this.failures = 0;
    if (this.stateNow !== 'closed') this.set('closed');
  }

  failure(): void {
    this.failures++;
    if (this.stateNow === 'half_open' || this.failures >= this.opts.failureThreshold) {
      this.openedAt = this.now();
      if (this.stateNow !== 'open') this.set('open');
    }
  }

  private set(state: CircuitState): void {
    this.stateNow = state;
    this.opts.onChange?.(state);
  }
}
