import { afterAll, describe, expect, it } from 'vitest';
import {
  type ForwarderApp,
  freshCanonicalFinished,
  freshCanonicalStarted,
  postJson,
  runClient,
  scrapeMetrics,
  sendDatagrams,
  settle,
  startForwarder,
  sumMetric,
  transportConfig,
} from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const pipeline = usePipeline();
let strayForwarder: ForwarderApp | undefined;

afterAll(async () => {
  await strayForwarder?.process.stop();
});

describe('a wrong ingestion key delivers nothing', () => {
  it('the worker answers 401 unauthorized to a wrong or missing key, on every ingest route', async () => {
    const { workerUrl } = pipeline().endpoints;
    for (const route of ['/ingest', '/v1/t']) {
      for (const key of [`${pipeline().key}x`, '', undefined]) {
        const res = await postJson(`${workerUrl}${route}`, key, freshCanonicalStarted());
        expect(res.status, `${route} key=${JSON.stringify(key)}`).toBe(401);
        expect(res.body).toEqual({ error: 'unauthorized' });
      }
    }
    const batch = await postJson(`${workerUrl}/v1/batch`, 'not-the-key', {
      events: [{ event: freshCanonicalStarted() }],
    });
    expect(batch.status).toBe(401);
  });

  it('a client run with the wrong key leaves nothing at the sink', async () => {
    await pipeline().sinkApi.clear();
    const run = await runClient({
      ...(await transportConfig(pipeline().endpoints, 'http')),
      key: 'dev_wrong_key_0000000000000000',
    });
    // `emit` reports that nothing was delivered; the worker said why.
    expect(run.sent).toEqual([]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/failed runtime\.run\.started [0-9a-f-]{36} via http: .*401/);
    const sentinels = await settle(pipeline());
    const events = await pipeline().sinkApi.events();
    expect(events.filter((e) => !sentinels.includes(e.distinct_id))).toEqual([]);
    const rejected = sumMetric(
      await scrapeMetrics(pipeline().endpoints.workerMetricsUrl),
      'runmat_worker_events_rejected_total',
      { code: 'unauthorized' },
    );
    expect(rejected).toBeGreaterThanOrEqual(1);
  });

  it('a forwarder holding the wrong key delivers nothing and counts the loss', async () => {
    await pipeline().sinkApi.clear();
    strayForwarder = await startForwarder({
      workerUrl: pipeline().endpoints.workerUrl,
      ingestionKey: 'dev_stale_key_after_rotation_00',
    });
    const events = [freshCanonicalStarted(), freshCanonicalFinished()];
    await sendDatagrams(strayForwarder.udpHost, strayForwarder.udpPort, events);

    const metricsUrl = `${strayForwarder.healthUrl}/metrics`;
    await expect
      .poll(
        async () => {
          const samples = await scrapeMetrics(metricsUrl);
          return sumMetric(samples, 'runmat_delivery_failed_events_total');
        },
        { message: 'the stray forwarder to count its events as failed' },
      )
      .toBeGreaterThanOrEqual(events.length);
    const samples = await scrapeMetrics(metricsUrl);
    expect(
      sumMetric(samples, 'runmat_delivery_requests_total', { status: '401' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sumMetric(samples, 'runmat_delivery_delivered_events_total')).toBe(0);

    const sentinels = await settle(pipeline());
    const stored = await pipeline().sinkApi.events();
    expect(stored.filter((e) => !sentinels.includes(e.distinct_id))).toEqual([]);
  });
});
