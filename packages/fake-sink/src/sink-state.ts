import { type Destination, EventStore } from './event-store.js';
import { FaultInjector } from './fault-injector.js';

/** Counts since start (or the last `clear()`), as `GET /_sink/stats` answers. */
export interface SinkStats {
  posthog: { requests: number; events: number; rejected: number };
  /**
   * `violations` counts GA4 rule findings on `/mp/collect`; `dropped` counts
   * requests discarded for a wrong `api_secret` (when the sink checks it).
   */
  ga4: {
    requests: number;
    events: number;
    violations: number;
    debugRequests: number;
    dropped: number;
  };
  /** Events pushed out of the bounded store by newer ones. */
  evicted: number;
  /** Events currently held. */
  stored: number;
  faults: { injected: number };
  /** How many times the sink was cleared: lets a watcher notice a reset. */
  clears: number;
  /** When this sink started (epoch ms): a watcher can tell a restart apart. */
  startedAt: number;
}

/** Everything one sink instance remembers; shared by its routes. */
export class SinkState {
  readonly store: EventStore;
  readonly faults = new FaultInjector();
  /** When set, the only PostHog project key accepted. */
  readonly apiKey: string | undefined;
  /** When set, GA4 requests with another `api_secret` are dropped, as GA4 does. */
  readonly gaApiSecret: string | undefined;
  private counters = SinkState.zero();
  private clearCount = 0;
  private readonly startedAt = Date.now();

  constructor(
    opts: {
      maxEvents?: number | undefined;
      apiKey?: string | undefined;
      gaApiSecret?: string | undefined;
    } = {},
  ) {
    this.store = new EventStore(opts.maxEvents);
    this.apiKey = opts.apiKey;
    this.gaApiSecret = opts.gaApiSecret;
  }

  private static zero() {
    return {
      posthog: { requests: 0, events: 0, rejected: 0 },
      ga4: { requests: 0, events: 0, violations: 0, debugRequests: 0, dropped: 0 },
    };
  }

  countRequest(destination: Destination): void {
    this.counters[destination].requests++;
  }

  countEvents(destination: Destination, n: number): void {
    this.counters[destination].events += n;
  }

  countRejected(): void {
    this.counters.posthog.rejected++;
  }

  countViolations(n: number): void {
    this.counters.ga4.violations += n;
  }

  countGa4Dropped(): void {
    this.counters.ga4.dropped++;
  }

  countDebugRequest(): void {
    this.counters.ga4.debugRequests++;
  }

  stats(): SinkStats {
    return {
      posthog: { ...this.counters.posthog },
      ga4: { ...this.counters.ga4 },
      evicted: this.store.evicted,
      stored: this.store.size,
      faults: { injected: this.faults.injected },
      clears: this.clearCount,
      startedAt: this.startedAt,
    };
  }

  /** Forgets events and counters, so a test starts from zero; faults stay set. */
  clear(): void {
    this.store.clear();
    this.counters = SinkState.zero();
    this.faults.resetCount();
    this.clearCount++;
  }
}
