import type { FastifyInstance } from 'fastify';
import { buildSinkApp } from './app.js';
import type { EventFilter, SinkEvent } from './event-store.js';
import type { ActiveFault, FaultSpec } from './fault-injector.js';
import { listenQuietly } from './listen.js';
import type { SinkStats } from './sink-state.js';

export { buildSinkApp, type SinkAppOptions } from './app.js';
export { ConfigError, loadSinkConfig, SINK_ENV, type SinkConfig } from './config.js';
export {
  DEFAULT_MAX_EVENTS,
  type Destination,
  type EventFilter,
  type Ga4ValidationMessage,
  type SinkEvent,
} from './event-store.js';
export {
  type ActiveFault,
  FAULT_STATUSES,
  type FaultSpec,
  type FaultStatus,
} from './fault-injector.js';
export { GA4_RULES, type Ga4Validation, validateGa4Request } from './ga4-validation.js';
export {
  computeInsights,
  computeReleaseInsights,
  type InstallInsight,
  type ReleaseInsight,
  type ReleaseInsights,
  type SinkInsights,
  type Tally,
} from './insights.js';
export type { SinkState, SinkStats } from './sink-state.js';

/** Options for `startFakeSink`. */
export interface StartFakeSinkOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; 127.0.0.1 by default. */
  host?: string;
  /** Bound on stored events (default 10,000); the oldest are evicted. */
  maxEvents?: number;
  /** When set, the only PostHog project key accepted. */
  apiKey?: string;
  /** When set, GA4 requests with another `api_secret` are answered 204 and discarded, as GA4 does. */
  gaApiSecret?: string;
}

/** Options for `waitForEvents`. */
export interface WaitOptions {
  /** How many matching events to wait for (default 1). */
  count?: number;
  /** Give up after this long (default 5000 ms). */
  timeoutMs?: number;
}

/** A running fake sink. */
export interface FakeSink {
  /** Base URL, e.g. `http://127.0.0.1:40123`: use it as POSTHOG_HOST and GA_HOST. */
  url: string;
  port: number;
  host: string;
  /** The underlying Fastify instance, for `inject()` or extra routes. */
  app: FastifyInstance;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  /** Stored events, oldest first, matching every field of the filter. */
  events(filter?: EventFilter): SinkEvent[];
  /**
   * Polls until at least `count` events match, then returns them all; rejects
   * after `timeoutMs` with what did arrive, so a failing test says why.
   */
  waitForEvents(filter?: EventFilter, options?: WaitOptions): Promise<SinkEvent[]>;
  /** Forgets events and counters (faults stay). */
  clear(): void;
  stats(): SinkStats;
  /** Replaces the injected faults; throws on an invalid spec. */
  setFaults(spec: FaultSpec | FaultSpec[]): ActiveFault[];
  clearFaults(): void;
}

/** Starts a fake PostHog + GA4 sink on loopback, on an ephemeral port by default. */
export async function startFakeSink(opts: StartFakeSinkOptions = {}): Promise<FakeSink> {
  const { app, state } = buildSinkApp({
    maxEvents: opts.maxEvents,
    apiKey: opts.apiKey,
    gaApiSecret: opts.gaApiSecret,
  });
  const bound = await listenQuietly(app, opts.port ?? 0, opts.host ?? '127.0.0.1');
  const events = (filter?: EventFilter) => state.store.list(filter);
  return {
    ...bound,
    app,
    close: () => app.close(),
    events,
    async waitForEvents(filter = {}, { count = 1, timeoutMs = 5000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events(filter);
        if (found.length >= count) return found;
        if (Date.now() >= deadline) {
          const all = events();
          throw new Error(
            `fake sink: wanted ${count} event(s) matching ${JSON.stringify(filter)} within ${timeoutMs} ms, ` +
              `found ${found.length}; the sink holds ${all.length}: ` +
              JSON.stringify(all.slice(-10).map((e) => [e.destination, e.event, e.distinct_id])),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    clear: () => state.clear(),
    stats: () => state.stats(),
    setFaults: (spec) => state.faults.set(spec),
    clearFaults: () => state.faults.clear(),
  };
}
