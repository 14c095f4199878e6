import { CANONICAL_FINISHED_EXAMPLE, CANONICAL_STARTED_EXAMPLE } from '@runmat-telemetry/schema';
import { startRedis, type TestRedis } from '@runmat-telemetry/test-kit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerApp } from '../src/app.js';
import { RedisDedupe } from '../src/dedupe/shared-dedupe.js';
import { type CaptureForwarder, captureApp, KEY, testConfig, uuid } from './helpers.js';
import {
  metricSum,
  roundTrips,
  startRedisProxy,
  startSilentServer,
  waitConnected,
} from './redis-helpers.js';

// Every test here runs against a real redis-server (test-kit's startRedis:
// an ephemeral loopback port, no persistence), several workers in one
// process sharing it, as Cloud Run instances share one Memorystore.

type App = WorkerApp & { sink: CaptureForwarder };

let redis: TestRedis;
let inspect: Redis;
const apps: App[] = [];
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  inspect = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  // It sees the outages the tests cause too.
  inspect.on('error', () => {});
  await inspect.connect();
  await inspect.flushall();
});
afterEach(async () => {
  for (const a of apps.splice(0)) await a.app.close();
  for (const c of closers.splice(0)) await c();
  inspect.disconnect();
});

const WINDOW_MS = 600_000;

/**
 * The workers' clock: real time plus what a test skips. Breaker cool-downs
 * and the local dedupe window read it, so a test moves past them with
 * `skip(ms)` instead of sleeping through them. (Redis's own key expiry runs
 * on the server's clock and is waited for, through `exists`.)
 */
let skipped = 0;
const now = () => Date.now() + skipped;
const skip = (ms: number) => {
  skipped += ms;
};
beforeEach(() => {
  skipped = 0;
});

/** A worker (forwarding captured in memory) sharing dedupe through `url`. */
async function worker(url = redis.url, env: Record<string, string> = {}): Promise<App> {
  const merged = {
    DEDUPE_REDIS_URL: url,
    DEDUPE_WINDOW_MS: String(WINDOW_MS),
    DEDUPE_REDIS_BREAKER_COOLDOWN_MS: '200',
    ...env,
  };
  const config = testConfig(merged);
  const shared = config.sharedDedupe;
  if (shared === null) throw new Error('DEDUPE_REDIS_URL did not configure shared dedupe');
  // The Redis dedupe the app would build from config, on the test's clock.
  const a = captureApp(merged, {
    now,
    sharedDedupe: (log, metrics) =>
      new RedisDedupe({ ...shared, ttlMs: config.dedupeWindowMs, metrics, log, now }),
  });
  apps.push(a);
  return a;
}

const json = { 'content-type': 'application/json', 'x-telemetry-key': KEY };
const finished = (id = uuid()) => ({ ...CANONICAL_FINISHED_EXAMPLE, uuid: id });
const ingest = (app: FastifyInstance, payload: unknown) =>
  app.inject({ method: 'POST', url: '/ingest', headers: json, payload: payload as object });
const postBatch = (app: FastifyInstance, events: unknown[]) =>
  app.inject({
    method: 'POST',
    url: '/v1/batch',
    headers: json,
    payload: { events: events.map((event) => ({ event })) },
  });
const failOpen = (a: WorkerApp, reason: string) => metricSum(a.metrics.dedupeFailOpen, { reason });
const failOpenEvents = (a: WorkerApp, reason: string) =>
  metricSum(a.metrics.dedupeFailOpenEvents, { reason });
const circuit = (a: WorkerApp) => metricSum(a.metrics.dedupeCircuitState);

describe('claims shared through Redis', () => {
  it('lets one instance forward a uuid and tells the others it is a duplicate', async () => {
    const [a, b] = [await worker(), await worker()];
    await waitConnected(a);
    await waitConnected(b);
    const event = finished();

    const first = await ingest(a.app, event);
    expect(first.json()).toEqual({ status: 'accepted', uuid: event.uuid });
    const again = await ingest(b.app, event);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual({ status: 'duplicate', uuid: event.uuid });

    // The batch route, mixing a uuid A forwarded, a fresh one and a repeat in the batch.
    const fresh = finished();
    const res = await postBatch(b.app, [event, fresh, fresh]);
    expect(res.json()).toMatchObject({
      accepted: 1,
      duplicates: 2,
      results: [{ status: 'duplicate' }, { status: 'accepted' }, { status: 'duplicate' }],
    });
    expect(a.sink.events.map((e) => e.event.uuid)).toEqual([event.uuid]);
    expect(b.sink.events.map((e) => e.event.uuid)).toEqual([fresh.uuid]);
    // B asked Redis about `event` once: its second copy was already in B's local window.
    expect(await metricSum(b.metrics.dedupeKeys, { result: 'duplicate' })).toBe(1);
    expect(await metricSum(b.metrics.dedupeKeys, { result: 'claimed' })).toBe(1);
  });

  it('namespaces keys and expires them with the dedupe window', async () => {
    const a = await worker();
    await waitConnected(a);
    const event = finished();
    await ingest(a.app, event);
    const key = `runmat:dedupe:${event.uuid}`;
    expect(await inspect.keys('*')).toEqual([key]);
    const ttl = await inspect.pttl(key);
    expect(ttl).toBeGreaterThan(WINDOW_MS - 10_000);
    expect(ttl).toBeLessThanOrEqual(WINDOW_MS);

    // A short window: the key is gone after it, and the uuid is new again everywhere.
    const short = await worker(redis.url, { DEDUPE_WINDOW_MS: '300', DEDUPE_REDIS_PREFIX: 'x:' });
    const other = await worker(redis.url, { DEDUPE_WINDOW_MS: '300', DEDUPE_REDIS_PREFIX: 'x:' });
    await waitConnected(short);
    await waitConnected(other);
    const brief = finished();
    await ingest(short.app, brief);
    expect(await inspect.pttl(`x:${brief.uuid}`)).toBeLessThanOrEqual(300);
    expect((await ingest(other.app, brief)).json().status).toBe('duplicate');
    await expect
      .poll(() => inspect.exists(`x:${brief.uuid}`), { message: 'Redis to expire the key' })
      .toBe(0);
    // `other` remembered it locally for the same window, from when it saw it.
    skip(300);
    expect((await ingest(other.app, brief)).json().status).toBe('accepted');
  });

  it('claims a whole batch in one round trip, and a locally known uuid in none', async () => {
    const a = await worker();
    await waitConnected(a);
    const events = Array.from({ length: 200 }, () => finished());
    const before = await roundTrips(a);
    const res = await postBatch(a.app, events);
    expect(res.json().accepted).toBe(200);
    expect(await roundTrips(a)).toBe(before + 1);
    // The same batch again: every uuid is in the local window, Redis is not asked.
    expect((await postBatch(a.app, events)).json().duplicates).toBe(200);
    expect(await roundTrips(a)).toBe(before + 1);
    expect((await ingest(a.app, events[0])).json().status).toBe('duplicate');
    expect(await roundTrips(a)).toBe(before + 1);
    // One single event: one round trip.
    await ingest(a.app, finished());
    expect(await roundTrips(a, 'ok')).toBe(before + 2);
    expect(await inspect.dbsize()).toBe(201);
  });

  it('leaves no claim behind for a batch refused 503 queue_full, so its retry is accepted', async () => {
    const a = await worker(redis.url, { QUEUE_CAPACITY: '1000' });
    await waitConnected(a);
    a.sink.hold = true;
    // Fill the queue to 850 of 1000: the guard (which wants room for 100
    // before reading a batch) lets a batch of 160 in, the exact check refuses it.
    for (let i = 0; i < 17; i++) {
      const r = await postBatch(
        a.app,
        Array.from({ length: 50 }, () => finished()),
      );
      expect(r.statusCode).toBe(200);
    }
    const keysBefore = await inspect.dbsize();
    const batch = Array.from({ length: 160 }, () => finished());
    const refused = await postBatch(a.app, batch);
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toEqual({ error: 'queue_full' });
    expect(refused.headers['retry-after']).toBe('1');
    expect(await inspect.dbsize()).toBe(keysBefore);
    expect(await inspect.exists(`runmat:dedupe:${batch[0]!.uuid}`)).toBe(0);

    // The upstream recovers; the forwarder's retry of the same batch, on
    // this instance or another, is accepted in full.
    a.sink.drain();
    const b = await worker();
    await waitConnected(b);
    const retried = await postBatch(b.app, batch);
    expect(retried.json()).toMatchObject({ accepted: 160, duplicates: 0 });
    expect(await metricSum(a.metrics.rejected, { code: 'queue_full' })).toBe(160);
  });

  it('sets room aside before claiming: a batch admitted while another awaits its claim cannot take that room', async () => {
    const proxy = await startRedisProxy(redis.port);
    closers.push(() => proxy.close());
    // Claims take ~30 ms: the second batch is handled while the first awaits.
    const a = await worker(proxy.url, { QUEUE_CAPACITY: '1000', DEDUPE_REDIS_TIMEOUT_MS: '2000' });
    await waitConnected(a);
    a.sink.hold = true;
    for (let i = 0; i < 17; i++) {
      await postBatch(
        a.app,
        Array.from({ length: 50 }, () => finished()),
      );
    }
    // 850 held: room for one batch of 100, not two.
    proxy.delay(30);
    const first = Array.from({ length: 100 }, () => finished());
    const second = Array.from({ length: 100 }, () => finished());
    const [r1, r2] = await Promise.all([postBatch(a.app, first), postBatch(a.app, second)]);
    expect(r1.json()).toMatchObject({ accepted: 100 });
    expect(r2.statusCode).toBe(503);
    expect(await inspect.exists(`runmat:dedupe:${first[0]!.uuid}`)).toBe(1);
    expect(await inspect.exists(`runmat:dedupe:${second[0]!.uuid}`)).toBe(0);
    expect(a.queue.depth()).toBe(950);
  });
});

describe('failing open when Redis is down, slow or hung', () => {
  it('keeps accepting when Redis is killed, counts why, and resumes once it is back without a restart', async () => {
    const slowProbe = { DEDUPE_REDIS_BREAKER_COOLDOWN_MS: '1000' };
    const a = await worker(redis.url, slowProbe);
    const b = await worker(redis.url, slowProbe);
    await waitConnected(a);
    await waitConnected(b);
    await redis.kill();
    await expect.poll(() => metricSum(a.metrics.dedupeConnected)).toBe(0);

    // Every event is accepted; the local window still catches its own repeats.
    const during = Array.from({ length: 20 }, () => finished());
    for (const e of during) expect((await ingest(a.app, e)).json().status).toBe('accepted');
    expect((await ingest(a.app, during[0])).json().status).toBe('duplicate');
    const batch = await postBatch(b.app, [finished(), finished()]);
    expect(batch.json()).toMatchObject({ accepted: 2 });
    expect(a.sink.events).toHaveLength(20);

    // The first failures are errors (no connection); five in a row open the circuit.
    expect(await failOpen(a, 'error')).toBe(5);
    expect(await failOpen(a, 'circuit_open')).toBe(15);
    expect(await failOpenEvents(a, 'circuit_open')).toBe(15);
    expect(await circuit(a)).toBe(2);
    expect(await metricSum(a.metrics.dedupeCircuitOpened)).toBe(1);
    expect(await metricSum(a.metrics.dedupeConnected)).toBe(0);
    const text = await (await a.metricsApp.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('runmat_worker_dedupe_fail_open_total{reason="circuit_open"} 15');
    expect(text).toContain('runmat_worker_dedupe_redis_circuit_state 2');

    // Redis comes back (empty). The workers reconnect by themselves; after
    // the cooldown the next claim is the probe and closes the circuit.
    await redis.restart();
    await waitConnected(a);
    await waitConnected(b);
    skip(1000);
    const probe = finished();
    expect((await ingest(a.app, probe)).json().status).toBe('accepted');
    expect(await circuit(a)).toBe(0);
    // A cross-instance duplicate is caught again.
    expect((await ingest(b.app, probe)).json().status).toBe('duplicate');
    expect(await circuit(b)).toBe(0);
    expect(await inspect.exists(`runmat:dedupe:${probe.uuid}`)).toBe(1);
  });

  it('never waits on a stalled Redis longer than DEDUPE_REDIS_TIMEOUT_MS, then stops asking it', async () => {
    const proxy = await startRedisProxy(redis.port);
    closers.push(() => proxy.close());
    const a = await worker(proxy.url, {
      DEDUPE_REDIS_TIMEOUT_MS: '100',
      DEDUPE_REDIS_BREAKER_FAILURES: '3',
      DEDUPE_REDIS_BREAKER_COOLDOWN_MS: '60000',
    });
    await waitConnected(a);
    // Connected, then Redis stops answering: commands go out, nothing comes back.
    proxy.freeze();
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const res = await ingest(a.app, finished());
      expect(res.json().status).toBe('accepted');
      // Without the timeout this request would hang as long as Redis does.
      expect(Date.now() - started).toBeLessThan(2000);
    }
    expect(await failOpen(a, 'timeout')).toBe(3);
    expect(await roundTrips(a, 'timeout')).toBe(3);
    expect(await circuit(a)).toBe(2);
    // Open: Redis is skipped, not waited on.
    const res = await postBatch(a.app, [finished(), finished(), finished()]);
    expect(res.json()).toMatchObject({ accepted: 3 });
    expect(await failOpen(a, 'circuit_open')).toBe(1);
    expect(await failOpenEvents(a, 'circuit_open')).toBe(3);
    expect(a.sink.events).toHaveLength(6);
    proxy.thaw();
  });

  it('recovers from a stall once Redis answers again', async () => {
    const proxy = await startRedisProxy(redis.port);
    closers.push(() => proxy.close());
    const a = await worker(proxy.url, {
      DEDUPE_REDIS_TIMEOUT_MS: '50',
      DEDUPE_REDIS_BREAKER_FAILURES: '2',
    });
    const b = await worker();
    await waitConnected(a);
    await waitConnected(b);
    proxy.freeze();
    await ingest(a.app, finished());
    await ingest(a.app, finished());
    expect(await circuit(a)).toBe(2);
    proxy.thaw();
    skip(200);
    const event = finished();
    expect((await ingest(a.app, event)).json().status).toBe('accepted');
    expect(await circuit(a)).toBe(0);
    expect((await ingest(b.app, event)).json().status).toBe('duplicate');
  });

  it('answers promptly against a server that accepts connections and never replies', async () => {
    const silent = await startSilentServer();
    closers.push(() => silent.close());
    const a = await worker(silent.url, { DEDUPE_REDIS_TIMEOUT_MS: '50' });
    for (let i = 0; i < 8; i++) {
      const started = Date.now();
      expect((await ingest(a.app, finished())).json().status).toBe('accepted');
      expect(Date.now() - started).toBeLessThan(2000);
    }
    const failed =
      (await failOpen(a, 'timeout')) +
      (await failOpen(a, 'error')) +
      (await failOpen(a, 'circuit_open'));
    expect(failed).toBe(8);
    expect(await circuit(a)).toBe(2);
    expect(a.sink.events).toHaveLength(8);
    const started = Date.now();
    await a.app.close();
    apps.splice(apps.indexOf(a), 1);
    // Shutting down does not hang on the silent server either.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('runs on the local window alone without DEDUPE_REDIS_URL, with no shared-dedupe metrics', async () => {
    const a = captureApp({});
    apps.push(a);
    expect(a.shared).toBeNull();
    const event = { ...CANONICAL_STARTED_EXAMPLE, uuid: uuid() };
    expect((await ingest(a.app, event)).json().status).toBe('accepted');
    expect((await ingest(a.app, event)).json().status).toBe('duplicate');
    const text = (await a.metricsApp.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).not.toContain('runmat_worker_dedupe_');
    expect(text).toContain('runmat_worker_queue_bytes');
  });
});
