import {
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from '@runmat-telemetry/schema';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerApp } from '../src/app.js';
import { IngestionKeyVerifier } from '../src/auth/ingestion-key.js';
import { WorkerMetrics } from '../src/metrics.js';
import { createIngestGuard } from '../src/routes/guard.js';
import { registerHealthRoutes } from '../src/routes/health-routes.js';
import { CaptureForwarder, captureApp, KEY, OLD_KEY, uuid } from './helpers.js';

let current: (WorkerApp & { sink: CaptureForwarder }) | undefined;
function start(env: Record<string, string> = {}, deps = {}) {
  current = captureApp(env, deps);
  return current;
}
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

const json = { 'content-type': 'application/json', 'x-telemetry-key': KEY };
const finished = () => ({ ...CANONICAL_FINISHED_EXAMPLE, uuid: uuid() });
/** One `POST /ingest` with the right key (a fresh canonical event unless given). */
const ingest = (app: FastifyInstance, payload: InjectOptions['payload'] = finished()) =>
  app.inject({ method: 'POST', url: '/ingest', headers: json, payload });
/** One `POST /v1/batch` of the given items with the right key. */
const postBatch = (app: FastifyInstance, events: unknown[]) =>
  app.inject({ method: 'POST', url: '/v1/batch', headers: json, payload: { events } });

describe('POST /ingest and /v1/t', () => {
  it.each(['/ingest', '/v1/t'])('%s accepts one event with 202 and queues it', async (url) => {
    const { app, sink } = start();
    const event = finished();
    const res = await app.inject({ method: 'POST', url, headers: json, payload: event });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', uuid: event.uuid });
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]?.event.event).toBe('runtime.run.finished');
    expect(sink.events[0]?.event.distinct_id).toBe(CANONICAL_FINISHED_EXAMPLE.cid);
  });

  it('accepts legacy, started and installer events', async () => {
    const { app, sink } = start();
    for (const payload of [
      LEGACY_FINISHED_EXAMPLE,
      CANONICAL_STARTED_EXAMPLE,
      INSTALL_COMPLETE_EXAMPLE,
    ]) {
      const res = await app.inject({ method: 'POST', url: '/ingest', headers: json, payload });
      expect(res.statusCode).toBe(202);
    }
    expect(sink.events.map((e) => e.event.event)).toEqual([
      'runtime.run.finished',
      'runtime.run.started',
      'install_complete',
    ]);
  });

  it('answers a repeated uuid as duplicate and forwards it once', async () => {
    const { app, sink } = start();
    const event = finished();
    await app.inject({ method: 'POST', url: '/ingest', headers: json, payload: event });
    const again = await app.inject({ method: 'POST', url: '/v1/t', headers: json, payload: event });
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ status: 'duplicate', uuid: event.uuid });
    expect(sink.events).toHaveLength(1);
  });

  it('accepts both keys during rotation and 401s anything else', async () => {
    const { app, sink } = start();
    for (const key of [KEY, OLD_KEY]) {
      const res = await app.inject({
        method: 'POST',
        url: '/ingest',
        headers: { ...json, 'x-telemetry-key': key },
        payload: finished(),
      });
      expect(res.statusCode).toBe(202);
    }
    for (const headers of [
      { 'content-type': 'application/json', 'x-telemetry-key': 'wrong-key-0000' },
      { 'content-type': 'application/json' },
      { 'content-type': 'application/json', 'x-telemetry-key': `${KEY},${OLD_KEY}` },
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/ingest',
        headers,
        payload: finished(),
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'unauthorized' });
    }
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { 'content-type': 'application/json' },
      payload: { events: [{ event: finished() }] },
    });
    expect(batch.statusCode).toBe(401);
    expect(sink.events).toHaveLength(2);
  });

  it('400s bad JSON and invalid events with stable codes', async () => {
    const { app, sink } = start();
    const bad = await ingest(app, '{"a":');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: 'invalid_json' });
    const empty = await app.inject({ method: 'POST', url: '/ingest', headers: json, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toEqual({ error: 'invalid_json' });

    const wrongType = {
      ...finished(),
      payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, success: 'yes' },
    };
    const res = await ingest(app, wrongType);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'wrong_type', path: '/payload/success' });

    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/t',
      headers: json,
      payload: { ...finished(), event_label: 'rm -rf' },
    });
    expect(unknown.json()).toEqual({ error: 'unknown_event', path: '/event_label' });
    const array = await ingest(app, '[1]');
    expect(array.json()).toMatchObject({ error: 'not_object' });
    expect(sink.events).toHaveLength(0);
  });

  it('415s anything but JSON and 413s oversized bodies', async () => {
    const { app } = start();
    const text = await app.inject({
      method: 'POST',
      url: '/ingest',
      headers: { 'content-type': 'text/plain', 'x-telemetry-key': KEY },
      payload: JSON.stringify(finished()),
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toEqual({ error: 'unsupported_media_type' });
    const charset = await app.inject({
      method: 'POST',
      url: '/ingest',
      headers: { ...json, 'content-type': 'application/json; charset=utf-8' },
      payload: JSON.stringify(finished()),
    });
    expect(charset.statusCode).toBe(202);

    const big = { ...finished(), junk: 'x'.repeat(40_000) };
    const res = await app.inject({ method: 'POST', url: '/ingest', headers: json, payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: 'payload_too_large' });
    const bigBatch = {
      events: Array.from({ length: 900 }, () => ({
        event: { ...finished(), junk: 'y'.repeat(1200) },
      })),
    };
    const b = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: json,
      payload: bigBatch,
    });
    expect(b.statusCode).toBe(413);
  });

  it('429s a client over the per-IP rate limit', async () => {
    const { app } = start({ RATE_LIMIT_MAX: '2' });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await ingest(app);
      codes.push(res.statusCode);
      if (res.statusCode === 429) expect(res.json()).toEqual({ error: 'rate_limited' });
    }
    expect(codes).toEqual([202, 202, 429]);
  });

  it('counts wrong keys against the rate limit, so key guessing gets 429', async () => {
    const { app, sink } = start({ RATE_LIMIT_MAX: '3' });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: i % 2 === 0 ? '/ingest' : '/v1/t',
        headers: { ...json, 'x-telemetry-key': `guess-${i}-0000000000` },
        payload: finished(),
      });
      codes.push(res.statusCode);
      if (res.statusCode === 429) {
        expect(res.json()).toEqual({ error: 'rate_limited' });
        expect(res.headers['retry-after']).toBeDefined();
      }
    }
    expect(codes).toEqual([401, 401, 401, 429, 429]);
    // The budget is the address's, so the right key is cut off as well.
    const right = await ingest(app);
    expect(right.statusCode).toBe(429);
    expect(sink.events).toHaveLength(0);
  });

  it('limits /v1/batch per IP with its own budget (BATCH_RATE_LIMIT_MAX)', async () => {
    const { app } = start({ RATE_LIMIT_MAX: '1', BATCH_RATE_LIMIT_MAX: '2' });
    const codes: number[] = [];
    for (const key of [KEY, 'guess-0000000000', KEY, KEY]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { ...json, 'x-telemetry-key': key },
        payload: { events: [{ event: finished() }] },
      });
      codes.push(res.statusCode);
      if (res.statusCode === 429) expect(res.json()).toEqual({ error: 'rate_limited' });
    }
    expect(codes).toEqual([200, 401, 429, 429]);
    // The single-event budget is separate.
    const single = await ingest(app);
    expect(single.statusCode).toBe(202);
  });

  it('does not limit /v1/batch when BATCH_RATE_LIMIT_MAX is 0', async () => {
    const { app } = start({ RATE_LIMIT_MAX: '1', BATCH_RATE_LIMIT_MAX: '0' });
    for (let i = 0; i < 5; i++) {
      const res = await postBatch(app, [{ event: finished() }]);
      expect(res.statusCode).toBe(200);
    }
  });

  it('503s with Retry-After when the forward queue is full', async () => {
    const { app, sink } = start({ QUEUE_CAPACITY: '1000' });
    sink.hold = true;
    const events = Array.from({ length: 1000 }, () => ({ event: finished() }));
    const fill = await postBatch(app, events);
    expect(fill.json()).toMatchObject({ accepted: 1000 });
    const res = await ingest(app);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({ error: 'queue_full' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ error: 'queue_full' });
    expect(sink.events).toHaveLength(1000);
  });

  it('sheds a full queue before reading the body', async () => {
    const { app, sink, metrics } = start({ QUEUE_CAPACITY: '1000' });
    sink.hold = true;
    // 950 held: one more single event fits, a batch needs a tenth of the queue (100) free.
    const events = Array.from({ length: 950 }, () => ({ event: finished() }));
    expect(
      (await app.inject({ method: 'POST', url: '/v1/batch', headers: json, payload: { events } }))
        .statusCode,
    ).toBe(200);
    // Not JSON at all: a 503 rather than a 400 shows the body was never parsed.
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: json,
      payload: 'not json',
    });
    expect(batch.statusCode).toBe(503);
    expect(batch.headers['retry-after']).toBe('1');
    expect(batch.json()).toEqual({ error: 'queue_full' });
    const single = await ingest(app);
    expect(single.statusCode).toBe(202);
    expect(sink.events).toHaveLength(951);
    const text = await metrics.render();
    expect(text).toContain('runmat_worker_events_rejected_total{code="queue_full"} 1');
    // A wrong key is still a 401, whatever the queue holds.
    const wrongKey = await app.inject({
      method: 'POST',
      url: '/v1/batch',
      headers: { ...json, 'x-telemetry-key': 'wrong-key-123' },
      payload: 'not json',
    });
    expect(wrongKey.statusCode).toBe(401);
  });

  it('sheds load with 503 overloaded under heap pressure, but still answers probes', async () => {
    const { app } = start({ MAX_HEAP_USED_BYTES: '1' });
    await expect.poll(async () => (await ingest(app)).statusCode).toBe(503);
    const res = await ingest(app);
    expect(res.json()).toEqual({ error: 'overloaded' });
    expect(res.headers['retry-after']).toBe('1');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('drops hostile extra fields: nothing outside the allowlist is forwarded', async () => {
    const { app, sink, metricsApp } = start();
    const secret = 'AKIAHOSTILESECRET';
    const hostile = `{"__proto__":{"polluted":"${secret}"},${JSON.stringify({
      ...finished(),
      source: `function x = f() disp('${secret}') end`,
      path: `/home/alice/${secret}.m`,
      env: { AWS_SECRET_ACCESS_KEY: secret, HOME: '/home/alice' },
      constructor: { prototype: { polluted: secret } },
      payload: {
        ...CANONICAL_FINISHED_EXAMPLE.payload,
        stack: `at /Users/alice/${secret}.m:3`,
        counters: { total_executions: 1, argv: [secret] },
      },
    }).slice(1)}`;
    const res = await ingest(app, hostile);
    expect(res.statusCode).toBe(202);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const forwarded = JSON.stringify(sink.events[0]?.event.properties);
    expect(forwarded).not.toContain(secret);
    expect(forwarded).not.toContain('alice');
    const metrics = await metricsApp.inject({ method: 'GET', url: '/metrics' });
    // Counted by container, never by the client's key names.
    expect(metrics.body).toContain(
      'runmat_worker_field_fixes_total{field="payload.*",reason="unknown_field"} 1',
    );
    expect(metrics.body).toContain(
      'runmat_worker_field_fixes_total{field="payload.counters.*",reason="unknown_field"} 1',
    );
    expect(metrics.body).not.toContain(secret);
  });

  it('forwards the client IP only when the operator turns it on', async () => {
    const off = start();
    await off.app.inject({ method: 'POST', url: '/ingest', headers: json, payload: finished() });
    expect(off.sink.events[0]?.clientIp).toBeUndefined();
    await off.app.close();
    const on = start({ FORWARD_CLIENT_IP: 'true' });
    await on.app.inject({
      method: 'POST',
      url: '/ingest',
      headers: json,
      payload: finished(),
      remoteAddress: '203.0.113.7',
    });
    expect(on.sink.events[0]?.clientIp).toBe('203.0.113.7');
  });

  it('takes the client IP a hop count of proxies put in X-Forwarded-For (TRUST_PROXY=2)', async () => {
    // Cloud Run's front end is the socket peer; the load balancer appends the client.
    const { app, sink } = start({ FORWARD_CLIENT_IP: 'true', TRUST_PROXY: '2' });
    await app.inject({
      method: 'POST',
      url: '/ingest',
      headers: { ...json, 'x-forwarded-for': '198.51.100.1, 203.0.113.50, 192.0.2.9' },
      payload: finished(),
      remoteAddress: '169.254.1.1',
    });
    expect(sink.events[0]?.clientIp).toBe('203.0.113.50');
  });
});

describe('POST /v1/batch', () => {
  it('answers per event, parallel to the input', async () => {
    const { app, sink } = start({ FORWARD_CLIENT_IP: 'true' });
    const dup = finished();
    const res = await postBatch(app, [
      { event: dup, client_ip: '198.51.100.4', received_at: Date.now() },
      { event: { ...finished(), session_id: 'C:\\Users\\alice' } },
      { event: dup },
      'not an item',
      { event: CANONICAL_STARTED_EXAMPLE, client_ip: 'not-an-ip' },
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      accepted: 2,
      duplicates: 1,
      rejected: 2,
      results: [
        { status: 'accepted' },
        { status: 'rejected', code: 'invalid_string', path: '/session_id' },
        { status: 'duplicate' },
        { status: 'rejected', code: 'not_object', path: '' },
        { status: 'accepted' },
      ],
    });
    expect(sink.events.map((e) => e.clientIp)).toEqual(['198.51.100.4', undefined]);
  });

  it('uses a plausible received_at and ignores one no clock could give', async () => {
    const { app, sink } = start();
    const recent = Date.now() - 60_000;
    // No timestamp_ms in the payload: the event's time is its receipt time.
    const untimed = () => {
      const e = finished();
      const { timestamp_ms: _omit, ...payload } = e.payload;
      return { ...e, payload };
    };
    const res = await postBatch(app, [
      { event: untimed(), received_at: recent },
      { event: untimed(), received_at: 1e300 },
      { event: untimed(), received_at: -5 },
      { event: untimed(), received_at: Date.now() + 86_400_000 },
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 4, rejected: 0 });
    const [first, ...rest] = sink.events.map((e) => e.event.timestamp);
    expect(first).toBe(recent);
    for (const t of rest) expect(Math.abs((t ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('400s a malformed envelope', async () => {
    const { app } = start();
    for (const payload of [
      {},
      { events: {} },
      { events: [] },
      [],
      { events: new Array(1001).fill({}) },
    ]) {
      const res = await app.inject({ method: 'POST', url: '/v1/batch', headers: json, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'invalid_batch' });
    }
  });

  it('takes nothing from a batch the queue cannot hold, so a retry is safe', async () => {
    const { app, sink } = start({ QUEUE_CAPACITY: '1000' });
    sink.hold = true;
    const first = Array.from({ length: 600 }, () => ({ event: finished() }));
    expect((await postBatch(app, first)).statusCode).toBe(200);
    const second = Array.from({ length: 600 }, () => ({ event: finished() }));
    const res = await postBatch(app, second);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({ error: 'queue_full' });
    expect(sink.events).toHaveLength(600);
    // Nothing from the refused batch was remembered: once there is room, it is accepted whole.
    sink.hold = false;
    (sink as unknown as { held: number }).held = 0;
    const retry = await postBatch(app, second);
    expect(retry.json()).toMatchObject({ accepted: 600, duplicates: 0 });
  });
});

describe('probes, metrics, errors', () => {
  it('serves healthz and readyz publicly and Prometheus metrics on the metrics listener only', async () => {
    const { app, metricsApp } = start();
    await app.inject({ method: 'POST', url: '/ingest', headers: json, payload: finished() });
    await app.inject({
      method: 'POST',
      url: '/ingest',
      headers: { 'content-type': 'application/json' },
      payload: finished(),
    });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const publicMetrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(publicMetrics.statusCode).toBe(404);
    expect(publicMetrics.json()).toEqual({ error: 'not_found' });
    const metrics = await metricsApp.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('runmat_worker_events_accepted_total{route="single"} 1');
    expect(metrics.body).toContain('runmat_worker_events_rejected_total{code="unauthorized"} 1');
    expect(metrics.body).toContain('runmat_worker_queue_depth{destination="posthog"} 0');
    expect(metrics.body).toContain('runmat_worker_queue_capacity{destination="posthog"} 100000');
    // Every answered request is timed by route pattern and status (the 404 above too).
    expect(metrics.body).toContain(
      'runmat_worker_http_request_duration_seconds_count{route="/ingest",status_code="202"} 1',
    );
    expect(metrics.body).toContain(
      'runmat_worker_http_request_duration_seconds_count{route="/ingest",status_code="401"} 1',
    );
    expect(metrics.body).toContain(
      'runmat_worker_http_request_duration_seconds_count{route="unmatched",status_code="404"} 1',
    );
    expect((await metricsApp.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(404);
    for (const name of [
      'runmat_worker_events_duplicate_total',
      'runmat_delivery_delivered_events_total',
      'runmat_delivery_failed_events_total',
    ]) {
      expect(metrics.body).toContain(`# TYPE ${name} counter`);
    }
  });

  it('404s unknown routes with a JSON body', async () => {
    const { app } = start();
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found' });
  });

  it('503s shutting_down and reports not ready while draining', async () => {
    // inject() is refused once close() starts, so the guard and probe are
    // exercised on their own app with the closing flag raised.
    const app = Fastify({ logger: false });
    const metrics = new WorkerMetrics();
    const guard = createIngestGuard({
      verifier: new IngestionKeyVerifier([KEY]),
      metrics,
      isClosing: () => true,
      lacksRoom: () => false,
      minRoom: 1,
    });
    app.post('/ingest', { onRequest: guard }, async () => ({ status: 'accepted' }));
    registerHealthRoutes(app, { notReadyReason: () => 'shutting_down' });
    const res = await ingest(app);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toEqual({ error: 'shutting_down' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ error: 'shutting_down' });
    await app.close();
  });

  it('waits for the forwarders to drain when closing', async () => {
    let drained = false;
    const sink = new CaptureForwarder();
    sink.close = async () => {
      await new Promise((r) => setTimeout(r, 50));
      drained = true;
      return 0;
    };
    const { app } = start({}, { forwarders: () => [sink] });
    await app.inject({ method: 'POST', url: '/ingest', headers: json, payload: finished() });
    await app.close();
    expect(drained).toBe(true);
  });
});
