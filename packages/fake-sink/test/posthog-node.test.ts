import { PostHog } from 'posthog-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeSink, startFakeSink } from '../src/index.js';

// posthog-node itself, pointed at the sink: the worker's real client must be
// understood byte for byte, gzip and all.

let sink: FakeSink | undefined;
let client: PostHog | undefined;
afterEach(async () => {
  await client?.shutdown(1000).catch(() => {});
  client = undefined;
  await sink?.close();
  sink = undefined;
});

interface Sent {
  url: string;
  gzip: boolean;
}

function clientFor(
  s: FakeSink,
  sent: Sent[],
  extra: Partial<ConstructorParameters<typeof PostHog>[1]> = {},
) {
  return new PostHog('phc_sink_test', {
    host: s.url,
    flushAt: 1,
    flushInterval: 0,
    fetchRetryDelay: 10,
    ...extra,
    fetch: async (url, options) => {
      const body = options.body;
      const gzip = body instanceof Uint8Array || body instanceof Blob;
      sent.push({ url, gzip: gzip || options.headers['Content-Encoding'] === 'gzip' });
      return fetch(url, options as RequestInit);
    },
  });
}

describe('posthog-node against the sink', () => {
  it('delivers a gzip batch to /batch/ with the event, distinct id, uuid and properties', async () => {
    sink = await startFakeSink({ apiKey: 'phc_sink_test' });
    const sent: Sent[] = [];
    client = clientFor(sink, sent);
    client.capture({
      distinctId: 'anon-123',
      event: 'runtime.run.finished',
      uuid: '01890000-0000-7000-8000-00000000abcd',
      properties: { success: true, duration_us: 1234, os: 'linux' },
    });
    await client.shutdown();
    client = undefined;

    expect(sent.map((s) => new URL(s.url).pathname)).toEqual(['/batch/']);
    expect(sent[0]?.gzip).toBe(true);
    const [event] = sink.events({ destination: 'posthog' });
    expect(event).toMatchObject({
      path: '/batch/',
      event: 'runtime.run.finished',
      distinct_id: 'anon-123',
      uuid: '01890000-0000-7000-8000-00000000abcd',
      api_key: 'phc_sink_test',
      properties: { success: true, duration_us: 1234, os: 'linux', $lib: 'posthog-node' },
    });
    expect(Date.parse(String(event?.timestamp))).not.toBeNaN();
    expect(sink.stats().posthog).toEqual({ requests: 1, events: 1, rejected: 0 });
  });

  it('delivers uncompressed batches too', async () => {
    sink = await startFakeSink();
    const sent: Sent[] = [];
    client = clientFor(sink, sent, { disableCompression: true });
    client.capture({ distinctId: 'd', event: 'plain' });
    await client.shutdown();
    client = undefined;
    expect(sent[0]?.gzip).toBe(false);
    expect(sink.events({ event: 'plain' })).toHaveLength(1);
  });

  it('retries past an injected 500 so the event arrives exactly once', async () => {
    sink = await startFakeSink();
    sink.setFaults({ status: 500, count: 1 });
    const sent: Sent[] = [];
    client = clientFor(sink, sent);
    client.capture({
      distinctId: 'd',
      event: 'retried',
      uuid: '01890000-0000-7000-8000-000000000001',
    });
    await client.shutdown();
    client = undefined;
    expect(sent.length).toBe(2);
    expect(sink.events({ event: 'retried' }).map((e) => e.uuid)).toEqual([
      '01890000-0000-7000-8000-000000000001',
    ]);
    expect(sink.stats().faults.injected).toBe(1);
  });
});
