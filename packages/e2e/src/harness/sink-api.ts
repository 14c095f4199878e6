// The sink's own types: this client talks to the sink over HTTP, so it shares
// the shapes rather than redeclaring them.
import type {
  Destination,
  FaultSpec,
  Ga4ValidationMessage as Ga4Violation,
  SinkEvent,
  EventFilter as SinkEventFilter,
  SinkStats,
} from '@runmat-telemetry/fake-sink';
import { request } from 'undici';
import { type WaitForOptions, waitFor } from './wait-for.js';

export type { Destination, FaultSpec, Ga4Violation, SinkEvent, SinkEventFilter, SinkStats };

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
