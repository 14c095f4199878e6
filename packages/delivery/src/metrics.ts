import { Counter, Gauge, type Registry } from 'prom-client';
import { type DeliveryOutcomes, DROP_REASONS, FAIL_REASONS } from './outcomes.js';

/** What the delivery metrics read from one destination at scrape time. */
export interface DeliverySource {
  readonly outcomes: DeliveryOutcomes;
  pending(): number;
  pendingBytes(): number;
  inFlightRequests(): number;
  readonly capacity: { events: number; bytes: number };
}

/**
 * Registers the delivery metrics, the same names and labels in every app, on
 * `registry`. Values are read from each source's counters at scrape time, so
 * the hot path only bumps plain numbers.
 *
 * | metric | labels |
 * |---|---|
 * | `runmat_delivery_admitted_events_total` | destination |
 * | `runmat_delivery_delivered_events_total` | destination |
 * | `runmat_delivery_failed_events_total` | destination, reason |
 * | `runmat_delivery_dropped_events_total` | destination, reason |
 * | `runmat_delivery_retries_total` | destination, reason |
 * | `runmat_delivery_requests_total` | destination, status |
 * | `runmat_delivery_pending_events` / `_pending_bytes` | destination |
 * | `runmat_delivery_capacity_events` / `_capacity_bytes` | destination |
 * | `runmat_delivery_in_flight_requests` | destination |
 */
export function registerDeliveryMetrics(
  registry: Registry,
  sources: () => readonly DeliverySource[],
): void {
  const registers = [registry];
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    read: (s: DeliverySource, inc: (labels: Record<string, string>, n: number) => void) => void,
  ) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const s of sources()) read(s, (labels, n) => this.inc(labels, n));
      },
    });
  const gauge = (name: string, help: string, read: (s: DeliverySource) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['destination'],
      registers,
      collect() {
        for (const s of sources()) this.set({ destination: s.outcomes.destination }, read(s));
      },
    });
  const d = (s: DeliverySource) => s.outcomes.destination;

  counter(
    'runmat_delivery_admitted_events_total',
    'Events admitted for delivery to the destination.',
    ['destination'],
    (s, inc) => inc({ destination: d(s) }, s.outcomes.admitted),
  );
  counter(
    'runmat_delivery_delivered_events_total',
    'Events the destination took.',
    ['destination'],
    (s, inc) => inc({ destination: d(s) }, s.outcomes.delivered),
  );
  counter(
    'runmat_delivery_failed_events_total',
    `Admitted events given up on, by reason (${FAIL_REASONS.join(', ')}).`,
    ['destination', 'reason'],
    (s, inc) => {
      for (const reason of FAIL_REASONS)
        inc({ destination: d(s), reason }, s.outcomes.failed[reason]);
    },
  );
  counter(
    'runmat_delivery_dropped_events_total',
    `Events never admitted for delivery, by reason (${DROP_REASONS.join(', ')}).`,
    ['destination', 'reason'],
    (s, inc) => {
      for (const reason of DROP_REASONS)
        inc({ destination: d(s), reason }, s.outcomes.dropped[reason]);
    },
  );
  counter(
    'runmat_delivery_retries_total',
    'Retried requests, by the failed attempt (an HTTP status or "network").',
    ['destination', 'reason'],
    (s, inc) => {
      for (const [reason, n] of Object.entries(s.outcomes.retries))
        inc({ destination: d(s), reason }, n);
    },
  );
  counter(
    'runmat_delivery_requests_total',
    'Requests to the destination, by HTTP status ("network" for no answer).',
    ['destination', 'status'],
    (s, inc) => {
      for (const [status, n] of Object.entries(s.outcomes.requests))
        inc({ destination: d(s), status }, n);
    },
  );
  gauge('runmat_delivery_pending_events', 'Events admitted and not yet delivered or failed.', (s) =>
    s.pending(),
  );
  gauge('runmat_delivery_pending_bytes', 'Bytes those events hold.', (s) => s.pendingBytes());
  gauge(
    'runmat_delivery_capacity_events',
    'Events the destination holds at most.',
    (s) => s.capacity.events,
  );
  gauge(
    'runmat_delivery_capacity_bytes',
    'Bytes the destination holds at most.',
    (s) => s.capacity.bytes,
  );
  gauge('runmat_delivery_in_flight_requests', 'Requests in flight.', (s) => s.inFlightRequests());
}
