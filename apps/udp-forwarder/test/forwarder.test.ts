import dgram from 'node:dgram';
import net from 'node:net';
import { metric } from '@runmat-telemetry/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { createForwarder, type Forwarder, loadForwarderConfig } from '../src/index.ts';
import { TestWorker } from './helpers/test-worker.ts';
import { sendDatagrams, validEvent } from './helpers/udp.ts';

const KEY = 'test-ingestion-key';
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startWorker(): Promise<TestWorker> {
  const worker = new TestWorker();
  await worker.listen(0);
  cleanups.push(() => worker.close());
  return worker;
}

async function startForwarder(endpoint: string, env: Record<string, string> = {}) {
  const config = loadForwarderConfig({
    UDP_HOST: '127.0.0.1',
    UDP_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: '0',
    TELEMETRY_HTTP_ENDPOINT: endpoint,
    TELEMETRY_INGESTION_KEY: KEY,
    LOG_LEVEL: 'silent',
    RETRY_BASE_MS: '10',
    RETRY_MAX_MS: '50',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  const forwarder: Forwarder = createForwarder(config);
  const addresses = await forwarder.start();
  cleanups.push(() => forwarder.stop());
  return { forwarder, ...addresses, stats: () => forwarder.metrics.snapshot() };
}

/** The seam that proves absence: nothing queued and nothing in flight. */
const IDLE = { queueEvents: 0, inFlight: 0 };
function idle(fwd: { stats: Forwarder['metrics']['snapshot'] }) {
  const { queueEvents, inFlight } = fwd.stats();
  return { queueEvents, inFlight };
}

const json = (events: Record<string, unknown>[]) => events.map((e) => JSON.stringify(e));

describe('forwarding', () => {
  it('batches by count, posting the /v1/batch shape with the key, sender address and receipt time', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url, {
      BATCH_MAX_EVENTS: '10',
      BATCH_MAX_WAIT_MS: '1500',
      FORWARDER_CONCURRENCY: '1',
    });
    const events = Array.from({ length: 25 }, validEvent);
    const t0 = Date.now();
    await sendDatagrams(fwd.udpPort, json(events));

    await expect
      .poll(() => worker.delivered().length, { message: 'two full batches' })
      .toBeGreaterThanOrEqual(20);
    // The full batches left on count, well before the 1.5 s timer.
    expect(worker.batches.map((b) => b.items.length)).toEqual([10, 10]);
    expect(worker.batches[1]!.at - t0).toBeLessThan(1000);

    await expect.poll(() => worker.delivered().length, { message: 'the partial batch' }).toBe(25);
    expect(worker.batches.map((b) => b.items.length)).toEqual([10, 10, 5]);
    expect(worker.batches[2]!.at - t0).toBeGreaterThanOrEqual(1400);

    const first = worker.batches[0]!;
    expect(first.headers['x-telemetry-key']).toBe(KEY);
    expect(first.headers['content-type']).toBe('application/json');
    const items = worker.delivered();
    expect(items.map((i) => i.event)).toEqual(events);
    for (const item of items) {
      expect(item.client_ip).toBe('127.0.0.1');
      expect(item.received_at).toBeGreaterThanOrEqual(t0);
      expect(item.received_at).toBeLessThanOrEqual(Date.now());
    }
    // The stand-in records a batch before its answer reaches the forwarder,
    // which counts the events only when it reads that answer.
    await expect
      .poll(() => fwd.stats().eventsForwarded, { message: 'the last answer counted' })
      .toBe(25);
    expect(fwd.stats()).toMatchObject({ datagramsReceived: 25, eventsForwarded: 25, retries: 0 });
  });

  it('listens on IPv6 loopback and passes the IPv6 sender address on', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url, { UDP_HOST: '::1', BATCH_MAX_WAIT_MS: '10' });
    expect(fwd.udpHost).toBe('::1');
    const event = validEvent();
    const socket = dgram.createSocket('udp6');
    await new Promise<void>((resolve, reject) =>
      socket.send(JSON.stringify(event), fwd.udpPort, '::1', (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    socket.close();
    await expect.poll(() => worker.delivered().length, { message: 'the IPv6 datagram' }).toBe(1);
    expect(worker.delivered()[0]).toMatchObject({ event, client_ip: '::1' });
  });

  it('batches by time when fewer events than a batch arrive', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url, {
      BATCH_MAX_EVENTS: '500',
      BATCH_MAX_WAIT_MS: '100',
    });
    const events = Array.from({ length: 3 }, validEvent);
    await sendDatagrams(fwd.udpPort, json(events));
    await expect.poll(() => worker.delivered().length, { message: 'the timed batch' }).toBe(3);
    expect(worker.batches).toHaveLength(1);
    expect(worker.deliveredUuids()).toEqual(new Set(events.map((e) => e.uuid)));
  });

  it('drops garbage, oversize and invalid datagrams by reason; only valid events reach the worker', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url, { BATCH_MAX_WAIT_MS: '20' });
    const good = [validEvent(), validEvent()];
    const noSession = validEvent();
    delete noSession.session_id;
    const badFlag = { ...validEvent(), payload: { jit_enabled: 'yes', accelerate_enabled: true } };
    const huge = JSON.stringify({ ...validEvent(), pad: 'x'.repeat(40_000) });
    await sendDatagrams(fwd.udpPort, [
      'not json at all',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      huge,
      '[1,2,3]',
      JSON.stringify({ ...validEvent(), event_label: 'runtime.run.exploded' }),
      JSON.stringify(noSession),
      JSON.stringify(badFlag),
      Buffer.alloc(0),
      ...json(good),
    ]);
    await expect
      .poll(() => fwd.stats().datagramsReceived, { message: 'all datagrams read' })
      .toBe(10);
    await expect.poll(() => worker.delivered().length, { message: 'the valid events' }).toBe(2);

    expect(worker.deliveredUuids()).toEqual(new Set(good.map((e) => e.uuid)));
    const { dropped, eventsEnqueued } = fwd.stats();
    expect(eventsEnqueued).toBe(2);
    expect(dropped).toMatchObject({
      invalid_json: 3,
      oversize: 1,
      not_object: 1,
      unknown_event: 1,
      missing_field: 1,
      wrong_type: 1,
      queue_full: 0,
    });
    const text = await fwd.forwarder.metrics.text();
    expect(
      metric(text, 'runmat_forwarder_datagrams_dropped_total', { reason: 'invalid_json' }),
    ).toBe(3);
    expect(metric(text, 'runmat_forwarder_datagrams_dropped_total', { reason: 'oversize' })).toBe(
      1,
    );
    expect(metric(text, 'runmat_forwarder_datagrams_received_total')).toBe(10);
  });

  it('takes a 12 KB Rust provider snapshot in one datagram and forwards only its projection', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url, { BATCH_MAX_WAIT_MS: '20' });
    const launch = (i: number) => ({
      kernel: `runmat_fused_elementwise_kernel_${i}`,
      precision: 'f32',
      shape: [
        { key: 'rows', value: String(1024 + i) },
        { key: 'cols', value: '768' },
      ],
      tuning: [{ key: 'workgroup_size', value: '256' }],
    });
    const stats = (count: number) => ({ count, total_wall_time_ns: count * 1000 });
    const base = validEvent();
    const event = {
      ...base,
      event_label: 'runtime.run.finished',
      payload: {
        success: true,
        jit_enabled: true,
        jit_used: true,
        accelerate_enabled: true,
        duration_us: 5000,
        provider: {
          device: {
            device_id: 0,
            name: 'AMD Radeon™ 780M Graphics',
            vendor: 'AMD',
            memory_bytes: null,
            backend: 'vulkan',
          },
          telemetry: {
            fused_elementwise: stats(40),
            fused_reduction: stats(20),
            matmul: stats(4),
            linsolve: stats(0),
            mldivide: stats(0),
            mrdivide: stats(0),
            upload_bytes: 1 << 20,
            download_bytes: 4096,
            solve_fallbacks: [],
            fusion_cache_hits: 60,
            fusion_cache_misses: 4,
            bind_group_cache_hits: 100,
            bind_group_cache_misses: 3,
            bind_group_cache_by_layout: [{ layout: 'layout-7f3a', hits: 100, misses: 3 }],
            kernel_launches: Array.from({ length: 64 }, (_, i) => launch(i)),
          },
        },
      },
    };
    const datagram = JSON.stringify(event);
    expect(datagram.length).toBeGreaterThan(9_000);
    await sendDatagrams(fwd.udpPort, [datagram]);
    await expect.poll(() => worker.delivered().length, { message: 'the event' }).toBe(1);

    const sent = worker.delivered()[0]?.event as { payload: Record<string, unknown> };
    const text = JSON.stringify(sent);
    expect(text.length).toBeLessThan(1_000);
    expect(text).not.toMatch(/kernel|layout|memory_bytes|device_id/);
    expect(sent.payload).toMatchObject({
      gpu_dispatches: 64,
      gpu_wall_ns: 64_000,
      gpu_matmul_dispatches: 4,
      provider: { device: { name: 'AMD Radeon 780M Graphics', vendor: 'AMD', backend: 'vulkan' } },
    });
    const metrics = await fwd.forwarder.metrics.text();
    expect(
      metric(metrics, 'runmat_forwarder_field_fixes_total', {
        field: 'payload.provider.device.name',
        reason: 'normalized',
      }),
    ).toBe(1);
    expect(
      metric(metrics, 'runmat_forwarder_field_fixes_total', {
        field: 'payload.provider.telemetry.kernel_launches',
        reason: 'not_forwarded',
      }),
    ).toBe(1);
  });
});

describe('delivery under failure', () => {
  it('retries 503 until the worker answers 200, delivering every queued event', async () => {
    const worker = await startWorker();
    worker.responder = (n) => (n < 3 ? { status: 503, body: { error: 'queue_full' } } : undefined);
    const fwd = await startForwarder(worker.url, {
      BATCH_MAX_EVENTS: '10',
      BATCH_MAX_WAIT_MS: '10',
      FORWARDER_CONCURRENCY: '2',
    });
    const events = Array.from({ length: 40 }, validEvent);
    await sendDatagrams(fwd.udpPort, json(events));
    // The stand-in records a request before the forwarder reads its answer.
    await expect
      .poll(() => [worker.deliveredUuids().size, fwd.stats().eventsForwarded], {
        message: 'every event delivered and counted',
      })
      .toEqual([40, 40]);
    expect(worker.log.filter((r) => r.status === 503)).toHaveLength(3);
    const stats = fwd.stats();
    expect(stats.retries).toBe(3);
    expect(stats.eventsForwarded).toBe(40);
    expect(stats.requests['503']).toBe(3);
    expect(stats.eventsFailed).toMatchObject({ refused: 0, retries_exhausted: 0 });
  });

  it('honours Retry-After on 429', async () => {
    const worker = await startWorker();
    worker.responder = (n) =>
      n === 0
        ? { status: 429, headers: { 'retry-after': '1' }, body: { error: 'rate_limited' } }
        : undefined;
    const fwd = await startForwarder(worker.url, { BATCH_MAX_WAIT_MS: '10' });
    await sendDatagrams(fwd.udpPort, json([validEvent()]));
    await expect
      .poll(() => worker.delivered().length, { message: 'the retried event', timeout: 5000 })
      .toBe(1);
    const [refused, accepted] = worker.log;
    expect(refused?.status).toBe(429);
    // Backoff alone would retry within RETRY_MAX_MS (50 ms); the header asked for a second.
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(950);
  });

  it('does not retry other 4xx and counts the events as failed', async () => {
    const worker = await startWorker();
    worker.responder = () => ({ status: 400, body: { error: 'invalid_batch' } });
    const fwd = await startForwarder(worker.url, { BATCH_MAX_WAIT_MS: '10' });
    await sendDatagrams(fwd.udpPort, json(Array.from({ length: 5 }, validEvent)));
    await expect
      .poll(() => fwd.stats().eventsFailed.refused, { message: 'the failure to be counted' })
      .toBe(5);
    // Settled and idle: a retry, had there been one, comes before the failure is counted.
    await expect.poll(() => idle(fwd), { message: 'idle' }).toEqual(IDLE);
    expect(worker.requests).toBe(1);
    expect(fwd.stats()).toMatchObject({ retries: 0, eventsForwarded: 0 });
  });

  it('counts per-event rejections from a 200 answer without retrying them', async () => {
    const worker = await startWorker();
    worker.responder = (_n, batch) => ({
      status: 200,
      body: {
        accepted: 1,
        duplicates: 1,
        rejected: 1,
        results: batch.items.map((_, i) =>
          i === 0
            ? { status: 'accepted' }
            : i === 1
              ? { status: 'rejected', code: 'invalid_string', path: '/session_id' }
              : { status: 'duplicate' },
        ),
      },
    });
    const fwd = await startForwarder(worker.url, { BATCH_MAX_WAIT_MS: '200' });
    await sendDatagrams(fwd.udpPort, json(Array.from({ length: 3 }, validEvent)));
    await expect.poll(() => worker.requests, { message: 'the batch' }).toBe(1);
    await expect.poll(() => fwd.stats().eventsForwarded, { message: 'results counted' }).toBe(2);
    const stats = fwd.stats();
    expect(stats.eventsRejected).toEqual({ invalid_string: 1 });
    expect(stats.eventsDuplicate).toBe(1);
    expect(stats.retries).toBe(0);
    expect(
      metric(await fwd.forwarder.metrics.text(), 'runmat_forwarder_events_rejected_total', {
        code: 'invalid_string',
      }),
    ).toBe(1);
  });

  it('keeps what fits while the worker is down, delivers it when it returns, and counts the rest', async () => {
    const worker = await startWorker();
    await worker.close(); // down: connections are refused on its port
    const fwd = await startForwarder(worker.url, {
      QUEUE_MAX_EVENTS: '40',
      BATCH_MAX_EVENTS: '10',
      BATCH_MAX_WAIT_MS: '10',
      FORWARDER_CONCURRENCY: '1',
    });
    const events = Array.from({ length: 100 }, validEvent);
    await sendDatagrams(fwd.udpPort, json(events));
    await expect
      .poll(() => fwd.stats().datagramsReceived, { message: 'all datagrams read' })
      .toBe(100);
    await expect
      .poll(() => fwd.stats().retries, { message: 'a few failed attempts' })
      .toBeGreaterThanOrEqual(3);

    const whileDown = fwd.stats();
    // The bound counts what the retrying request holds too: exactly 40 are kept.
    expect(whileDown.queueEvents).toBe(40);
    expect(whileDown.dropped.queue_full).toBe(60);
    expect(whileDown.requests.network).toBeGreaterThanOrEqual(3);

    await worker.listen(); // back on the same port
    const dropped = whileDown.dropped.queue_full;
    await expect
      .poll(() => worker.deliveredUuids().size, { message: 'the backlog delivered' })
      .toBe(100 - dropped);
    await expect.poll(() => idle(fwd), { message: 'idle' }).toEqual(IDLE);
    // Loopback keeps order, so what fitted is exactly the first 100 - dropped events.
    expect(worker.deliveredUuids()).toEqual(
      new Set(events.slice(0, 100 - dropped).map((e) => e.uuid)),
    );
    const after = fwd.stats();
    expect(after.dropped.queue_full).toBe(dropped);
    expect(after.eventsForwarded + after.dropped.queue_full).toBe(100);
  });

  it('bounds the queue in bytes as well as events', async () => {
    const worker = await startWorker();
    await worker.close();
    const fwd = await startForwarder(worker.url, {
      QUEUE_MAX_BYTES: '4096',
      BATCH_MAX_EVENTS: '1',
      FORWARDER_CONCURRENCY: '1',
      SHUTDOWN_TIMEOUT_MS: '100',
    });
    await sendDatagrams(fwd.udpPort, json(Array.from({ length: 30 }, validEvent)));
    await expect
      .poll(() => fwd.stats().datagramsReceived, { message: 'all datagrams read' })
      .toBe(30);
    const stats = fwd.stats();
    expect(stats.queueBytes).toBeLessThanOrEqual(4096);
    expect(stats.queueBytes).toBeGreaterThan(4096 - 600);
    expect(stats.dropped.queue_full).toBeGreaterThan(0);
    expect(stats.eventsEnqueued + stats.dropped.queue_full).toBe(30);

    // While full, nothing is decoded: even garbage (as big as an event) counts as queue_full.
    await sendDatagrams(fwd.udpPort, ['x'.repeat(600)]);
    await expect
      .poll(() => fwd.stats().datagramsReceived, { message: 'the garbage datagram' })
      .toBe(31);
    expect(fwd.stats().dropped).toMatchObject({
      queue_full: stats.dropped.queue_full + 1,
      invalid_json: 0,
    });
  });

  it('flushes the queue on stop and reports nothing unflushed', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url, { BATCH_MAX_WAIT_MS: '60000' });
    const events = Array.from({ length: 7 }, validEvent);
    await sendDatagrams(fwd.udpPort, json(events));
    await expect.poll(() => fwd.stats().queueEvents, { message: 'events queued' }).toBe(7);
    expect(worker.requests).toBe(0);
    await expect(fwd.forwarder.stop()).resolves.toEqual({ unflushed: 0 });
    expect(worker.deliveredUuids().size).toBe(7);
  });

  it('gives up at the shutdown deadline and counts what could not be flushed', async () => {
    const worker = await startWorker();
    await worker.close();
    const fwd = await startForwarder(worker.url, {
      BATCH_MAX_WAIT_MS: '60000',
      SHUTDOWN_TIMEOUT_MS: '300',
    });
    await sendDatagrams(fwd.udpPort, json(Array.from({ length: 6 }, validEvent)));
    await expect.poll(() => fwd.stats().queueEvents, { message: 'events queued' }).toBe(6);
    const started = Date.now();
    await expect(fwd.forwarder.stop()).resolves.toEqual({ unflushed: 6 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(fwd.stats().eventsFailed.shutdown).toBe(6);
  });
});

describe('health port', () => {
  it('accepts bare TCP connects and serves /healthz, /readyz and /metrics', async () => {
    const worker = await startWorker();
    const fwd = await startForwarder(worker.url);
    const base = `http://127.0.0.1:${fwd.healthPort}`;

    // GCP's TCP check: connect, then hang up without a request.
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(fwd.healthPort, '127.0.0.1', () => {
        socket.end();
        resolve();
      });
      socket.on('error', reject);
    });

    const healthz = await fetch(`${base}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);

    await sendDatagrams(fwd.udpPort, json([validEvent()]));
    await expect.poll(() => worker.delivered().length, { message: 'delivery' }).toBe(1);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect({
      received: metric(text, 'runmat_forwarder_datagrams_received_total'),
      forwarded: metric(text, 'runmat_delivery_delivered_events_total'),
      retries: metric(text, 'runmat_delivery_retries_total'),
      queued: metric(text, 'runmat_delivery_pending_events'),
      inFlight: metric(text, 'runmat_delivery_in_flight_requests'),
      ok: metric(text, 'runmat_delivery_requests_total', { status: '200' }),
    }).toEqual({ received: 1, forwarded: 1, retries: 0, queued: 0, inFlight: 0, ok: 1 });
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});
