import { type Pipeline, type Sample, scrapeMetrics, sumMetric } from '../../src/harness/index.js';

/** The forwarder's delivery counters, summed over their labels. */
export interface ForwarderCounters {
  received: number;
  enqueued: number;
  dropped: number;
  droppedQueueFull: number;
  forwarded: number;
  duplicate: number;
  rejected: number;
  failed: number;
  queueEvents: number;
  inflight: number;
  retries: number;
}

/** The worker's counters for the PostHog destination plus intake totals. */
export interface WorkerCounters {
  accepted: number;
  duplicate: number;
  forwarded: number;
  forwardFailed: number;
  queueDepth: number;
}

export function forwarderCounters(samples: Sample[]): ForwarderCounters {
  return {
    received: sumMetric(samples, 'runmat_forwarder_datagrams_received_total'),
    enqueued: sumMetric(samples, 'runmat_delivery_admitted_events_total'),
    dropped: sumMetric(samples, 'runmat_forwarder_datagrams_dropped_total'),
    droppedQueueFull: sumMetric(samples, 'runmat_forwarder_datagrams_dropped_total', {
      reason: 'queue_full',
    }),
    forwarded: sumMetric(samples, 'runmat_delivery_delivered_events_total'),
    duplicate: sumMetric(samples, 'runmat_forwarder_events_duplicate_total'),
    rejected: sumMetric(samples, 'runmat_forwarder_events_rejected_total'),
    failed: sumMetric(samples, 'runmat_delivery_failed_events_total'),
    queueEvents: sumMetric(samples, 'runmat_delivery_pending_events'),
    inflight: sumMetric(samples, 'runmat_delivery_in_flight_requests'),
    retries: sumMetric(samples, 'runmat_delivery_retries_total'),
  };
}

export function workerCounters(samples: Sample[]): WorkerCounters {
  const posthog = { destination: 'posthog' };
  return {
    accepted: sumMetric(samples, 'runmat_worker_events_accepted_total'),
    duplicate: sumMetric(samples, 'runmat_worker_events_duplicate_total'),
    forwarded: sumMetric(samples, 'runmat_delivery_delivered_events_total', posthog),
    forwardFailed: sumMetric(samples, 'runmat_delivery_failed_events_total', posthog),
    queueDepth: sumMetric(samples, 'runmat_worker_queue_depth', posthog),
  };
}

export async function readForwarder(p: Pipeline): Promise<ForwarderCounters> {
  return forwarderCounters(await scrapeMetrics(p.endpoints.forwarderMetricsUrl));
}

export async function readWorker(p: Pipeline): Promise<WorkerCounters> {
  return workerCounters(await scrapeMetrics(p.endpoints.workerMetricsUrl));
}

/** True once neither the forwarder nor the worker holds an undelivered event. */
export async function isQuiet(p: Pipeline): Promise<boolean> {
  const [f, w] = await Promise.all([readForwarder(p), readWorker(p)]);
  return f.queueEvents === 0 && f.inflight === 0 && w.queueDepth === 0;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await task(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
  return results;
}
