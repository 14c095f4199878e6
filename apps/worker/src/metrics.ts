import { FieldFixTally } from '@runmat-telemetry/schema';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where accepted events go. */
export type Destination = 'posthog' | 'ga4';

/**
 * The worker's Prometheus metrics. One registry per app instance so tests
 * (and several apps in one process) never share counters.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({
    name: 'runmat_worker_events_accepted_total',
    help: 'Events validated and queued for forwarding',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'runmat_worker_events_rejected_total',
    help: 'Events or requests refused, by stable error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  /** Field fixes of accepted events, counted in plain numbers on the hot path. */
  readonly fieldFixes = new FieldFixTally();
  readonly fieldFixCounter = new Counter({
    name: 'runmat_worker_field_fixes_total',
    help:
      'Fields of accepted events normalized or dropped, by policy field and reason ' +
      '(normalized, wrong_type, out_of_range, invalid_string, invalid_value, not_forwarded, unknown_field)',
    labelNames: ['field', 'reason'] as const,
    registers: [this.registry],
    collect: () => {
      this.fieldFixCounter.reset();
      for (const { field, reason, n } of this.fieldFixes.entries()) {
        this.fieldFixCounter.labels(field, reason).inc(n);
      }
    },
  });
  readonly duplicates = new Counter({
    name: 'runmat_worker_events_duplicate_total',
    help: 'Events whose uuid was already seen within the dedupe window',
    registers: [this.registry],
  });
  readonly forwarded = new Counter({
    name: 'runmat_worker_events_forwarded_total',
    help: 'Events delivered upstream, per destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly forwardFailed = new Counter({
    name: 'runmat_worker_events_forward_failed_total',
    help: 'Events given up on after retries (or lost at shutdown), per destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'runmat_worker_queue_depth',
    help: 'Events accepted but not yet delivered or failed, per destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  /** The bound `queueDepth` is refused at (503 queue_full): alerts divide by it. */
  readonly queueCapacity = new Gauge({
    name: 'runmat_worker_queue_capacity',
    help: 'Events a destination holds before new requests get 503 queue_full',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  /** Every answered request, by route pattern and status: latency and the 5xx rate. */
  readonly requestDuration = new Histogram({
    name: 'runmat_worker_http_request_duration_seconds',
    help: 'Time from request to response on the public port, by route pattern and status code',
    labelNames: ['route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** Reads a live value at scrape time (queue depth). */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  async render(): Promise<string> {
    for (const fn of this.collectors) fn();
    return this.registry.metrics();
  }

  private readonly collectors: Array<() => void> = [];
}
