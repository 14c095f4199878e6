/** Where an event arrived: PostHog's capture API or GA4's Measurement Protocol. */
export type Destination = 'posthog' | 'ga4';

/** One GA4 rule violation, in the shape GA4's validation server answers with. */
export interface Ga4ValidationMessage {
  fieldPath: string;
  description: string;
  validationCode:
    | 'VALUE_INVALID'
    | 'VALUE_REQUIRED'
    | 'NAME_INVALID'
    | 'NAME_RESERVED'
    | 'VALUE_OUT_OF_BOUNDS'
    | 'EXCEEDED_MAX_ENTITIES'
    | 'NAME_DUPLICATED';
}

/** One event as the sink recorded it. */
export interface SinkEvent {
  /** Arrival order, starting at 1; never reused, even after `clear()`. */
  seq: number;
  /** Arrival time in epoch milliseconds. */
  receivedAt: number;
  destination: Destination;
  /** Request path the event arrived on, e.g. `/batch/` or `/mp/collect`. */
  path: string;
  event: string;
  /** PostHog's distinct_id, or the GA4 request's client_id. */
  distinct_id: string;
  uuid?: string;
  /** As sent: an ISO string for PostHog, `timestamp_micros` for GA4. */
  timestamp?: string | number;
  /** PostHog properties, or GA4 event params. */
  properties: Record<string, unknown>;
  /** PostHog project key the event was sent with. */
  api_key?: string;
  /** GA4 measurement id from the query string. */
  measurement_id?: string;
  /** GA4 rules this event (or its request) broke; absent for PostHog. */
  violations?: Ga4ValidationMessage[];
}

/** Filter for `events()` and `GET /_sink/events`; every given field must match. */
export interface EventFilter {
  destination?: Destination;
  event?: string;
  distinct_id?: string;
}

/** Default bound on stored events: enough for any test, small enough for a laptop. */
export const DEFAULT_MAX_EVENTS = 10_000;

/**
 * A bounded ring of events. When full, the oldest event is evicted and counted,
 * so a long-running local sink never grows without limit and a test can still
 * tell that something was lost.
 */
export class EventStore {
  readonly capacity: number;
  private readonly ring: (SinkEvent | undefined)[];
  private start = 0;
  private length = 0;
  private nextSeq = 1;
  private evictedCount = 0;

  constructor(capacity: number = DEFAULT_MAX_EVENTS) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`maxEvents must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.ring = new Array(capacity);
  }

  /** Stores an event, assigning its `seq`; evicts the oldest one when full. */
  add(event: Omit<SinkEvent, 'seq'>): SinkEvent {
    const stored: SinkEvent = { seq: this.nextSeq++, ...event };
    if (this.length < this.capacity) {
      this.ring[(this.start + this.length) % this.capacity] = stored;
      this.length++;
    } else {
      this.ring[this.start] = stored;
      this.start = (this.start + 1) % this.capacity;
      this.evictedCount++;
    }
    return stored;
  }

  /** Stored events, oldest first, that match every field of the filter. */
  list(filter: EventFilter = {}): SinkEvent[] {
    const out: SinkEvent[] = [];
    for (let i = 0; i < this.length; i++) {
      const e = this.ring[(this.start + i) % this.capacity];
      if (e === undefined) continue;
      if (filter.destination !== undefined && e.destination !== filter.destination) continue;
      if (filter.event !== undefined && e.event !== filter.event) continue;
      if (filter.distinct_id !== undefined && e.distinct_id !== filter.distinct_id) continue;
      out.push(e);
    }
    return out;
  }

  get size(): number {
    return this.length;
  }

  /** How many events were pushed out by newer ones since the last clear. */
  get evicted(): number {
    return this.evictedCount;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.start = 0;
    this.length = 0;
    this.evictedCount = 0;
  }
}
