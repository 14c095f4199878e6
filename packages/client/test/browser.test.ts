import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEventJson } from '@runmat-telemetry/schema';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBrowserTelemetry } from '../src/browser.js';
import { type HttpCollector, startHttpCollector, waitUntil } from './helpers/collectors.js';

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
    await waitUntil(() => http.requests.length >= 1, 'the control event');
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
