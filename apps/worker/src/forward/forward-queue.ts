import type { NormalizedEvent } from '@runmat-telemetry/schema';
import type { Destination } from '../metrics.js';

/** One upstream (PostHog, GA4): holds events until they are delivered or given up on. */
export interface Forwarder {
  readonly destination: Destination;
  /** Events accepted by this forwarder and not yet delivered or failed. */
  pending(): number;
  /** Takes ownership of one event; never blocks, never throws. */
  push(event: NormalizedEvent, clientIp: string | undefined): void;
  /**
   * Delivers what is pending within `timeoutMs` and releases resources.
   * Resolves with the number of events it had to give up on.
   */
  close(timeoutMs: number): Promise<number>;
}

/**
 * Bounded fan-out in front of the forwarders. The bound is in events per
 * destination: a request is admitted only when every destination can take
 * all of its events, so a 2xx always means "held for delivery" and a full
 * queue answers 503 instead of growing memory.
 */
export class ForwardQueue {
  constructor(
    readonly forwarders: readonly Forwarder[],
    readonly capacity: number,
  ) {}

  /** True when `n` more events fit in every destination. */
  hasRoom(n: number): boolean {
    for (const f of this.forwarders) if (f.pending() + n > this.capacity) return false;
    return true;
  }

  /** True when the queue is at capacity (readiness reports not ready). */
  isFull(): boolean {
    return !this.hasRoom(1);
  }

  push(event: NormalizedEvent, clientIp: string | undefined): void {
    for (const f of this.forwarders) f.push(event, clientIp);
  }

  /** Deepest destination backlog. */
  depth(): number {
    let max = 0;
    for (const f of this.forwarders) max = Math.max(max, f.pending());
    return max;
  }

  /** Flushes every destination in parallel within `timeoutMs`; returns events lost per destination. */
  async close(timeoutMs: number): Promise<Partial<Record<Destination, number>>> {
    const lost = await Promise.all(this.forwarders.map((f) => f.close(timeoutMs)));
    const out: Partial<Record<Destination, number>> = {};
    this.forwarders.forEach((f, i) => {
      out[f.destination] = lost[i] ?? 0;
    });
    return out;
  }
}
