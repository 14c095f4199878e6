import { Writable } from 'node:stream';
import { CANONICAL_FINISHED_EXAMPLE } from '@runmat-telemetry/schema';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerApp } from '../src/app.js';
import { redactQueries, workerLoggerOptions } from '../src/logging.js';
import { type CaptureForwarder, captureApp, KEY, OLD_KEY, uuid } from './helpers.js';

const SITE = 'https://runmat.com';
const DEV = 'http://localhost:5173';
const CORS = { CORS_ORIGINS: `${SITE},${DEV}` };

let current: (WorkerApp & { sink: CaptureForwarder }) | undefined;
function start(env: Record<string, string> = CORS, deps = {}) {
  current = captureApp(env, deps);
  return current;
}
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

const finished = () => ({ ...CANONICAL_FINISHED_EXAMPLE, uuid: uuid() });
/** What a browser sends before a cross-origin `fetch` with JSON and the key header. */
const preflight = (url: string, origin?: string): InjectOptions => ({
  method: 'OPTIONS',
  url,
  headers: {
    ...(origin === undefined ? {} : { origin }),
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type,x-telemetry-key',
  },
});
/** What `navigator.sendBeacon(url, JSON.stringify(event))` sends from `origin`. */
const beacon = (url: string, origin: string | undefined, payload: string): InjectOptions => ({
  method: 'POST',
  url,
  headers: {
    ...(origin === undefined ? {} : { origin }),
    'content-type': 'text/plain;charset=UTF-8',
  },
  payload,
});
const corsHeaders = (res: LightMyRequestResponse) =>
  Object.fromEntries(
    Object.entries(res.headers).filter(([name]) => name.startsWith('access-control-')),
  );
const rejectedLines = async (w: WorkerApp) =>
  (await w.metrics.render())
    .split('\n')
    .filter((l) => l.startsWith('runmat_worker_events_rejected_total{'));

describe('CORS on /ingest and /v1/t (CORS_ORIGINS)', () => {
  it.each(['/ingest', '/v1/t'])(
    'answers a preflight for %s from a listed origin with exactly the allow headers',
    async (url) => {
      const { app } = start();
      for (const origin of [SITE, DEV]) {
        const res = await app.inject(preflight(url, origin));
        expect(res.statusCode).toBe(204);
        expect(res.body).toBe('');
        expect(res.headers['content-length']).toBe('0');
        expect(res.headers.vary).toBe('Origin');
        expect(corsHeaders(res)).toEqual({
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type, x-telemetry-key',
          'access-control-max-age': '600',
        });
      }
    },
  );

  it('gives an unlisted origin, or none, a preflight without any allow header', async () => {
    const { app } = start();
    for (const origin of [
      'https://evil.example',
      'https://runmat.com.evil.example',
      'http://runmat.com',
      'https://RUNMAT.com',
      'null',
      undefined,
    ]) {
      const res = await app.inject(preflight('/v1/t', origin));
      expect(res.statusCode, String(origin)).toBe(204);
      expect(corsHeaders(res), String(origin)).toEqual({});
      expect(res.headers.vary).toBe('Origin');
    }
  });

  it('preflights need no key, spend no rate-limit budget, are not shed and count as no rejection', async () => {
    const w = start({ ...CORS, RATE_LIMIT_MAX: '2' });
    for (let i = 0; i < 10; i++) {
      const res = await w.app.inject(preflight(i % 2 ? '/ingest' : '/v1/t', SITE));
      expect(res.statusCode).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe(SITE);
    }
    // The POST budget (2) is untouched by the ten preflights.
    for (let i = 0; i < 2; i++) {
      const res = await w.app.inject({
        method: 'POST',
        url: '/v1/t',
        headers: { origin: SITE, 'content-type': 'application/json', 'x-telemetry-key': KEY },
        payload: finished(),
      });
      expect(res.statusCode).toBe(202);
    }
    expect(await rejectedLines(w)).toEqual([]);
    expect(w.sink.events).toHaveLength(2);
  });

  it('answers preflights while shedding load, and the POST after one is shed readably', async () => {
    const { app } = start({ ...CORS, MAX_HEAP_USED_BYTES: '1' });
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/ingest',
        headers: { origin: SITE, 'content-type': 'application/json', 'x-telemetry-key': KEY },
        payload: finished(),
      });
    await expect.poll(async () => (await post()).statusCode).toBe(503);
    const shed = await post();
    expect(shed.json()).toEqual({ error: 'overloaded' });
    expect(shed.headers['access-control-allow-origin']).toBe(SITE);
    const res = await app.inject(preflight('/ingest', SITE));
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-methods']).toBe('POST');
  });

  it('adds Access-Control-Allow-Origin and Vary to POSTs from a listed origin, refusals included', async () => {
    const { app } = start();
    const post = (origin: string, key: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/t',
        headers: { origin, 'content-type': 'application/json', 'x-telemetry-key': key },
        payload: finished(),
      });
    const ok = await post(SITE, KEY);
    expect(ok.statusCode).toBe(202);
    expect(ok.headers['access-control-allow-origin']).toBe(SITE);
    expect(ok.headers.vary).toBe('Origin');
    expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
    // A page can read why it was refused.
    const refused = await post(DEV, 'wrong-key-0000');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toEqual({ error: 'unauthorized' });
    expect(refused.headers['access-control-allow-origin']).toBe(DEV);
    // Another origin's POST is accepted (keys, not CORS, authenticate) but unreadable to its page.
    const other = await post('https://evil.example', KEY);
    expect(other.statusCode).toBe(202);
    expect(corsHeaders(other)).toEqual({});
    expect(other.headers.vary).toBe('Origin');
  });

  it('never answers CORS on /v1/batch, the probes or /metrics', async () => {
    const { app } = start();
    for (const url of ['/v1/batch', '/healthz', '/readyz', '/metrics', '/']) {
      const pre = await app.inject(preflight(url, SITE));
      expect(pre.statusCode, url).toBe(404);
      expect(corsHeaders(pre), url).toEqual({});
    }
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { origin: SITE, 'content-type': 'application/json', 'x-telemetry-key': KEY },
      payload: { events: [{ event: finished() }] },
    });
    expect(batch.statusCode).toBe(200);
    expect(corsHeaders(batch)).toEqual({});
    expect(batch.headers.vary).toBeUndefined();
    for (const url of ['/healthz', '/readyz']) {
      const res = await app.inject({ method: 'GET', url, headers: { origin: SITE } });
      expect(res.statusCode, url).toBe(200);
      expect(corsHeaders(res), url).toEqual({});
    }
    // Not routed on the public port at all (the metrics listener serves it).
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: { origin: SITE } });
    expect(metrics.statusCode).toBe(404);
    expect(corsHeaders(metrics)).toEqual({});
  });

  it('sends no CORS headers at all without CORS_ORIGINS', async () => {
    const { app } = start({});
    const pre = await app.inject(preflight('/v1/t', SITE));
    expect(pre.statusCode).toBe(404);
    expect(corsHeaders(pre)).toEqual({});
    const res = await app.inject({
      method: 'POST',
      url: '/v1/t',
      headers: { origin: SITE, 'content-type': 'application/json', 'x-telemetry-key': KEY },
      payload: finished(),
    });
    expect(res.statusCode).toBe(202);
    expect(corsHeaders(res)).toEqual({});
    expect(res.headers.vary).toBeUndefined();
  });
});

describe('beacons: the key as ?k= from a listed origin', () => {
  it.each(['/ingest', '/v1/t'])(
    'accepts a text/plain beacon on %s from a listed origin',
    async (url) => {
      const { app, sink } = start();
      const event = finished();
      const res = await app.inject(beacon(`${url}?k=${KEY}`, SITE, JSON.stringify(event)));
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ status: 'accepted', uuid: event.uuid });
      expect(res.headers['access-control-allow-origin']).toBe(SITE);
      expect(sink.events.map((e) => e.event.uuid)).toEqual([event.uuid]);
      // The rotation's older key works too, and a JSON body is fine with a query key.
      const json = await app.inject({
        method: 'POST',
        url: `${url}?k=${OLD_KEY}`,
        headers: { origin: DEV, 'content-type': 'application/json' },
        payload: finished(),
      });
      expect(json.statusCode).toBe(202);
      expect(sink.events).toHaveLength(2);
    },
  );

  it('401s a query key without Origin, from an unlisted origin, wrong, repeated or empty', async () => {
    const w = start();
    const body = JSON.stringify(finished());
    const cases: Array<[string, string | undefined]> = [
      [`/v1/t?k=${KEY}`, undefined],
      [`/v1/t?k=${KEY}`, 'https://evil.example'],
      [`/ingest?k=${KEY}`, 'null'],
      ['/v1/t?k=wrong-key-0000', SITE],
      ['/v1/t?k=', SITE],
      [`/v1/t?k=${KEY}&k=${KEY}`, SITE],
      [`/v1/t?key=${KEY}`, SITE],
      ['/v1/t', SITE],
    ];
    for (const [url, origin] of cases) {
      const res = await w.app.inject(beacon(url, origin, body));
      expect(res.statusCode, `${url} from ${origin}`).toBe(401);
      expect(res.json()).toEqual({ error: 'unauthorized' });
    }
    expect(w.sink.events).toHaveLength(0);
    expect(await rejectedLines(w)).toEqual([
      `runmat_worker_events_rejected_total{code="unauthorized"} ${cases.length}`,
    ]);
  });

  it('401s every query key when CORS_ORIGINS is not set', async () => {
    const { app, sink } = start({});
    const res = await app.inject(beacon(`/v1/t?k=${KEY}`, SITE, JSON.stringify(finished())));
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized' });
    expect(sink.events).toHaveLength(0);
  });

  it('never takes a query key on /v1/batch', async () => {
    const { app, sink } = start();
    const res = await app.inject({
      method: 'POST',
      url: `/v1/batch?k=${KEY}`,
      headers: { origin: SITE, 'content-type': 'application/json' },
      payload: { events: [{ event: finished() }] },
    });
    expect(res.statusCode).toBe(401);
    expect(sink.events).toHaveLength(0);
  });

  it('lets the header decide when both are sent', async () => {
    const { app, sink } = start();
    const res = await app.inject({
      method: 'POST',
      url: `/v1/t?k=${KEY}`,
      headers: {
        origin: SITE,
        'content-type': 'application/json',
        'x-telemetry-key': 'wrong-key-0000',
      },
      payload: finished(),
    });
    expect(res.statusCode).toBe(401);
    expect(sink.events).toHaveLength(0);
  });

  it('keeps text/plain 415 without a query key; a beacon gets the same 400 and 413 codes', async () => {
    const { app, sink } = start();
    const text = await app.inject({
      method: 'POST',
      url: '/v1/t',
      headers: { origin: SITE, 'content-type': 'text/plain', 'x-telemetry-key': KEY },
      payload: JSON.stringify(finished()),
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual({ error: 'unsupported_media_type' });
    const bad = await app.inject(beacon(`/v1/t?k=${KEY}`, SITE, '{"a":'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'invalid_json' });
    const empty = await app.inject(beacon(`/v1/t?k=${KEY}`, SITE, ''));
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({ error: 'invalid_json' });
    const unknown = await app.inject(
      beacon(`/v1/t?k=${KEY}`, SITE, JSON.stringify({ ...finished(), event_label: 'rm -rf' })),
    );
    expect(unknown.json()).toEqual({ error: 'unknown_event', path: '/event_label' });
    const big = JSON.stringify({ ...finished(), junk: 'x'.repeat(40_000) });
    const tooLarge = await app.inject(beacon(`/ingest?k=${KEY}`, SITE, big));
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toEqual({ error: 'payload_too_large' });
    // Another media type is still refused with a query key.
    const form = await app.inject({
      method: 'POST',
      url: `/v1/t?k=${KEY}`,
      headers: { origin: SITE, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    expect(form.statusCode).toBe(415);
    expect(sink.events).toHaveLength(0);
  });
});

describe('the key is never logged', () => {
  it('redacts query strings in text', () => {
    expect(redactQueries(`POST /v1/t?k=${KEY} (POST)`)).toBe('POST /v1/t?[redacted] (POST)');
    expect(redactQueries(`in "https://api.runmat.com/ingest?x=1&k=${KEY}" route?`)).toBe(
      'in "https://api.runmat.com/ingest?[redacted]" route?',
    );
    expect(redactQueries('did you forget?')).toBe('did you forget?');
  });

  it('writes no ?k= key in any log line, at trace level, whatever the request', async () => {
    let logs = '';
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    });
    const { app, sink } = start(CORS, {
      logger: { ...workerLoggerOptions('trace'), stream },
    });
    // Something that logs the request, a URL in a message and an error naming the URL,
    // as a plugin or a Fastify warning might.
    app.get('/log-probe', (request, reply) => {
      request.log.info({ req: request }, 'probe');
      request.log.warn(`url was ${request.url}`);
      request.log.error({ err: new Error(`failed at ${request.raw.url}`) }, 'probe failed');
      return reply.send({ ok: true });
    });
    const body = JSON.stringify(finished());
    const requests: InjectOptions[] = [
      beacon(`/v1/t?k=${KEY}`, SITE, body),
      beacon(`/ingest?k=${OLD_KEY}`, SITE, '{"a":'),
      beacon(`/v1/t?k=${KEY}`, 'https://evil.example', body),
      beacon(`/v1/t?%6B=${KEY}`, SITE, JSON.stringify(finished())),
      beacon(`/v1/t?k=${KEY}`, SITE, JSON.stringify({ ...finished(), junk: 'x'.repeat(40_000) })),
      beacon(`/nowhere?k=${KEY}`, SITE, body),
      { method: 'OPTIONS', url: `/v1/t?k=${KEY}`, headers: { origin: SITE } },
      { method: 'GET', url: `/log-probe?k=${KEY}` },
    ];
    const codes: number[] = [];
    for (const r of requests) codes.push((await app.inject(r)).statusCode);
    expect(codes).toEqual([202, 400, 401, 202, 413, 404, 204, 200]);
    expect(sink.events).toHaveLength(2);
    await app.close();
    current = undefined;

    const lines = logs.trim().split('\n');
    // One request line per request, and the probe's three lines: the log was written.
    expect(lines.filter((l) => l.includes('"message":"request"'))).toHaveLength(requests.length);
    expect(logs).toContain('"url":"/log-probe"');
    expect(logs).toContain('url was /log-probe?[redacted]');
    expect(logs).toContain('failed at /log-probe?[redacted]');
    expect(logs).not.toContain(KEY);
    expect(logs).not.toContain(OLD_KEY);
  });
});
