import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeSink, startFakeSink } from '../src/index.js';

let sink: FakeSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

describe('startFakeSink', () => {
  it('listens on an ephemeral loopback port and records a PostHog batch', async () => {
    sink = await startFakeSink();
    expect(sink.port).toBeGreaterThan(0);
    expect(sink.url).toBe(`http://127.0.0.1:${sink.port}`);
    const res = await fetch(`${sink.url}/batch/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(
        JSON.stringify({
          api_key: 'phc_test',
          batch: [
            {
              event: 'runtime.run.started',
              distinct_id: 'd-1',
              uuid: 'u-1',
              properties: { os: 'linux' },
            },
          ],
        }),
      ),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'Ok' });
    const [event] = await sink.waitForEvents({ destination: 'posthog' });
    expect(event).toMatchObject({
      seq: 1,
      destination: 'posthog',
      path: '/batch/',
      event: 'runtime.run.started',
      distinct_id: 'd-1',
      uuid: 'u-1',
      api_key: 'phc_test',
      properties: { os: 'linux' },
    });
  });

  it('records GA4 events and serves them over /_sink/events', async () => {
    sink = await startFakeSink();
    const res = await fetch(`${sink.url}/mp/collect?measurement_id=G-TEST&api_secret=s`, {
      method: 'POST',
      body: JSON.stringify({
        client_id: 'c-1',
        events: [{ name: 'run_finished', params: { ok: true } }],
      }),
    });
    expect(res.status).toBe(204);
    const listed = (await (await fetch(`${sink.url}/_sink/events?destination=ga4`)).json()) as {
      events: unknown[];
      evicted: number;
    };
    expect(listed.evicted).toBe(0);
    expect(listed.events).toEqual([
      expect.objectContaining({
        destination: 'ga4',
        event: 'run_finished',
        distinct_id: 'c-1',
        measurement_id: 'G-TEST',
        properties: { ok: true },
      }),
    ]);
    expect(listed.events[0]).not.toHaveProperty('violations');
  });

  it('rejects a wrong PostHog key when apiKey is set', async () => {
    sink = await startFakeSink({ apiKey: 'right' });
    const res = await fetch(`${sink.url}/capture`, {
      method: 'POST',
      body: JSON.stringify({ api_key: 'wrong', event: 'e', distinct_id: 'd' }),
    });
    expect(res.status).toBe(401);
    expect(sink.events()).toEqual([]);
    expect(sink.stats().posthog).toEqual({ requests: 1, events: 0, rejected: 1 });
  });

  it('waitForEvents rejects with what arrived when the deadline passes', async () => {
    sink = await startFakeSink();
    await expect(sink.waitForEvents({ event: 'never' }, { timeoutMs: 50 })).rejects.toThrow(
      /wanted 1 event\(s\).*found 0/,
    );
  });
});
