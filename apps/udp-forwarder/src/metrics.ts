import { FieldFixTally, REJECT_CODES } from '@runmat-telemetry/schema';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/**
 * Why a datagram never reached the worker: `oversize` (over MAX_INGEST_EVENT_BYTES),
 * `invalid_json` (not UTF-8 JSON), a schema reject code for a well-formed but
 * invalid event, `queue_full` (no room) or `shutdown` (could not be flushed).
 */
export type DropReason =
  | 'oversize'
  | 'queue_full'
  | 'shutdown'
  | Exclude<(typeof REJECT_CODES)[number], 'too_large'>;

/** Why a batch's events were given up on after leaving the queue. */
export type FailReason = 'client_error' | 'retries_exhausted';

/** Plain numbers behind the Prometheus metrics, cheap to bump on the datagram path. */
export interface ForwarderStats {
  datagramsReceived: number;
  dropped: Record<DropReason, number>;
  eventsEnqueued: number;
  eventsForwarded: number;
  eventsDuplicate: number;
  eventsRejected: Record<string, number>;
  eventsFailed: Record<FailReason, number>;
  requests: Record<string, number>;
  retries: number;
  queueEvents: number;
  queueBytes: number;
  inFlight: number;
}

export const DROP_REASONS: readonly DropReason[] = [
  'oversize',
  ...REJECT_CODES.filter(
    (c): c is Exclude<(typeof REJECT_CODES)[number], 'too_large'> => c !== 'too_large',
  ),
  'queue_full',
  'shutdown',
];

/** What the metrics read from outside the counters, at scrape time. */
export interface ForwarderMetricSources {
  /** The queue's bounds (events, bytes): alerts divide the depth by them. */
  queueCapacity: { events: number; bytes: number };
  /**
   * Datagrams the kernel dropped for the UDP socket (full receive buffer),
   * from `/proc/net/udp{,6}`; undefined before the socket is bound or where
   * `/proc` is missing.
   */
  kernelDrops: () => number | undefined;
}

/**
 * Forwarder metrics: plain counters on the hot path, exposed through a
 * per-instance prom-client registry (so several forwarders can live in one
 * test process) together with the default process metrics (CPU, RSS).
 */
export class ForwarderMetrics {
  readonly registry = new Registry();
  readonly stats: ForwarderStats;
  /** Fields of accepted datagrams normalized or dropped, by policy field and reason. */
  readonly fieldFixes = new FieldFixTally();

  constructor(
    readGauges: () => { queueEvents: number; queueBytes: number; inFlight: number },
    sources: ForwarderMetricSources = {
      queueCapacity: { events: 0, bytes: 0 },
      kernelDrops: () => undefined,
    },
  ) {
    const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
      DropReason,
      number
    >;
    this.stats = {
      datagramsReceived: 0,
      dropped,
      eventsEnqueued: 0,
      eventsForwarded: 0,
      eventsDuplicate: 0,
      eventsRejected: {},
      eventsFailed: { client_error: 0, retries_exhausted: 0 },
      requests: {},
      retries: 0,
      queueEvents: 0,
      queueBytes: 0,
      inFlight: 0,
    };
    const stats = this.stats;
    const registers = [this.registry];
    const counter = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    const labelled = (
      name: string,
      help: string,
      label: string,
      read: () => Record<string, number>,
    ) =>
      new Counter({
        name,
        help,
        labelNames: [label],
        registers,
        collect() {
          this.reset();
          for (const [value, count] of Object.entries(read())) this.inc({ [label]: value }, count);
        },
      });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });

    counter('forwarder_datagrams_received_total', 'Datagrams read from the UDP socket.', () => {
      return stats.datagramsReceived;
    });
    labelled(
      'forwarder_datagrams_dropped_total',
      'Datagrams that never reached the worker, by reason.',
      'reason',
      () => stats.dropped,
    );
    counter('forwarder_events_enqueued_total', 'Valid events accepted into the queue.', () => {
      return stats.eventsEnqueued;
    });
    counter(
      'forwarder_events_forwarded_total',
      'Events the worker took (accepted or duplicate).',
      () => stats.eventsForwarded,
    );
    counter(
      'forwarder_events_duplicate_total',
      'Forwarded events the worker had already seen.',
      () => stats.eventsDuplicate,
    );
    labelled(
      'forwarder_events_rejected_total',
      'Events the worker rejected in a batch result, by code (not retried).',
      'code',
      () => stats.eventsRejected,
    );
    labelled(
      'forwarder_events_failed_total',
      'Events given up on after leaving the queue, by reason.',
      'reason',
      () => stats.eventsFailed,
    );
    labelled(
      'forwarder_requests_total',
      'Batch requests by outcome (HTTP status or "network").',
      'status',
      () => stats.requests,
    );
    counter('forwarder_retries_total', 'Batch request retries.', () => stats.retries);
    const fixes = this.fieldFixes;
    new Counter({
      name: 'forwarder_field_fixes_total',
      help:
        'Fields of accepted datagrams normalized or dropped before batching, by policy field and ' +
        'reason (normalized, wrong_type, out_of_range, invalid_string, invalid_value, not_forwarded, unknown_field).',
      labelNames: ['field', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const { field, reason, n } of fixes.entries()) this.inc({ field, reason }, n);
      },
    });
    gauge('forwarder_queue_events', 'Events waiting in the queue.', () => readGauges().queueEvents);
    gauge('forwarder_queue_bytes', 'Bytes waiting in the queue.', () => readGauges().queueBytes);
    gauge('forwarder_inflight_requests', 'Batch requests in flight.', () => readGauges().inFlight);
    gauge(
      'forwarder_queue_capacity_events',
      'Events the queue holds before datagrams are dropped as queue_full.',
      () => sources.queueCapacity.events,
    );
    gauge(
      'forwarder_queue_capacity_bytes',
      'Bytes the queue holds before datagrams are dropped as queue_full.',
      () => sources.queueCapacity.bytes,
    );
    // The loss nothing inside the process can count: datagrams the kernel
    // discarded because the socket's receive buffer was full. It is the
    // socket's own counter, so it starts at 0 with each process.
    counter(
      'forwarder_udp_kernel_drops_total',
      'Datagrams the kernel dropped for the UDP socket before they were read (receive buffer full), from /proc/net/udp.',
      () => sources.kernelDrops() ?? 0,
    );
    collectDefaultMetrics({ register: this.registry });

    const read = readGauges;
    Object.defineProperties(stats, {
      queueEvents: { get: () => read().queueEvents, enumerable: true },
      queueBytes: { get: () => read().queueBytes, enumerable: true },
      inFlight: { get: () => read().inFlight, enumerable: true },
    });
  }

  /** Counts `n` dropped datagrams. */
  drop(reason: DropReason, n = 1): void {
    this.stats.dropped[reason] += n;
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** A copy of the counters, for tests and logs. */
  snapshot(): ForwarderStats {
    return structuredClone({ ...this.stats });
  }
}
