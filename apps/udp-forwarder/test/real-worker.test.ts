import { fileURLToPath } from 'node:url';
import { type FakeSink, startFakeSink } from '@runmat-telemetry/fake-sink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChildServer } from '../src/bench/child-server.ts';
import { createForwarder, type Forwarder, loadForwarderConfig } from '../src/index.ts';
import { sendDatagrams, validEvent, waitFor } from './helpers/udp.ts';

const WORKER = fileURLToPath(new URL('../../worker/dist/server.js', import.meta.url));
const KEY = 'forwarder-e2e-key';

// Through the real worker (a child process) into the fake PostHog sink.
describe('through the real worker', () => {
  let sink: FakeSink;
  let worker: ChildServer;
  let forwarder: Forwarder;
  let udpPort: number;

  beforeAll(async () => {
    sink = await startFakeSink({ apiKey: 'phc_forwarder_test' });
    worker = await startChildServer(WORKER, {
      PORT: '0',
      HOST: '127.0.0.1',
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'phc_forwarder_test',
      POSTHOG_HOST: sink.url,
      POSTHOG_FLUSH_INTERVAL_MS: '50',
      LOG_LEVEL: 'info',
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
    await waitFor(
      () => forwarder.metrics.snapshot().eventsForwarded === 6,
      'worker results counted',
    );
    expect(new Set(arrived.map((e) => e.uuid))).toEqual(new Set(events.map((e) => e.uuid)));
    for (const event of arrived) {
      expect(event.event).toBe('runtime.run.started');
      expect(JSON.stringify(event.properties)).not.toContain('127.0.0.1');
    }
    const stats = forwarder.metrics.snapshot();
    expect(stats.eventsDuplicate).toBe(1);
    expect(stats.dropped.missing_field).toBe(1);
    expect(stats.requests['200']).toBeGreaterThanOrEqual(1);
    // The repeat was forwarded and deduplicated by the worker, not delivered twice.
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.events({ destination: 'posthog' })).toHaveLength(5);
  });
});
