import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type ForwarderApp,
  freshCanonicalStarted,
  type Pipeline,
  type Sample,
  scrapeMetrics,
  sendDatagrams,
  settle,
  startForwarder,
  startPipeline,
  sumMetric,
} from '../../src/harness/index.js';

// Quick backoff so a restart a second long is retried through, not waited out.
const FAST_RETRY = { RETRY_BASE_MS: '50', RETRY_MAX_MS: '300', RETRY_MAX_ELAPSED_MS: '30000' };

let pipeline: Pipeline;
let tinyQueue: ForwarderApp | undefined;

beforeAll(async () => {
  pipeline = await startPipeline({ env: { forwarder: FAST_RETRY } });
});

afterAll(async () => {
  await tinyQueue?.process.stop();
  await pipeline?.close();
});

/**
 * Sends datagrams at a steady pace in the background until stopped, like a
 * fleet of clients that keeps going whatever happens to the collector. It
 * runs until the test says so, so each phase gets its events however long a
 * stop or start takes on a loaded machine.
 */
function steadyTraffic(host: string, port: number, everyMs: number) {
  const uuids: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const event = freshCanonicalStarted();
      await sendDatagrams(host, port, [event]);
      uuids.push(event.uuid);
      // Pacing, not waiting for an outcome: this is the traffic's rate.
      await delay(everyMs);
    }
  })();
  return {
    uuids,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function forwarderSamples(app: { healthUrl: string }): Promise<Sample[]> {
  return scrapeMetrics(`${app.healthUrl}/metrics`);
}

const queueIdle = (s: Sample[]) =>
  sumMetric(s, 'runmat_delivery_pending_events') === 0 &&
  sumMetric(s, 'runmat_delivery_in_flight_requests') === 0;

describe('the worker is stopped and restarted while UDP traffic continues', () => {
  it('every datagram accepted before, during and after the restart arrives exactly once', async () => {
    const { udpHost, udpPort } = pipeline.endpoints;
    const traffic = steadyTraffic(udpHost, udpPort, 15);

    await expect
      .poll(() => traffic.uuids.length, { message: '30 events before the stop' })
      .toBeGreaterThanOrEqual(30);
    await pipeline.stopWorker();
    const sentWhileDown = traffic.uuids.length;
    await expect
      .poll(() => traffic.uuids.length, {
        timeout: 30_000,
        message: '40 events while the worker is down',
      })
      .toBeGreaterThanOrEqual(sentWhileDown + 40);
    await pipeline.startWorker();
    const sentAfterStart = traffic.uuids.length;
    await expect
      .poll(() => traffic.uuids.length, {
        timeout: 30_000,
        message: '30 events after the restart',
      })
      .toBeGreaterThanOrEqual(sentAfterStart + 30);
    await traffic.stop();
    expect(traffic.uuids.length).toBeGreaterThanOrEqual(100);

    await expect
      .poll(
        async () => {
          const seen = new Set(
            (await pipeline.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid),
          );
          return traffic.uuids.filter((u) => !seen.has(u));
        },
        { timeout: 30_000, message: 'every event sent at PostHog' },
      )
      .toEqual([]);
    await settle(pipeline);

    const arrived = (await pipeline.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid);
    for (const u of traffic.uuids)
      expect(
        arrived.filter((a) => a === u),
        u,
      ).toHaveLength(1);

    const samples = await forwarderSamples(pipeline.forwarder);
    expect(sumMetric(samples, 'runmat_forwarder_datagrams_received_total')).toBeGreaterThanOrEqual(
      traffic.uuids.length,
    );
    expect(sumMetric(samples, 'runmat_forwarder_datagrams_dropped_total')).toBe(0);
    expect(sumMetric(samples, 'runmat_delivery_failed_events_total')).toBe(0);
    // The outage was real: some batch had to be retried.
    expect(sumMetric(samples, 'runmat_delivery_retries_total')).toBeGreaterThan(0);
  });

  it('beyond the queue bound: the overflow is counted as dropped, the rest arrives once', async () => {
    tinyQueue = await startForwarder({
      workerUrl: pipeline.endpoints.workerUrl,
      ingestionKey: pipeline.key,
      env: {
        ...FAST_RETRY,
        QUEUE_MAX_EVENTS: '10',
        BATCH_MAX_EVENTS: '5',
        FORWARDER_CONCURRENCY: '1',
      },
    });
    const forwarder = tinyQueue;
    await pipeline.stopWorker();
    const events = Array.from({ length: 60 }, () => freshCanonicalStarted());
    await sendDatagrams(forwarder.udpHost, forwarder.udpPort, events);
    await expect
      .poll(
        async () =>
          sumMetric(await forwarderSamples(forwarder), 'runmat_forwarder_datagrams_received_total'),
        { message: 'the forwarder to read all 60 datagrams' },
      )
      .toBeGreaterThanOrEqual(60);
    await pipeline.startWorker();

    const final = await vi.waitFor(
      async () => {
        const s = await forwarderSamples(forwarder);
        if (!(queueIdle(s) && sumMetric(s, 'runmat_delivery_delivered_events_total') > 0)) {
          throw new Error('the tiny-queue forwarder to drain');
        }
        return s;
      },
      { timeout: 20_000, interval: 20 },
    );
    const dropped = sumMetric(final, 'runmat_forwarder_datagrams_dropped_total', {
      reason: 'queue_full',
    });
    const forwarded = sumMetric(final, 'runmat_delivery_delivered_events_total');
    expect(dropped).toBeGreaterThan(0);
    expect(forwarded + dropped).toBe(60);

    const cids = new Set(events.map((e) => e.cid));
    const arrivedOf = async () =>
      (await pipeline.sinkApi.events({ destination: 'posthog' })).filter((e) =>
        cids.has(e.distinct_id),
      );
    await expect
      .poll(async () => (await arrivedOf()).length, {
        message: `${forwarded} forwarded events at PostHog`,
      })
      .toBeGreaterThanOrEqual(forwarded);
    await settle(pipeline);
    const arrived = await arrivedOf();
    expect(arrived).toHaveLength(forwarded);
    expect(new Set(arrived.map((e) => e.uuid)).size).toBe(forwarded);
  });
});
