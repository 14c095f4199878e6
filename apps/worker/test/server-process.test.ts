import { fileURLToPath } from 'node:url';
import { type FakeSink, startFakeSink } from '@runmat-telemetry/fake-sink';
import { CANONICAL_STARTED_EXAMPLE } from '@runmat-telemetry/schema';
import {
  metric,
  scrapeText,
  spawnProcess,
  startRedis,
  type TestProcess,
} from '@runmat-telemetry/test-kit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY, uuid } from './helpers.js';

// The real process: `node dist/server.js` (turbo builds before testing).
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));

let sink: FakeSink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

/**
 * `node dist/server.js` with `env` (an ephemeral metrics port unless a test
 * names one: files run in parallel). viaEntrypoint: as the image runs it,
 * `sh bin/worker-entrypoint.sh node dist/server.js`.
 */
function run(env: Record<string, string>, viaEntrypoint = false): TestProcess {
  return spawnProcess({
    name: 'worker',
    script: SERVER,
    env: { METRICS_PORT: '0', ...env },
    command: viaEntrypoint ? ['sh', 'bin/worker-entrypoint.sh', process.execPath] : undefined,
  });
}

/** The listening line's addresses, once it is logged. */
async function listening(
  r: TestProcess,
): Promise<{ url: string; port: number; metricsUrl: string }> {
  const rec = await r.waitForRecord((l) => l.message === 'listening', { what: '"listening"' });
  return rec as { url: string; port: number; metricsUrl: string };
}

describe('worker process', () => {
  it('exits 1 naming the bad variable', async () => {
    await using r = run({ INGESTION_KEY: 'k-123456789', POSTHOG_API_KEY: 'x', PORT: 'abc' });
    expect(await r.exited).toEqual({ code: 1, signal: null });
    expect(r.stderrText().trim()).toBe('invalid PORT: expected an integer 0-65535, got "abc"');
    await using missing = run({ POSTHOG_API_KEY: 'x' });
    expect(await missing.exited).toEqual({ code: 1, signal: null });
    expect(missing.stderrText()).toContain('INGESTION_KEY');
    await using star = run({
      INGESTION_KEY: 'k-123456789',
      POSTHOG_API_KEY: 'x',
      CORS_ORIGINS: '*',
    });
    expect(await star.exited).toEqual({ code: 1, signal: null });
    expect(star.stderrText().trim()).toBe(
      'invalid CORS_ORIGINS: "*" is refused: list exact origins such as https://runmat.com, never a wildcard',
    );
  });

  it('answers CORS and takes a beacon from a listed origin, never logging its key', async () => {
    sink = await startFakeSink();
    const origin = 'http://localhost:5173';
    await using r = run({
      PORT: '0',
      HOST: '127.0.0.1',
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'phc_x',
      POSTHOG_HOST: sink.url,
      CORS_ORIGINS: `https://runmat.com,${origin}`,
      LOG_LEVEL: 'trace',
    });
    const { url } = await listening(r);
    const pre = await fetch(`${url}/v1/t`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-methods')).toBe('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type, x-telemetry-key');
    expect(pre.headers.get('access-control-max-age')).toBe('600');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const event = { ...CANONICAL_STARTED_EXAMPLE, uuid: uuid() };
    // What navigator.sendBeacon(url, JSON.stringify(event)) sends.
    const res = await fetch(`${url}/v1/t?k=${KEY}`, {
      method: 'POST',
      headers: { origin, 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    const noOrigin = await fetch(`${url}/v1/t?k=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ ...event, uuid: uuid() }),
    });
    expect(noOrigin.status).toBe(401);
    r.signal('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(sink.events({ destination: 'posthog' }).map((e) => e.uuid)).toEqual([event.uuid]);
    const out = r.stdoutLines().join('\n');
    expect(r.stdoutLines().filter((l) => l.includes('"message":"request"'))).toHaveLength(3);
    expect(out).not.toContain(KEY);
  });

  it('logs one listening line, redacts secrets, drains and exits 0 on SIGTERM', async () => {
    sink = await startFakeSink();
    await using r = run({
      PORT: '0',
      HOST: '127.0.0.1',
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'phc_secret_value',
      POSTHOG_HOST: sink.url,
      POSTHOG_FLUSH_INTERVAL_MS: '60000',
      LOG_LEVEL: 'info',
    });
    const { url } = await listening(r);
    const event = { ...CANONICAL_STARTED_EXAMPLE, uuid: uuid() };
    const res = await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telemetry-key': KEY },
      body: JSON.stringify(event),
    });
    expect(res.status).toBe(202);
    r.signal('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    // Queued with a 60 s flush interval: only the shutdown drain could have sent it.
    expect(sink.events({ destination: 'posthog' }).map((e) => e.uuid)).toEqual([event.uuid]);
    const out = r.stdoutLines().join('\n');
    expect(r.stdoutLines().filter((l) => l.includes('"message":"listening"'))).toHaveLength(1);
    expect(out).toContain('"message":"request"');
    expect(out).not.toContain(KEY);
    expect(out).not.toContain('phc_secret_value');
    expect(out).not.toContain(event.session_id);
  });

  it('serves /metrics on the loopback metrics port only, and logs lines Cloud Logging reads', async () => {
    sink = await startFakeSink();
    await using r = run({
      PORT: '0',
      HOST: '127.0.0.1',
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'phc_x',
      POSTHOG_HOST: sink.url,
      GOOGLE_CLOUD_PROJECT: 'runmat-telemetry-test',
      LOG_LEVEL: 'info',
    });
    const { url, metricsUrl } = await listening(r);
    const metricsAddress = new URL(metricsUrl);
    expect(metricsAddress.hostname).toBe('127.0.0.1');
    expect(metricsAddress.port).not.toBe(new URL(url).port);
    const publicMetrics = await fetch(`${url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.json()).toEqual({ error: 'not_found' });
    const trace = '105445aa7843bc8bf206b12000100000';
    const res = await fetch(`${url}/ingest`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-telemetry-key': KEY,
        'x-cloud-trace-context': `${trace}/1;o=1`,
      },
      body: JSON.stringify({ ...CANONICAL_STARTED_EXAMPLE, uuid: uuid() }),
    });
    expect(res.status).toBe(202);
    expect(
      metric(await scrapeText(metricsUrl), 'runmat_worker_events_accepted_total', {
        route: 'single',
      }),
    ).toBe(1);
    r.signal('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });

    const records = r.stdoutLines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.length).toBeGreaterThan(3);
    for (const rec of records) {
      expect(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']).toContain(rec.severity);
      expect(typeof rec.message).toBe('string');
      expect(rec).not.toHaveProperty('level');
      expect(rec).not.toHaveProperty('msg');
      expect(Number.isNaN(Date.parse(String(rec.time)))).toBe(false);
    }
    const ingestLine = records.find((rec) => rec.message === 'request' && rec.route === '/ingest');
    expect(ingestLine).toMatchObject({
      severity: 'INFO',
      'logging.googleapis.com/trace': `projects/runmat-telemetry-test/traces/${trace}`,
      'logging.googleapis.com/spanId': '0000000000000001',
      'logging.googleapis.com/trace_sampled': true,
    });
    // Lines outside a request carry no trace.
    const listeningLine = records.find((rec) => rec.message === 'listening');
    expect(listeningLine).not.toHaveProperty('logging.googleapis.com/trace');
  });

  it('refuses a metrics port equal to the public port', async () => {
    await using r = run({
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'x',
      PORT: '8080',
      METRICS_PORT: '8080',
    });
    expect(await r.exited).toEqual({ code: 1, signal: null });
    expect(r.stderrText().trim()).toBe(
      'invalid METRICS_PORT: 8080 is the public PORT too; metrics need a port of their own',
    );
  });

  it('shares dedupe through a password-protected Redis without logging the URL, sized from its budget through the entrypoint', async () => {
    sink = await startFakeSink();
    await using redis = await startRedis();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', 'redis-auth-secret-77');
    admin.disconnect();
    await using r = run(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        INGESTION_KEY: KEY,
        POSTHOG_API_KEY: 'phc_x',
        POSTHOG_HOST: sink.url,
        LOG_LEVEL: 'info',
        MEMORY_LIMIT_MIB: '256',
        DEDUPE_REDIS_URL: `redis://:redis-auth-secret-77@127.0.0.1:${redis.port}`,
      },
      true,
    );
    const { url, metricsUrl } = await listening(r);
    await r.waitForRecord((l) => l.message === 'shared dedupe connected', {
      what: 'the shared dedupe connected line',
    });
    const event = { ...CANONICAL_STARTED_EXAMPLE, uuid: uuid() };
    const post = () =>
      fetch(`${url}/ingest`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telemetry-key': KEY },
        body: JSON.stringify(event),
      });
    expect(await (await post()).json()).toMatchObject({ status: 'accepted' });
    const check = new Redis(`redis://:redis-auth-secret-77@127.0.0.1:${redis.port}`);
    expect(await check.exists(`runmat:dedupe:${event.uuid}`)).toBe(1);
    check.disconnect();
    const metrics = await scrapeText(metricsUrl);
    expect(metric(metrics, 'runmat_worker_dedupe_redis_connected')).toBe(1);
    expect(metric(metrics, 'runmat_worker_memory_budget_bytes')).toBe(256 * 1024 * 1024);
    r.signal('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    const budget = r
      .stdoutLines()
      .map((l) => JSON.parse(l) as { message?: string; heapLimitMiB?: number; budgetMiB?: number })
      .find((l) => l.message === 'memory budget');
    // The entrypoint gave V8 128 MiB of old space (half the budget), so no warning.
    expect(budget).toMatchObject({ budgetMiB: 256, source: 'MEMORY_LIMIT_MIB' });
    expect(budget?.heapLimitMiB).toBeLessThan(128 + 160);
    expect(r.stdoutLines().join('\n')).not.toContain('redis-auth-secret-77');
  });
});
