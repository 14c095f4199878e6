import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  freshCanonicalFinished,
  freshCanonicalStarted,
  type Pipeline,
  type PipelineOptions,
  postJson,
  scrapeMetrics,
  sendDatagrams,
  settle,
  sumMetric,
} from '../../src/harness/index.js';
import { usePipeline } from '../support/use-pipeline.js';

/** A worker that retries failed deliveries `retries` times, `delayMs` apart. */
function withRetries(retries: number, delayMs: number): PipelineOptions {
  return {
    env: {
      worker: {
        POSTHOG_RETRIES: String(retries),
        POSTHOG_RETRY_DELAY_MS: String(delayMs),
        POSTHOG_FLUSH_INTERVAL_MS: '100',
        GA4_RETRIES: String(retries),
        GA4_RETRY_DELAY_MS: String(delayMs),
        GA4_FLUSH_INTERVAL_MS: '100',
      },
    },
  };
}

/** Sends `n` events over HTTP (each answered 202) and `n` over UDP; returns their uuids. */
async function sendMixed(p: Pipeline, n: number): Promise<string[]> {
  const uuids: string[] = [];
  const datagrams: object[] = [];
  for (let i = 0; i < n; i++) {
    const viaHttp = i % 2 === 0 ? freshCanonicalStarted() : freshCanonicalFinished();
    const res = await postJson(p.endpoints.httpEndpoint, p.key, viaHttp);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    uuids.push(viaHttp.uuid);
    const viaUdp = freshCanonicalStarted();
    datagrams.push(viaUdp);
    uuids.push(viaUdp.uuid);
  }
  await sendDatagrams(p.endpoints.udpHost, p.endpoints.udpPort, datagrams);
  return uuids;
}

async function posthogUuids(p: Pipeline): Promise<string[]> {
  return (await p.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid ?? '');
}

describe('the sink fails with 500s for a while, then recovers', () => {
  // 10 retries 400 ms apart (4 s) outlast a 1.5 s outage even on a busy machine.
  const withinBudget = usePipeline(withRetries(10, 400));
  // One retry 100 ms later cannot outlast an outage that lasts until cleared.
  const beyondBudget = usePipeline(withRetries(1, 100));

  afterEach(async () => {
    for (const p of [withinBudget(), beyondBudget()]) await p.sinkApi.clearFaults();
  });

  it('within the retry budget: every event accepted before and during the outage arrives exactly once', async () => {
    const p = withinBudget();
    // Some events are still in the worker's buffer when the outage starts.
    const before = await sendMixed(p, 5);
    await p.sinkApi.setFaults({ status: 500, durationMs: 1500 });
    const uuids = [...before, ...(await sendMixed(p, 20))];

    await expect
      .poll(
        async () => {
          const seen = new Set(await posthogUuids(p));
          return uuids.filter((u) => !seen.has(u));
        },
        { timeout: 20_000, message: 'every event at PostHog after the outage' },
      )
      .toEqual([]);
    expect((await p.sinkApi.stats()).faults.injected).toBeGreaterThan(0);
    await settle(p);

    const arrived = await posthogUuids(p);
    for (const u of uuids)
      expect(
        arrived.filter((a) => a === u),
        u,
      ).toHaveLength(1);
    // The worker counts a batch as forwarded once the sink's answer is back,
    // a moment after the sink stored it.
    await expect
      .poll(
        async () => {
          const samples = await scrapeMetrics(p.endpoints.workerMetricsUrl);
          const forwarded = { destination: 'posthog' };
          return sumMetric(samples, 'runmat_delivery_delivered_events_total', forwarded);
        },
        { message: 'forwarded_total to match what the sink stored' },
      )
      .toBe(arrived.length);
    const samples = await scrapeMetrics(p.endpoints.workerMetricsUrl);
    expect(sumMetric(samples, 'runmat_delivery_failed_events_total')).toBe(0);
  });

  it('beyond the retry budget: the loss is counted in /metrics and nothing arrives twice', async () => {
    const p = beyondBudget();
    await p.sinkApi.setFaults({ status: 500, durationMs: 60_000 });
    const uuids = await sendMixed(p, 10);

    const failed = await vi.waitFor(
      async () => {
        const samples = await scrapeMetrics(p.endpoints.workerMetricsUrl);
        const n = sumMetric(samples, 'runmat_delivery_failed_events_total', {
          destination: 'posthog',
        });
        expect(n, 'the worker to count the lost events').toBeGreaterThanOrEqual(uuids.length);
        return n;
      },
      { timeout: 20_000, interval: 20 },
    );
    expect(failed).toBe(uuids.length);

    await p.sinkApi.clearFaults();
    await settle(p);
    const arrived = await posthogUuids(p);
    expect(arrived.filter((u) => uuids.includes(u))).toEqual([]);
    expect(new Set(arrived).size).toBe(arrived.length);
  });
});
