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
  toPostHogEvent,
} from '@runmat-telemetry/schema';
import type { FastifyBaseLogger } from 'fastify';
import { PostHog } from 'posthog-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../metrics.js';
import { PostHogForwarder, WireArena } from './posthog-forwarder.js';

interface Captured {
  headers: IncomingMessage['headers'];
  body: { api_key: string; sent_at: string; batch: Array<Record<string, unknown>> };
}

let server: Server;
let host = '';
let captured: Captured[] = [];

beforeEach(async () => {
  captured = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      captured.push({ headers: req.headers, body: JSON.parse(raw.toString('utf8')) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":1}');
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

function forwarder(gzip: boolean, metrics = new WorkerMetrics()) {
  return new PostHogForwarder({
    apiKey: 'phc_unit',
    host,
    batchSize: 10,
    flushIntervalMs: 20,
    timeoutMs: 2000,
    retries: 1,
    retryDelayMs: 10,
    gzip,
    concurrency: 1,
    metrics,
    log: silent,
  });
}

/** What stock posthog-node sends for the same events through its public capture API. */
async function stockBatch(): Promise<Array<Record<string, unknown>>> {
  const client = new PostHog('phc_unit', { host, flushAt: 100, disableGeoip: true });
  for (const e of events) {
    const { event, distinct_id, uuid, timestamp, properties } = toPostHogEvent(e);
    client.capture({
      event,
      distinctId: distinct_id,
      uuid,
      timestamp: new Date(timestamp),
      properties,
    });
  }
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
    // And that is the schema's mapping plus posthog-node's library properties.
    for (const [i, e] of events.entries()) {
      const mapped = toPostHogEvent(e);
      expect(request?.body.batch[i]).toMatchObject({
        ...mapped,
        properties: { ...mapped.properties, $lib: 'posthog-node', $is_server: true },
      });
    }
    const forwarded = (await metrics.forwarded.get()).values[0]?.value;
    expect(forwarded).toBe(events.length);
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
    expect((await metrics.forwardFailed.get()).values[0]?.value).toBe(1);
    f.push(events[1]!, undefined);
    expect(await f.close(2000)).toBe(0);
    expect(captured.flatMap((c) => c.body.batch)).toHaveLength(1);
  });
});

describe('WireArena', () => {
  it('returns each text as its own UTF-8 bytes, across chunk boundaries', () => {
    const arena = new WireArena(64);
    const texts = [
      '{"a":1}',
      'é 中 😀 \u2028',
      'x'.repeat(20),
      'y'.repeat(21),
      'z'.repeat(30),
      'big'.repeat(40),
    ];
    const out = texts.map((t) => arena.write(t));
    expect(out.map((b) => b.toString('utf8'))).toEqual(texts);
    // Writing more never changes what was handed out earlier.
    for (let i = 0; i < 50; i++) arena.write(`filler ${i}`);
    expect(out.map((b) => b.toString('utf8'))).toEqual(texts);
  });
});
