import { type DeliverySource, registerDeliveryMetrics } from '@runmat-telemetry/delivery';
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
  /**
   * The destinations' delivery counters (`runmat_delivery_*`, the same names
   * the forwarder uses); each forwarder adds itself.
   */
  readonly deliverySources: DeliverySource[] = [];
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

  readonly queueBytes = new Gauge({
    name: 'runmat_worker_queue_bytes',
    help: 'Bytes held by accepted, undelivered events (serialized plus per-event overhead), per destination',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });
  readonly memoryBudget = new Gauge({
    name: 'runmat_worker_memory_budget_bytes',
    help: 'The memory budget (MEMORY_LIMIT_MIB or the cgroup limit) the queues and heap are sized from',
    registers: [this.registry],
  });
  readonly memoryRss = new Gauge({
    name: 'runmat_worker_memory_rss_bytes',
    help: 'Resident set size at the last sample',
    registers: [this.registry],
  });
  readonly memoryPressure = new Gauge({
    name: 'runmat_worker_memory_pressure',
    help: '0 normal, 1 not ready (RSS past the not-ready line), 2 shedding (RSS or heap past the shed line)',
    registers: [this.registry],
  });
  readonly dedupeRoundTrip = new Histogram({
    name: 'runmat_worker_dedupe_redis_round_trip_seconds',
    help: 'Shared-dedupe claims sent to Redis (one per request or batch), by outcome (ok, error, timeout)',
    labelNames: ['outcome'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });
  readonly dedupeKeys = new Counter({
    name: 'runmat_worker_dedupe_redis_keys_total',
    help: 'uuids claimed in Redis: claimed (first seen here) or duplicate (already claimed by some instance)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly dedupeFailOpen = new Counter({
    name: 'runmat_worker_dedupe_fail_open_total',
    help: 'Shared-dedupe decisions (requests or batches) made on the local window alone, by reason (timeout, error, circuit_open)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly dedupeFailOpenEvents = new Counter({
    name: 'runmat_worker_dedupe_fail_open_events_total',
    help: 'Events in those decisions: checked against the local window only, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly dedupeCircuitState = new Gauge({
    name: 'runmat_worker_dedupe_redis_circuit_state',
    help: 'Shared-dedupe circuit breaker: 0 closed, 1 half-open (a probe in flight), 2 open (Redis skipped)',
    registers: [this.registry],
  });
  readonly dedupeCircuitOpened = new Counter({
    name: 'runmat_worker_dedupe_redis_circuit_opened_total',
    help: 'Times the shared-dedupe circuit opened',
    registers: [this.registry],
  });
  readonly dedupeConnected = new Gauge({
    name: 'runmat_worker_dedupe_redis_connected',
    help: '1 while the Redis connection is ready',
    registers: [this.registry],
  });

  constructor() {
    registerDeliveryMetrics(this.registry, () => this.deliverySources);
  }

  /** Leaves the shared-dedupe metrics out of /metrics (no DEDUPE_REDIS_URL). */
  dropSharedDedupeMetrics(): void {
    // By name, through the registry's public API (a metric's own `name` is not in prom-client's types).
    for (const name of this.registry.getMetricsAsArray().map((m) => m.name)) {
      if (name.startsWith('runmat_worker_dedupe_')) this.registry.removeSingleMetric(name);
    }
  }

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
