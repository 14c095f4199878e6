import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEventJson } from '@runmat-telemetry/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBrowserTelemetry } from '../src/browser.js';
import { type HttpCollector, startHttpCollector } from './helpers/collectors.js';

let http: HttpCollector;
beforeEach(async () => {
  http = await startHttpCollector();
});
afterEach(async () => {
  await http.close();
});

const provider = {
  device: { name: 'Apple M2 Max (Metal)', vendor: 'Apple', backend: 'metal' },
  telemetry: { gpu_wall_ns: 1000, gpu_dispatches: 2, fusion_cache_hits: 1, fusion_cache_misses: 1 },
};

describe('browser entry on a web-standard fetch', () => {
  it('with consent, sends started and finished over HTTP with the key and the host id', async () => {
    const t = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'browser-key',
      telemetryId: 'host-abc',
      release: '0.4.9',
    });
    expect(t.clientId).toBe('host-abc');
    const summary = t
      .startRun({ kind: 'repl', jitEnabled: false, accelerateEnabled: true })
      .finish({
        success: true,
        host: 'wasm',
        counters: { total_executions: 5 },
        provider,
      });
    expect(summary.emitted).toBe(true);
    expect(summary.gpu?.fusionHitRatio).toBe(0.5);
    await t.shutdown();
    expect(http.requests).toHaveLength(2);
    for (const req of http.requests) {
      expect(req.headers['x-telemetry-key']).toBe('browser-key');
      expect(req.headers['content-type']).toBe('application/json');
      const parsed = parseEventJson(req.body);
      expect(parsed.ok).toBe(true);
      expect(JSON.parse(req.body)).toMatchObject({
        cid: 'host-abc',
        os: 'browser',
        arch: 'wasm32',
        run_kind: 'repl',
      });
    }
    const finished = JSON.parse(
      http.requests.find((r) => r.body.includes('finished'))?.body ?? '{}',
    );
    expect(finished.payload).toMatchObject({
      'runtime.failure.host': 'wasm',
      gpu_dispatches: 2,
      fusion_hit_ratio: 0.5,
    });
    expect(t.stats()).toMatchObject({ sent: 2, failed: 0 });
  });

  it('without consent nothing leaves the page, no GPU counters are gathered, and the summary is still returned', async () => {
    const t = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'k',
      telemetryConsent: false,
      telemetryId: 'host-xyz',
    });
    expect(t.clientId).toBe('host-xyz');
    expect(t.deliveryEnabled).toBe(false);
    const summary = t
      .startRun({ kind: 'script' })
      .finish({ success: true, counters: { total_executions: 7 }, provider });
    expect(summary.emitted).toBe(false);
    expect(summary.durationUs).toBeGreaterThanOrEqual(0);
    expect(summary.counters).toEqual({ total_executions: 7 });
    expect(summary.gpu).toBeUndefined();
    await t.shutdown();
    // Control: a consenting instance on the same collector; once it arrives, it must be alone.
    const control = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'k',
      telemetryId: 'control',
    });
    control.startRun({ kind: 'script' });
    await control.shutdown();
    await expect
      .poll(() => http.requests.length, { message: 'the control event' })
      .toBeGreaterThanOrEqual(1);
    expect(http.requests.map((r) => JSON.parse(r.body).cid)).toEqual(['control']);
  });

  it('mints a per-page id when the host gives none, and passes keepalive to fetch', async () => {
    const seen: RequestInit[] = [];
    const t = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'k',
      fetch: (input, init) => {
        seen.push(init ?? {});
        return fetch(input, init);
      },
    });
    expect(t.clientId).toMatch(/^[0-9a-f-]{36}$/);
    t.startRun({ kind: 'script' });
    await t.flush();
    expect(seen[0]?.keepalive).toBe(true);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.mode).toBe('cors');
    expect(seen[0]?.credentials).toBe('omit');
    expect(http.requests).toHaveLength(1);
  });

  it('without a key nothing is sent unless requireIngestionKey is false', async () => {
    const strict = createBrowserTelemetry({ httpEndpoint: http.url });
    expect(strict.deliveryEnabled).toBe(false);
    const relaxed = createBrowserTelemetry({ httpEndpoint: http.url, requireIngestionKey: false });
    relaxed.startRun({ kind: 'script' });
    await relaxed.shutdown();
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]?.headers['x-telemetry-key']).toBeUndefined();
  });

  it('the built browser entry and everything it imports use no node: modules and no Buffer', () => {
    const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/from ['"]node:|require\(|\bBuffer\b/);
      for (const m of text.matchAll(/from '(\.[^']+)'/g)) visit(join(dirname(file), m[1] ?? ''));
      for (const m of text.matchAll(/from '(@runmat-telemetry\/[^']+)'/g))
        expect(m[1]).toBe('@runmat-telemetry/schema/browser');
    };
    visit(join(dist, 'browser.js'));
    expect(seen.size).toBeGreaterThan(3);
  });
});

/** A recording sendBeacon: the URL and the blob's type and text, read back afterwards. */
function beaconRecorder(accept = true) {
  const calls: { url: string; blob: Blob }[] = [];
  const sendBeacon = (url: string, blob: Blob) => {
    calls.push({ url, blob });
    return accept;
  };
  const read = () =>
    Promise.all(
      calls.map(async (c) => ({ url: c.url, type: c.blob.type, body: await c.blob.text() })),
    );
  return { calls, sendBeacon, read };
}

/** Captures the page listeners the instance registers on globalThis, so a test can fire them. */
function capturePageListeners() {
  const listeners = new Map<string, () => void>();
  vi.stubGlobal('addEventListener', (type: string, fn: () => void) => listeners.set(type, fn));
  vi.stubGlobal('removeEventListener', (type: string) => listeners.delete(type));
  return listeners;
}

describe('browser delivery when fetch cannot carry an event', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('without fetch, sends beacons to ?k=<key> with the JSON as text/plain', async () => {
    const beacon = beaconRecorder();
    vi.stubGlobal('fetch', undefined);
    const t = createBrowserTelemetry({
      httpEndpoint: 'http://127.0.0.1:9/v1/t',
      ingestionKey: 'key with/odd&chars',
      telemetryId: 'host-beacon',
      sendBeacon: beacon.sendBeacon,
    });
    expect(t.deliveryEnabled).toBe(true);
    t.startRun({ kind: 'repl' }).finish({ success: true });
    await t.flush();
    const sent = await beacon.read();
    expect(sent).toHaveLength(2);
    for (const b of sent) {
      expect(b.url).toBe('http://127.0.0.1:9/v1/t?k=key%20with%2Fodd%26chars');
      expect(b.type).toBe('text/plain');
      expect(parseEventJson(b.body).ok).toBe(true);
      expect(JSON.parse(b.body).cid).toBe('host-beacon');
    }
    expect(t.stats()).toMatchObject({ sent: 2, beacons: 2, failed: 0 });
  });

  it('appends the key with & when the endpoint already has a query', async () => {
    const beacon = beaconRecorder();
    vi.stubGlobal('fetch', undefined);
    const t = createBrowserTelemetry({
      httpEndpoint: 'http://127.0.0.1:9/v1/t?src=web',
      ingestionKey: 'k1',
      sendBeacon: beacon.sendBeacon,
    });
    t.startRun({ kind: 'script' });
    await t.shutdown();
    expect((await beacon.read())[0]?.url).toBe('http://127.0.0.1:9/v1/t?src=web&k=k1');
  });

  it('a fetch that throws at once (document unloading) falls back to a beacon', async () => {
    const beacon = beaconRecorder();
    const t = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'k',
      fetch: () => {
        throw new TypeError('Failed to execute fetch: document is unloading');
      },
      sendBeacon: beacon.sendBeacon,
    });
    t.startRun({ kind: 'script' });
    await t.flush();
    expect(beacon.calls).toHaveLength(1);
    expect(t.stats()).toMatchObject({ sent: 1, beacons: 1, failed: 0 });
  });

  it('on pagehide, sends the queue with keepalive up to the 64 KiB budget and the rest as beacons', async () => {
    const listeners = capturePageListeners();
    const beacon = beaconRecorder();
    const fetched: RequestInit[] = [];
    const t = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'k',
      queueSize: 1024,
      fetch: (input, init) => {
        fetched.push(init ?? {});
        return fetch(input, init);
      },
      sendBeacon: beacon.sendBeacon,
    });
    expect([...listeners.keys()].sort()).toEqual(['pagehide', 'visibilitychange']);
    // Queued in one task, then the page goes away before the scheduled flush runs.
    const finish = { success: true, counters: { total_executions: 1 }, provider };
    for (let i = 0; i < 150; i++) t.startRun({ kind: 'script' }).finish(finish);
    listeners.get('pagehide')?.();
    await t.flush();
    const keepaliveBytes = fetched
      .filter((f) => f.keepalive)
      .reduce((n, f) => n + Buffer.byteLength(String(f.body)), 0);
    expect(keepaliveBytes).toBeLessThanOrEqual(64 * 1024);
    expect(keepaliveBytes).toBeGreaterThan(60 * 1024);
    expect(fetched.every((f) => f.keepalive)).toBe(true);
    expect(beacon.calls.length).toBeGreaterThan(0);
    expect(fetched.length + beacon.calls.length).toBe(300);
    expect(t.stats()).toMatchObject({ sent: 300, beacons: beacon.calls.length, failed: 0 });
    await t.shutdown();
    expect(listeners.size).toBe(0);
  });

  it('past the keepalive budget while the page is visible, sends a plain fetch (no beacon)', async () => {
    const beacon = beaconRecorder();
    const fetched: RequestInit[] = [];
    const t = createBrowserTelemetry({
      httpEndpoint: http.url,
      ingestionKey: 'k',
      queueSize: 1024,
      flushOnPageHide: false,
      fetch: (input, init) => {
        fetched.push(init ?? {});
        return fetch(input, init);
      },
      sendBeacon: beacon.sendBeacon,
    });
    for (let i = 0; i < 150; i++)
      t.startRun({ kind: 'script' }).finish({ success: true, provider });
    await t.flush();
    expect(beacon.calls).toHaveLength(0);
    expect(fetched.some((f) => f.keepalive === false)).toBe(true);
    expect(t.stats()).toMatchObject({ sent: 300, failed: 0 });
  });

  it('a refused beacon and no fetch counts as failed, never throws', async () => {
    const beacon = beaconRecorder(false);
    vi.stubGlobal('fetch', undefined);
    const t = createBrowserTelemetry({
      httpEndpoint: 'http://127.0.0.1:9/v1/t',
      ingestionKey: 'k',
      sendBeacon: beacon.sendBeacon,
    });
    t.startRun({ kind: 'script' });
    await expect(t.flush()).resolves.toBeUndefined();
    expect(t.stats()).toMatchObject({ sent: 0, failed: 1 });
  });

  it('neither fetch nor sendBeacon: delivery is off, the run API still answers', () => {
    vi.stubGlobal('fetch', undefined);
    const t = createBrowserTelemetry({ ingestionKey: 'k', sendBeacon: false });
    expect(t.deliveryEnabled).toBe(false);
    expect(t.startRun({ kind: 'script' }).finish({ success: true }).emitted).toBe(false);
  });
});

describe('host-facing options', () => {
  it('an id outside the schema bound is replaced by a random one (it would cost every event)', () => {
    const t = createBrowserTelemetry({ telemetryId: 'has spaces/and slashes', ingestionKey: 'k' });
    expect(t.clientId).toMatch(/^[0-9a-f-]{36}$/);
    const long = createBrowserTelemetry({ telemetryId: 'a'.repeat(65), ingestionKey: 'k' });
    expect(long.clientId).not.toBe('a'.repeat(65));
  });

  it('garbage options from plain JS are defaults, never an exception', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: a plain-JS host's mistake
    const t = createBrowserTelemetry(null as any);
    expect(t.consent).toBe(true);
    // biome-ignore lint/suspicious/noExplicitAny: a plain-JS host's mistake
    const u = createBrowserTelemetry({ httpEndpoint: 42, ingestionKey: {}, log: 'x' } as any);
    expect(u.deliveryEnabled).toBe(false);
    await u.shutdown();
    await t.shutdown();
  });
});

describe('browser ids outside secure contexts', () => {
  it('falls back to getRandomValues when crypto.randomUUID is missing', async () => {
    const { browserUuid } = await import('../src/browser.js');
    const real = globalThis.crypto;
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => real.getRandomValues(a) });
    try {
      const ids = new Set(Array.from({ length: 50 }, () => browserUuid()));
      expect(ids.size).toBe(50);
      for (const id of ids)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const t = createBrowserTelemetry({
        httpEndpoint: 'http://127.0.0.1:9/v1/t',
        telemetryConsent: false,
      });
      expect(t.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
