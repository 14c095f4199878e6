import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeSink, startFakeSink } from '../src/index.js';

let sink: FakeSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

const event = { api_key: 'k', event: 'run', distinct_id: 'd' };

function capture(s: FakeSink) {
  return fetch(`${s.url}/batch/`, { method: 'POST', body: JSON.stringify(event) });
}

async function setFaults(s: FakeSink, spec: unknown) {
  const res = await fetch(`${s.url}/_sink/faults`, { method: 'POST', body: JSON.stringify(spec) });
  expect(res.status).toBe(200);
}

describe('fault injection on a listening sink', () => {
  it('answers the injected status for the next N requests, with Retry-After on 503, then recovers', async () => {
    sink = await startFakeSink();
    await setFaults(sink, { status: 503, count: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await capture(sink);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
    }
    expect((await capture(sink)).status).toBe(200);
    expect(sink.events()).toHaveLength(1);
    expect(sink.stats().faults.injected).toBe(2);
  });

  it.each([413, 429, 500] as const)('injects %i', async (status) => {
    sink = await startFakeSink();
    sink.setFaults({ status, count: 1 });
    const res = await capture(sink);
    expect(res.status).toBe(status);
    expect(res.headers.get('retry-after')).toBe(status === 429 ? '1' : null);
    expect(sink.events()).toEqual([]);
  });

  it('fails for a duration, then recovers on its own', async () => {
    sink = await startFakeSink();
    const started = Date.now();
    await setFaults(sink, { status: 500, durationMs: 300 });
    expect((await capture(sink)).status).toBe(500);
    // Poll with a deadline until the window closes, as a retrying client would.
    let status = 500;
    while (status === 500 && Date.now() - started < 5000) {
      status = (await capture(sink)).status;
    }
    expect(status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(sink.events()).toHaveLength(1);
  });

  it('delays a request and then handles it normally', async () => {
    sink = await startFakeSink();
    await setFaults(sink, { delayMs: 250, count: 1 });
    const t0 = performance.now();
    const res = await capture(sink);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(res.status).toBe(200);
    expect(sink.events()).toHaveLength(1);
  });

  it('drops the connection without an answer', async () => {
    sink = await startFakeSink();
    await setFaults(sink, { drop: true, count: 1 });
    const url = new URL('/batch/', sink.url);
    const outcome = await new Promise<string>((resolve) => {
      const req = request(url, { method: 'POST', agent: false }, (res) =>
        resolve(`status ${res.statusCode}`),
      );
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end(JSON.stringify(event));
    });
    expect(outcome).toBe('ECONNRESET');
    expect(sink.events()).toEqual([]);
    expect((await capture(sink)).status).toBe(200);
  });

  it('limits a fault to one destination', async () => {
    sink = await startFakeSink();
    sink.setFaults({ status: 503, count: 1, destination: 'ga4' });
    expect((await capture(sink)).status).toBe(200);
    const ga4 = await fetch(`${sink.url}/mp/collect?measurement_id=G-1`, {
      method: 'POST',
      body: JSON.stringify({ client_id: 'c', events: [{ name: 'run' }] }),
    });
    expect(ga4.status).toBe(503);
    expect(sink.events({ destination: 'ga4' })).toEqual([]);
  });

  it('DELETE /_sink/faults ends a fault early', async () => {
    sink = await startFakeSink();
    sink.setFaults({ status: 500, durationMs: 60_000 });
    expect((await capture(sink)).status).toBe(500);
    expect((await fetch(`${sink.url}/_sink/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await capture(sink)).status).toBe(200);
  });

  it('close() returns promptly even with a delayed request in flight', async () => {
    sink = await startFakeSink();
    sink.setFaults({ delayMs: 60_000, count: 1 });
    const pending = capture(sink).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => sink?.stats().faults.injected, { timeout: 5000 }).toBe(1);
    const t0 = performance.now();
    await sink.close();
    sink = undefined;
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(await pending).toBe('failed');
  });
});
