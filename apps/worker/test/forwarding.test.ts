import { type FakeSink, startFakeSink } from '@runmat-telemetry/fake-sink';
import {
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  distinctIdFromSession,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from '@runmat-telemetry/schema';
import { metric } from '@runmat-telemetry/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type WorkerApp } from '../src/app.js';
import { KEY, testConfig, uuid } from './helpers.js';

// These tests run the worker on a real loopback port with its real forwarders
// (posthog-node, undici) against the fake sink standing in for PostHog and GA4.

let sink: FakeSink;
let worker: WorkerApp | undefined;
let base = '';

beforeEach(async () => {
  sink = await startFakeSink({ apiKey: 'phc_test' });
});
afterEach(async () => {
  await worker?.app.close();
  worker = undefined;
  await sink.close();
});

async function startWorker(env: Record<string, string> = {}) {
  worker = buildApp(
    testConfig({
      POSTHOG_HOST: sink.url,
      GA_HOST: sink.url,
      GA_MEASUREMENT_ID: 'G-TEST123',
      GA_API_SECRET: 'ga-secret',
      POSTHOG_FLUSH_INTERVAL_MS: '50',
      GA4_FLUSH_INTERVAL_MS: '50',
      POSTHOG_RETRY_DELAY_MS: '50',
      GA4_RETRY_DELAY_MS: '50',
      ...env,
    }),
    { logger: false },
  );
  await worker.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = worker.app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  base = `http://127.0.0.1:${addr.port}`;
  return worker;
}

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-telemetry-key': KEY },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** What the worker has settled per destination, and what is still pending. */
async function outcome(app: WorkerApp) {
  const text = await app.metrics.render();
  const of = (name: string, destination: string) => metric(text, name, { destination });
  return {
    queued: metric(text, 'runmat_worker_queue_depth'),
    forwarded: {
      posthog: of('runmat_delivery_delivered_events_total', 'posthog'),
      ga4: of('runmat_delivery_delivered_events_total', 'ga4'),
    },
    failed: {
      posthog: of('runmat_delivery_failed_events_total', 'posthog'),
      ga4: of('runmat_delivery_failed_events_total', 'ga4'),
    },
  };
}

const finished = (over: Record<string, unknown> = {}) => ({
  ...CANONICAL_FINISHED_EXAMPLE,
  uuid: uuid(),
  ...over,
});

describe('forwarding to PostHog and GA4', () => {
  it('delivers events with the right names, ids, uuids and properties', async () => {
    await startWorker();
    const run = finished();
    const legacy = { ...LEGACY_FINISHED_EXAMPLE, session_id: `s-${uuid()}`, cid: undefined };
    expect((await post('/ingest', run)).status).toBe(202);
    expect((await post('/v1/t', legacy)).status).toBe(202);
    expect((await post('/ingest', INSTALL_COMPLETE_EXAMPLE)).status).toBe(202);

    const ph = await sink.waitForEvents({ destination: 'posthog' }, { count: 3 });
    const byName = new Map(ph.map((e) => [`${e.event}:${e.distinct_id}`, e]));
    const canonical = byName.get(`runtime.run.finished:${run.cid}`);
    expect(canonical).toMatchObject({
      uuid: run.uuid,
      api_key: 'phc_test',
      path: '/batch/',
      properties: {
        os: 'macos',
        arch: 'aarch64',
        release: '0.4.9',
        run_kind: 'script',
        success: false,
        duration_us: 4412,
        gpu_ratio: 0.4193,
        'runtime.failure.stage': 'runtime',
        'runtime.failure.code': 'RunMat:IndexOutOfBounds',
        $process_person_profile: false,
        $geoip_disable: true,
      },
    });
    expect(canonical?.properties.$ip).toBeUndefined();
    const hashed = distinctIdFromSession(legacy.session_id);
    const legacyEvent = byName.get(`runtime.run.finished:${hashed}`);
    expect(legacyEvent?.properties).toMatchObject({ gpu_device_name: 'NVIDIA RTX 4090' });
    expect(legacyEvent?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(byName.get(`install_complete:${INSTALL_COMPLETE_EXAMPLE.cid}`)).toBeDefined();

    const ga = await sink.waitForEvents({ destination: 'ga4' }, { count: 3 });
    expect(ga.map((e) => e.event).sort()).toEqual([
      'install_complete',
      'runtime_run_finished',
      'runtime_run_finished',
    ]);
    for (const e of ga) {
      expect(e.violations).toBeUndefined();
      expect(e.measurement_id).toBe('G-TEST123');
    }
    expect(ga.find((e) => e.distinct_id === run.cid)?.properties).toMatchObject({
      runtime_failure_stage: 'runtime',
      success: 0,
    });
    expect(sink.stats().ga4.violations).toBe(0);
  });

  it('groups GA4 requests to at most 25 events of one client id', async () => {
    await startWorker({ GA4_FLUSH_INTERVAL_MS: '200' });
    const cids = [uuid(), uuid()];
    const events = Array.from({ length: 60 }, (_, i) => ({
      event: { ...CANONICAL_STARTED_EXAMPLE, uuid: uuid(), cid: cids[i % 2] },
    }));
    const res = await post('/v1/batch', { events });
    expect(await res.json()).toMatchObject({ accepted: 60 });
    const ga = await sink.waitForEvents({ destination: 'ga4' }, { count: 60 });
    expect(ga).toHaveLength(60);
    // 30 per client -> 25 + 5 each; never more than 25 per request.
    expect(sink.stats().ga4.requests).toBe(4);
    expect(sink.stats().ga4.violations).toBe(0);
  });

  it('forwards a duplicate once, across the single and batch routes', async () => {
    const app = await startWorker();
    const run = finished();
    expect(await (await post('/ingest', run)).json()).toMatchObject({ status: 'accepted' });
    const batch = await post('/v1/batch', { events: [{ event: run }, { event: run }] });
    expect(await batch.json()).toMatchObject({ accepted: 0, duplicates: 2 });
    // Idle: nothing pending and every answer read. A wrongly forwarded copy
    // would be pending or counted by now, and the sink stores before it answers.
    await expect
      .poll(() => outcome(app), { message: 'the worker idle' })
      .toEqual({ queued: 0, forwarded: { posthog: 1, ga4: 1 }, failed: { posthog: 0, ga4: 0 } });
    expect(sink.events({ destination: 'posthog' }).filter((e) => e.uuid === run.uuid)).toHaveLength(
      1,
    );
    expect(sink.events({ destination: 'ga4' })).toHaveLength(1);
  });

  it('retries upstream 500s and then delivers', async () => {
    const app = await startWorker();
    sink.setFaults([
      { status: 500, count: 2, destination: 'posthog' },
      { status: 503, count: 2, destination: 'ga4' },
    ]);
    const events = Array.from({ length: 10 }, () => ({ event: finished() }));
    expect((await post('/v1/batch', { events })).status).toBe(200);
    const ph = await sink.waitForEvents(
      { destination: 'posthog' },
      { count: 10, timeoutMs: 10_000 },
    );
    expect(new Set(ph.map((e) => e.uuid)).size).toBe(10);
    await sink.waitForEvents({ destination: 'ga4' }, { count: 10, timeoutMs: 10_000 });
    expect(sink.stats().faults.injected).toBe(4);
    // The sink stores a batch before its answer reaches the worker, which
    // counts the events as forwarded only when it reads that answer.
    await expect
      .poll(() => outcome(app), { message: 'every answer read' })
      .toEqual({ queued: 0, forwarded: { posthog: 10, ga4: 10 }, failed: { posthog: 0, ga4: 0 } });
  });

  it('counts events it gives up on after retries', async () => {
    const app = await startWorker({ POSTHOG_RETRIES: '1', GA4_RETRIES: '1' });
    sink.setFaults({ status: 500, count: 10 });
    expect((await post('/ingest', finished())).status).toBe(202);
    await expect
      .poll(() => outcome(app), { message: 'the give-up counted' })
      .toEqual({ queued: 0, forwarded: { posthog: 0, ga4: 0 }, failed: { posthog: 1, ga4: 1 } });
    expect(app.queue.depth()).toBe(0);
  });

  it('counts no loss when a 413 makes posthog-node split the batch and re-send it', async () => {
    const app = await startWorker({ POSTHOG_BATCH_SIZE: '10' });
    sink.setFaults({ status: 413, count: 1, destination: 'posthog' });
    const events = Array.from({ length: 10 }, () => ({ event: finished() }));
    expect(await (await post('/v1/batch', { events })).json()).toMatchObject({ accepted: 10 });
    const ph = await sink.waitForEvents(
      { destination: 'posthog' },
      { count: 10, timeoutMs: 10_000 },
    );
    expect(new Set(ph.map((e) => e.uuid)).size).toBe(10);
    expect(sink.stats().faults.injected).toBe(1);
    await expect
      .poll(() => outcome(app), { message: 'the split batch counted' })
      .toEqual({ queued: 0, forwarded: { posthog: 10, ga4: 10 }, failed: { posthog: 0, ga4: 0 } });
  });

  it('counts a single event PostHog rejects with 413 as failed, once', async () => {
    const app = await startWorker({ POSTHOG_BATCH_SIZE: '10' });
    sink.setFaults({ status: 413, count: 1, destination: 'posthog' });
    expect((await post('/ingest', finished())).status).toBe(202);
    await expect
      .poll(async () => (await outcome(app)).failed.posthog, { message: 'the rejection counted' })
      .toBe(1);
    expect(await outcome(app)).toMatchObject({ queued: 0, forwarded: { posthog: 0 } });
  });

  it('flushes what was queued when it shuts down', async () => {
    const app = await startWorker({
      POSTHOG_FLUSH_INTERVAL_MS: '60000',
      POSTHOG_BATCH_SIZE: '5000',
      GA4_FLUSH_INTERVAL_MS: '60000',
    });
    const events = Array.from({ length: 40 }, () => ({ event: finished() }));
    expect(await (await post('/v1/batch', { events })).json()).toMatchObject({ accepted: 40 });
    // Still pending (unsettled) at the worker: nothing has been delivered.
    expect(app.queue.depth()).toBe(40);
    expect(sink.stats().posthog.events).toBe(0);
    await app.app.close();
    worker = undefined;
    expect(sink.stats().posthog.events).toBe(40);
    expect(sink.stats().ga4.events).toBe(40);
  });

  it('sends nothing hostile upstream', async () => {
    await startWorker({ FORWARD_CLIENT_IP: 'false' });
    const secret = 'HOSTILE_7f3a';
    const body = `{"__proto__":{"x":"${secret}"},${JSON.stringify(
      finished({
        source: `x = load('/home/bob/${secret}.mat')`,
        env: { PATH: `/opt/${secret}` },
        payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, workspace: { a: secret } },
      }),
    ).slice(1)}`;
    expect((await post('/ingest', body)).status).toBe(202);
    await sink.waitForEvents({ destination: 'posthog' }, { count: 1 });
    await sink.waitForEvents({ destination: 'ga4' }, { count: 1 });
    const raw = await (await fetch(`${sink.url}/_sink/events`)).text();
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain('/home/bob');
    expect(raw).not.toContain('127.0.0.1');
  });
});
