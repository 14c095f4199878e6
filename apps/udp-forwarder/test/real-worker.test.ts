import { fileURLToPath } from 'node:url';
import { type FakeSink, startFakeSink } from '@runmat-telemetry/fake-sink';
import { metric, type ServerProcess, scrapeText, spawnServer } from '@runmat-telemetry/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForwarder, type Forwarder, loadForwarderConfig } from '../src/index.ts';
import { sendDatagrams, validEvent } from './helpers/udp.ts';

const WORKER = fileURLToPath(new URL('../../worker/dist/server.js', import.meta.url));
const KEY = 'forwarder-e2e-key';

// Through the real worker (a child process) into the fake PostHog sink.
describe('through the real worker', () => {
  let sink: FakeSink;
  let worker: ServerProcess;
  let forwarder: Forwarder;
  let udpPort: number;

  beforeAll(async () => {
    sink = await startFakeSink({ apiKey: 'phc_forwarder_test' });
    worker = await spawnServer({
      name: 'worker',
      script: WORKER,
      env: {
        PORT: '0',
        METRICS_PORT: '0',
        HOST: '127.0.0.1',
        INGESTION_KEY: KEY,
        POSTHOG_API_KEY: 'phc_forwarder_test',
        POSTHOG_HOST: sink.url,
        POSTHOG_FLUSH_INTERVAL_MS: '50',
        LOG_LEVEL: 'info',
      },
    });
    forwarder = createForwarder(
      loadForwarderConfig({
        UDP_HOST: '127.0.0.1',
        UDP_PORT: '0',
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: '0',
        TELEMETRY_HTTP_ENDPOINT: `${String(worker.listening.url)}/v1/batch`,
        TELEMETRY_INGESTION_KEY: KEY,
        LOG_LEVEL: 'silent',
      }),
    );
    ({ udpPort } = await forwarder.start());
  });

  afterAll(async () => {
    await forwarder?.stop();
    await worker?.stop();
    await sink?.close();
  });

  it('delivers datagrams to PostHog once each, without the sender address', async () => {
    const events = Array.from({ length: 5 }, validEvent);
    const repeated = events[0]!;
    await sendDatagrams(udpPort, [
      ...events.map((e) => JSON.stringify(e)),
      JSON.stringify(repeated),
      '{"event_label":"runtime.run.started"}',
    ]);

    const arrived = await sink.waitForEvents(
      { destination: 'posthog' },
      { count: 5, timeoutMs: 10_000 },
    );
    await expect
      .poll(() => forwarder.metrics.snapshot().eventsForwarded, {
        message: 'worker results counted',
      })
      .toBe(6);
    expect(new Set(arrived.map((e) => e.uuid))).toEqual(new Set(events.map((e) => e.uuid)));
    for (const event of arrived) {
      expect(event.event).toBe('runtime.run.started');
      expect(JSON.stringify(event.properties)).not.toContain('127.0.0.1');
    }
    const stats = forwarder.metrics.snapshot();
    expect(stats.eventsDuplicate).toBe(1);
    expect(stats.dropped.missing_field).toBe(1);
    expect(stats.requests['200']).toBeGreaterThanOrEqual(1);
    // The repeat was forwarded and deduplicated by the worker, not delivered
    // twice: once the worker is idle (nothing queued for PostHog, its
    // counters final), the sink holds everything it will ever get.
    const workerMetrics = String(worker.listening.metricsUrl);
    await expect
      .poll(
        async () => {
          const text = await scrapeText(workerMetrics);
          return {
            queued: metric(text, 'runmat_worker_queue_depth'),
            forwarded: metric(text, 'runmat_delivery_delivered_events_total', {
              destination: 'posthog',
            }),
            duplicates: metric(text, 'runmat_worker_events_duplicate_total'),
          };
        },
        { message: 'the worker idle with its counters final' },
      )
      .toEqual({ queued: 0, forwarded: 5, duplicates: 1 });
    expect(sink.events({ destination: 'posthog' })).toHaveLength(5);
  });
});
