import {
  type DeliverySource,
  FAIL_REASONS,
  type FailReason,
  registerDeliveryMetrics,
} from '@runmat-telemetry/delivery';
import { FieldFixTally, REJECT_CODES } from '@runmat-telemetry/schema';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

/**
 * Why a datagram never reached the worker: `oversize` (over MAX_INGEST_EVENT_BYTES),
 * `invalid_json` (not UTF-8 JSON), a schema reject code for a well-formed but
 * invalid event, or `queue_full` (the delivery queue had no room). What
 * happens to an event once it is queued is the delivery engine's to count
 * (`runmat_delivery_*{destination="worker"}`).
 */
export type DropReason =
  | 'oversize'
  | 'queue_full'
  | Exclude<(typeof REJECT_CODES)[number], 'too_large'>;

/** Plain numbers behind the forwarder's own metrics, cheap to bump on the datagram path. */
export interface ForwarderStats {
  datagramsReceived: number;
  dropped: Record<DropReason, number>;
  /** Delivered events the worker had already seen (its per-event results). */
  eventsDuplicate: number;
  /** Events the worker rejected in its per-event results, by code. */
  eventsRejected: Record<string, number>;
}

/** {@link ForwarderMetrics.snapshot}: the forwarder's own counters plus its delivery engine's. */
export interface ForwarderSnapshot extends ForwarderStats {
  /** Events admitted to the delivery queue. */
  eventsEnqueued: number;
  /** Events the worker took (accepted or duplicate). */
  eventsForwarded: number;
  /** Admitted events given up on, by reason. */
  eventsFailed: Record<FailReason, number>;
  /** Requests by HTTP status, or `network`. */
  requests: Record<string, number>;
  /** Retried requests, all reasons. */
  retries: number;
  /** Events held by the delivery engine: waiting, batched or in flight. */
  queueEvents: number;
  queueBytes: number;
  inFlight: number;
}

const NO_FAILURES = Object.fromEntries(FAIL_REASONS.map((r) => [r, 0])) as Record<
  FailReason,
  number
>;

export const DROP_REASONS: readonly DropReason[] = [
  'oversize',
  ...REJECT_CODES.filter(
    (c): c is Exclude<(typeof REJECT_CODES)[number], 'too_large'> => c !== 'too_large',
  ),
  'queue_full',
];

/** What the metrics read from outside the counters, at scrape time. */
export interface ForwarderMetricSources {
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
 * test process) together with the delivery engine's `runmat_delivery_*`
 * metrics and the default process metrics (CPU, RSS).
 */
export class ForwarderMetrics {
  readonly registry = new Registry();
  readonly stats: ForwarderStats;
  /** Fields of accepted datagrams normalized or dropped, by policy field and reason. */
  readonly fieldFixes = new FieldFixTally();

  constructor(
    private readonly delivery: () => DeliverySource | undefined,
    sources: ForwarderMetricSources = { kernelDrops: () => undefined },
  ) {
    const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<
      DropReason,
      number
    >;
    this.stats = { datagramsReceived: 0, dropped, eventsDuplicate: 0, eventsRejected: {} };
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

    counter(
      'runmat_forwarder_datagrams_received_total',
      'Datagrams read from the UDP socket.',
      () => {
        return stats.datagramsReceived;
      },
    );
    labelled(
      'runmat_forwarder_datagrams_dropped_total',
      'Datagrams never queued for the worker, by reason (oversize, invalid_json, a schema reject code, queue_full).',
      'reason',
      () => stats.dropped,
    );
    counter(
      'runmat_forwarder_events_duplicate_total',
      'Forwarded events the worker had already seen.',
      () => stats.eventsDuplicate,
    );
    labelled(
      'runmat_forwarder_events_rejected_total',
      'Events the worker rejected in a batch result, by code (not retried).',
      'code',
      () => stats.eventsRejected,
    );
    const fixes = this.fieldFixes;
    new Counter({
      name: 'runmat_forwarder_field_fixes_total',
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
    // The loss nothing inside the process can count: datagrams the kernel
    // discarded because the socket's receive buffer was full. It is the
    // socket's own counter, so it starts at 0 with each process.
    counter(
      'runmat_forwarder_udp_kernel_drops_total',
      'Datagrams the kernel dropped for the UDP socket before they were read (receive buffer full), from /proc/net/udp.',
      () => sources.kernelDrops() ?? 0,
    );
    registerDeliveryMetrics(this.registry, () => {
      const source = delivery();
      return source ? [source] : [];
    });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts `n` dropped datagrams. */
  drop(reason: DropReason, n = 1): void {
    this.stats.dropped[reason] += n;
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The forwarder's counters and its delivery engine's, flattened: for tests and logs. */
  snapshot(): ForwarderSnapshot {
    const source = this.delivery();
    const o = source?.outcomes.snapshot();
    let retries = 0;
    for (const n of Object.values(o?.retries ?? {})) retries += n;
    return {
      ...structuredClone(this.stats),
      eventsEnqueued: o?.admitted ?? 0,
      eventsForwarded: o?.delivered ?? 0,
      eventsFailed: o?.failed ?? { ...NO_FAILURES },
      requests: o?.requests ?? {},
      retries,
      queueEvents: source?.pending() ?? 0,
      queueBytes: source?.pendingBytes() ?? 0,
      inFlight: source?.inFlightRequests() ?? 0,
    };
  }
}
