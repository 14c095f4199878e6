import { request } from 'undici';
import { type WaitForOptions, waitFor } from './wait-for.js';

export type Destination = 'posthog' | 'ga4';

/** A GA4 validation problem as the sink reports it (GA4's own field names). */
export interface Ga4Violation {
  fieldPath: string;
  description: string;
  validationCode: string;
}

/** One event as the fake sink stored it (PostHog properties or GA4 params in `properties`). */
export interface SinkEvent {
  seq: number;
  receivedAt: number;
  destination: Destination;
  path: string;
  event: string;
  /** PostHog distinct_id, or the GA4 request's client_id. */
  distinct_id: string;
  uuid?: string;
  timestamp?: string | number;
  properties: Record<string, unknown>;
  api_key?: string;
  measurement_id?: string;
  violations?: Ga4Violation[];
}

export interface SinkEventFilter {
  destination?: Destination;
  event?: string;
  distinct_id?: string;
}

export interface SinkStats {
  posthog: { requests: number; events: number };
  ga4: { requests: number; events: number; violations: number };
  evicted: number;
  faults: { injected: number };
}

/** Body of `POST /_sink/faults`. */
export type FaultSpec =
  | { status: 413 | 429 | 500 | 503; count?: number; durationMs?: number }
  | { delayMs: number; count?: number; durationMs?: number }
  | { drop: true; count?: number; durationMs?: number };

async function call<T>(method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown): Promise<T> {
  const res = await request(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) {
    throw new Error(`${method} ${url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Client for the fake sink's `/_sink` inspection and fault-injection API. */
export class SinkApi {
  constructor(readonly url: string) {}

  /** Stored events, optionally filtered by destination, event name and distinct id. */
  async events(filter: SinkEventFilter = {}): Promise<SinkEvent[]> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) {
      if (value !== undefined) query.set(key, value);
    }
    const qs = query.size > 0 ? `?${query}` : '';
    const body = await call<{ events: SinkEvent[] }>('GET', `${this.url}/_sink/events${qs}`);
    return body.events;
  }

  async clear(): Promise<void> {
    await call('DELETE', `${this.url}/_sink/events`);
  }

  async stats(): Promise<SinkStats> {
    return call<SinkStats>('GET', `${this.url}/_sink/stats`);
  }

  async setFaults(spec: FaultSpec): Promise<void> {
    await call('POST', `${this.url}/_sink/faults`, spec);
  }

  async clearFaults(): Promise<void> {
    await call('DELETE', `${this.url}/_sink/faults`);
  }

  /**
   * Polls until `accept` holds for the events matching `filter` (by default:
   * at least one), then resolves with them.
   */
  async waitForEvents(
    filter: SinkEventFilter,
    accept: number | ((events: SinkEvent[]) => boolean) = 1,
    options: WaitForOptions = {},
  ): Promise<SinkEvent[]> {
    const ok = typeof accept === 'number' ? (e: SinkEvent[]) => e.length >= accept : accept;
    let seen: SinkEvent[] = [];
    try {
      return await waitFor(
        async () => {
          seen = await this.events(filter);
          return ok(seen) ? seen : undefined;
        },
        {
          timeoutMs: 15_000,
          ...options,
          message: options.message ?? `sink events ${JSON.stringify(filter)}`,
        },
      );
    } catch (err) {
      const summary = seen.map(
        (e) => `${e.destination} ${e.event} ${e.distinct_id} ${e.uuid ?? ''}`,
      );
      throw new Error(
        `${(err as Error).message}; had ${seen.length}: ${summary.slice(0, 20).join('; ')}`,
      );
    }
  }

  /** Polls until an event with this uuid has reached PostHog, and returns it. */
  async waitForUuid(uuid: string, options: WaitForOptions = {}): Promise<SinkEvent> {
    const found = await this.waitForEvents(
      { destination: 'posthog' },
      (events) => events.some((e) => e.uuid === uuid),
      { message: `uuid ${uuid} at posthog`, ...options },
    );
    return found.find((e) => e.uuid === uuid) as SinkEvent;
  }
}
