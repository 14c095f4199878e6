import type { NormalizedEvent } from '@runmat-telemetry/schema';
import type { Destination } from '../metrics.js';

/** One upstream (PostHog, GA4): holds events until they are delivered or given up on. */
export interface Forwarder {
  readonly destination: Destination;
  /** Events accepted by this forwarder and not yet delivered or failed. */
  pending(): number;
  /**
   * Bytes those events hold (serialized bytes plus a per-event overhead);
   * a forwarder without it is bounded by event count only.
   */
  pendingBytes?(): number;
  /** The bounds this forwarder is held to (for its capacity gauges), set by the queue. */
  capacity?: { events: number; bytes: number };
  /** Takes ownership of one event; never blocks, never throws. */
  push(event: NormalizedEvent, clientIp: string | undefined): void;
  /**
   * Delivers what is pending within `timeoutMs` and releases resources.
   * Resolves with the number of events it had to give up on.
   */
  close(timeoutMs: number): Promise<number>;
}

/** Room set aside by {@link ForwardQueue.reserve} for events about to be pushed. */
export interface Reservation {
  readonly events: number;
  /** True once used up or released. */
  settled: boolean;
}

/** Bytes assumed per event before any has been measured (a finished run serializes to ~1 KB). */
const INITIAL_BYTES_PER_EVENT = 2048;

/**
 * Bounded fan-out in front of the forwarders. The bound is per destination,
 * in events (`QUEUE_CAPACITY`) and in bytes (`QUEUE_MAX_BYTES`, from the
 * memory budget): a request is admitted only when every destination can take
 * all of its events, so a 2xx always means "held for delivery" and a full
 * queue answers 503 instead of growing memory.
 *
 * Admission can be split from the push: {@link reserve} sets room aside (so
 * requests that are admitted while another awaits its shared-dedupe claim
 * cannot take it), and the pushes that follow use it. The byte size of an
 * event is only known once its destination has serialized it, so a
 * reservation counts the running average size per destination.
 */
export class ForwardQueue {
  private reservedEvents = 0;
  private readonly avgBytes: number[];

  constructor(
    readonly forwarders: readonly Forwarder[],
    readonly capacity: number,
    readonly capacityBytes: number = Number.POSITIVE_INFINITY,
  ) {
    this.avgBytes = forwarders.map(() => INITIAL_BYTES_PER_EVENT);
    for (const f of forwarders) {
      if (f.capacity !== undefined) f.capacity = { events: capacity, bytes: capacityBytes };
    }
  }

  /** True when `n` more events fit in every destination (counting reserved room). */
  hasRoom(n: number): boolean {
    const events = this.reservedEvents + n;
    for (let i = 0; i < this.forwarders.length; i++) {
      const f = this.forwarders[i]!;
      if (f.pending() + events > this.capacity) return false;
      if (f.pendingBytes !== undefined) {
        if (f.pendingBytes() + events * this.avgBytes[i]! > this.capacityBytes) return false;
      }
    }
    return true;
  }

  /**
   * The guard's cheaper question, before a body is read: is there room for
   * `n` events, counting at most a tenth of the byte bound for them (a
   * maximal batch must not be refused by an estimate when the bound is small)?
   */
  hasHeadroom(n: number): boolean {
    const events = this.reservedEvents + n;
    for (let i = 0; i < this.forwarders.length; i++) {
      const f = this.forwarders[i]!;
      if (f.pending() + events > this.capacity) return false;
      if (f.pendingBytes !== undefined) {
        const want = Math.min(events * this.avgBytes[i]!, this.capacityBytes / 10);
        if (f.pendingBytes() + want > this.capacityBytes) return false;
      }
    }
    return true;
  }

  /** Sets room for `n` events aside, or returns null when it is not there. */
  reserve(n: number): Reservation | null {
    if (!this.hasRoom(n)) return null;
    this.reservedEvents += n;
    return { events: n, settled: false };
  }

  /** Gives back what a reservation did not use (call once its events are pushed, or dropped). */
  release(reservation: Reservation): void {
    if (reservation.settled) return;
    reservation.settled = true;
    this.reservedEvents -= reservation.events;
  }

  /** True when the queue is at capacity (readiness reports not ready). */
  isFull(): boolean {
    return !this.hasRoom(1);
  }

  push(event: NormalizedEvent, clientIp: string | undefined): void {
    for (let i = 0; i < this.forwarders.length; i++) {
      const f = this.forwarders[i]!;
      if (f.pendingBytes === undefined) {
        f.push(event, clientIp);
        continue;
      }
      const before = f.pendingBytes();
      f.push(event, clientIp);
      const added = f.pendingBytes() - before;
      // A slow running average (1/64 per event) of what one event costs here.
      if (added > 0) this.avgBytes[i]! += (added - this.avgBytes[i]!) / 64;
    }
  }

  /** Deepest destination backlog. */
  depth(): number {
    let max = 0;
    for (const f of this.forwarders) max = Math.max(max, f.pending());
    return max;
  }

  /** Largest destination backlog in bytes (0 for forwarders that do not count bytes). */
  depthBytes(): number {
    let max = 0;
    for (const f of this.forwarders) max = Math.max(max, f.pendingBytes?.() ?? 0);
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
