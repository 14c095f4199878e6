import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  CANONICAL_FINISHED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
  type NormalizedEvent,
  normalizeEvent,
  parseEvent,
  toPostHogCapture,
  toPostHogEvent,
} from '@runmat-telemetry/schema';
import type { FastifyBaseLogger } from 'fastify';
import { PostHog } from 'posthog-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../metrics.js';
import { batchUuids, PostHogForwarder } from './posthog-forwarder.js';

interface Captured {
  headers: IncomingMessage['headers'];
  body: { api_key: string; sent_at: string; batch: Array<Record<string, unknown>> };
}

let server: Server;
let host = '';
let captured: Captured[] = [];
/** Answers a request (by its index) with a status other than 200, or undefined for 200. */
let responder: (n: number, body: Captured['body']) => number | undefined = () => undefined;

beforeEach(async () => {
  captured = [];
  responder = () => undefined;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      const body = JSON.parse(raw.toString('utf8')) as Captured['body'];
      captured.push({ headers: req.headers, body });
      const status = responder(captured.length - 1, body);
      if (status !== undefined) res.writeHead(status).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":1}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const silent = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return silent;
  },
} as unknown as FastifyBaseLogger;

const events: NormalizedEvent[] = [
  CANONICAL_FINISHED_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
].map((example, i) => {
  const parsed = parseEvent({ ...example, uuid: `00000000-0000-4000-8000-00000000000${i}` });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return normalizeEvent(parsed.event, { receivedAt: Date.parse('2026-05-17T06:40:00Z') });
});

function forwarder(gzip: boolean, metrics = new WorkerMetrics(), batchSize = 10) {
  return new PostHogForwarder({
    apiKey: 'phc_unit',
    host,
    batchSize,
    flushIntervalMs: 20,
    timeoutMs: 2000,
    retries: 3,
    retryDelayMs: 10,
    gzip,
    concurrency: 1,
    metrics,
    log: silent,
  });
}

/** What stock posthog-node, with its defaults, sends for the same events. */
async function stockBatch(): Promise<Array<Record<string, unknown>>> {
  const client = new PostHog('phc_unit', { host, flushAt: 100 });
  for (const e of events) client.capture(toPostHogCapture(e));
  await client.shutdown();
  const batch = captured.flatMap((c) => c.body.batch);
  captured = [];
  return batch;
}

describe('PostHogForwarder wire format', () => {
  it('sends each event exactly as stock posthog-node would, in one gzipped /batch/ request', async () => {
    const expected = await stockBatch();
    expect(expected).toHaveLength(events.length);

    const metrics = new WorkerMetrics();
    const f = forwarder(true, metrics);
    for (const e of events) f.push(e, undefined);
    expect(await f.close(2000)).toBe(0);

    expect(captured).toHaveLength(1);
    const [request] = captured;
    expect(request?.headers['content-encoding']).toBe('gzip');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toMatch(/^posthog-node\//);
    expect(request?.body.api_key).toBe('phc_unit');
    expect(Date.parse(request?.body.sent_at ?? '')).toBeGreaterThan(0);
    expect(request?.body.batch).toEqual(expected);
    expect(batchUuids(JSON.stringify(request?.body))).toEqual(events.map((e) => e.uuid));
    // And that is the schema's mapping plus posthog-node's library properties.
    for (const [i, e] of events.entries()) {
      const mapped = toPostHogEvent(e);
      expect(request?.body.batch[i]).toMatchObject({
        ...mapped,
        properties: { ...mapped.properties, $lib: 'posthog-node', $is_server: true },
      });
    }
    expect(f.outcomes.delivered).toBe(events.length);
    const text = await metrics.render();
    expect(text).toContain(
      `runmat_delivery_delivered_events_total{destination="posthog"} ${events.length}`,
    );
    expect(text).toContain('runmat_delivery_requests_total{destination="posthog",status="200"} 1');
  });

  it('sends plain JSON when gzip is off, and forwards the client IP only when given one', async () => {
    const f = forwarder(false);
    f.push(events[0]!, '203.0.113.9');
    f.push(events[1]!, undefined);
    expect(await f.close(2000)).toBe(0);
    expect(captured).toHaveLength(1);
    expect(captured[0]?.headers['content-encoding']).toBeUndefined();
    const [withIp, withoutIp] = captured[0]?.body.batch ?? [];
    expect(withIp?.properties).toMatchObject({ $ip: '203.0.113.9', $geoip_disable: false });
    expect(withoutIp?.properties).toMatchObject({ $geoip_disable: true });
    expect(withoutIp?.properties).not.toHaveProperty('$ip');
  });
});

describe('PostHogForwarder robustness', () => {
  it('counts an event it cannot serialize as failed instead of throwing or holding it', async () => {
    const metrics = new WorkerMetrics();
    const f = forwarder(false, metrics);
    const broken = { ...events[0]!, timestamp: Number.NaN };
    expect(() => f.push(broken, undefined)).not.toThrow();
    expect(f.pending()).toBe(0);
    expect(f.outcomes.failed.encode_error).toBe(1);
    f.push(events[1]!, undefined);
    expect(await f.close(2000)).toBe(0);
    expect(captured.flatMap((c) => c.body.batch)).toHaveLength(1);
  });
});

describe('PostHogForwarder delivery', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      ...events[0]!,
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));

  it('retries 503 and 429 under the shared policy, sending each event once delivered', async () => {
    responder = (n) => (n === 0 ? 503 : n === 1 ? 429 : undefined);
    const f = forwarder(false);
    for (const e of many(4)) f.push(e, undefined);
    expect(await f.close(5000)).toBe(0);
    expect(captured).toHaveLength(3);
    for (const c of captured) expect(c.body.batch).toHaveLength(4);
    expect(f.outcomes.delivered).toBe(4);
    expect(f.outcomes.retries).toEqual({ '503': 1, '429': 1 });
    expect(f.outcomes.requests).toEqual({ '503': 1, '429': 1, '200': 1 });
  });

  it('lets posthog-node halve a batch on 413, and counts a single event that is too large', async () => {
    const big = many(8);
    const tooLarge = big[5]!.uuid;
    responder = (_n, body) =>
      body.batch.length > 2 || body.batch.some((m) => m.uuid === tooLarge) ? 413 : undefined;
    const f = forwarder(false, new WorkerMetrics(), 8);
    for (const e of big) f.push(e, undefined);
    expect(await f.close(5000)).toBe(0);
    expect(f.outcomes.delivered).toBe(7);
    expect(f.outcomes.failed.too_large).toBe(1);
    const delivered = new Set(
      captured
        .filter((c) => c.body.batch.length <= 2 && !c.body.batch.some((m) => m.uuid === tooLarge))
        .flatMap((c) => c.body.batch.map((m) => m.uuid)),
    );
    expect(delivered.size).toBe(7);
  });

  it('does not retry a refusal, and counts its events as failed', async () => {
    responder = () => 400;
    const f = forwarder(false);
    for (const e of many(3)) f.push(e, undefined);
    expect(await f.close(5000)).toBe(0);
    expect(captured).toHaveLength(1);
    expect(f.outcomes.failed.refused).toBe(3);
    expect(f.pending()).toBe(0);
  });

  it('counts retries_exhausted once its retries are spent', async () => {
    responder = () => 500;
    const f = forwarder(false);
    for (const e of many(2)) f.push(e, undefined);
    expect(await f.close(5000)).toBe(0);
    expect(captured).toHaveLength(4); // the attempt and its 3 retries
    expect(f.outcomes.failed.retries_exhausted).toBe(2);
  });

  it('keeps at most one batch per posthog-node client and the rest in its own backlog', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      req.resume();
      req.on('end', () => {
        captured.push({ headers: req.headers, body: { api_key: '', sent_at: '', batch: [] } });
        void gate.then(() => res.writeHead(200).end('{}'));
      });
    });
    const f = forwarder(false, new WorkerMetrics(), 5);
    for (const e of many(23)) f.push(e, undefined);
    await expect.poll(() => captured.length).toBe(1);
    // posthog-node's queue (maxQueueSize 20) never sees more than its one batch of 5.
    expect(f.pending()).toBe(23);
    release();
    expect(await f.close(5000)).toBe(0);
    expect(f.outcomes.delivered).toBe(23);
  });

  it('counts what is still held at the shutdown deadline as failed shutdown', async () => {
    server.removeAllListeners('request');
    server.on('request', (req) => req.resume()); // never answers
    const f = forwarder(false, new WorkerMetrics(), 5);
    for (const e of many(12)) f.push(e, undefined);
    expect(await f.close(300)).toBe(12);
    expect(f.outcomes.failed.shutdown).toBe(12);
    expect(f.pending()).toBe(0);
  });
});

describe('batchUuids', () => {
  it('reads the uuids of a /batch/ body and nothing from anything else', () => {
    expect(batchUuids('{"api_key":"k","batch":[{"uuid":"a"},{"uuid":"b"},{}]}')).toEqual([
      'a',
      'b',
    ]);
    expect(batchUuids('{"api_key":"k"}')).toEqual([]);
    // A quote inside a string is escaped, so a value cannot pose as the key.
    expect(
      batchUuids('{"batch":[{"uuid":"u1","properties":{"os":"\\"uuid\\":\\"x"}},{"uuid":"u2"}]}'),
    ).toEqual(['u1', 'u2']);
    expect(batchUuids('not json')).toEqual([]);
    expect(batchUuids(new Uint8Array(2))).toEqual([]);
  });
});
