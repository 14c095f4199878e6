import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type FakeSink, startFakeSink } from '@runmat-telemetry/fake-sink';
import { CANONICAL_FINISHED_EXAMPLE } from '@runmat-telemetry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type WorkerApp } from '../src/app.js';
import type { MemorySample } from '../src/memory/memory-guard.js';
import { captureApp, KEY, testConfig, uuid } from './helpers.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const WORKER_DIR = fileURLToPath(new URL('..', import.meta.url));
const json = { 'content-type': 'application/json', 'x-telemetry-key': KEY };
const finished = () => ({ ...CANONICAL_FINISHED_EXAMPLE, uuid: uuid() });

let current: WorkerApp | undefined;
let sink: FakeSink | undefined;
afterEach(async () => {
  await current?.app.close();
  current = undefined;
  await sink?.close();
  sink = undefined;
});

describe('memory pressure', () => {
  it('turns /readyz 503 before shedding, and sheds ingest with 503 overloaded + Retry-After past the line', async () => {
    const sample: MemorySample = { rss: 100 * MIB, heapUsed: 40 * MIB };
    const a = captureApp({ MEMORY_LIMIT_MIB: '512' }, { memorySampler: () => sample });
    current = a;
    const ingest = () =>
      a.app.inject({ method: 'POST', url: '/ingest', headers: json, payload: finished() });
    const ready = () => a.app.inject({ method: 'GET', url: '/readyz' });
    expect((await ingest()).statusCode).toBe(202);
    expect((await ready()).statusCode).toBe(200);

    // Past 60% of the budget: not ready, still accepting.
    sample.rss = 320 * MIB;
    a.memory.refresh();
    const notReady = await ready();
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not_ready', error: 'memory_pressure' });
    expect((await ingest()).statusCode).toBe(202);

    // Past 70%: shed before the body is read.
    sample.rss = 370 * MIB;
    a.memory.refresh();
    for (const url of ['/ingest', '/v1/t', '/v1/batch']) {
      const res = await a.app.inject({ method: 'POST', url, headers: json, payload: '{' });
      expect(res.statusCode, url).toBe(503);
      expect(res.json()).toEqual({ error: 'overloaded' });
      expect(res.headers['retry-after']).toBe('1');
    }
    // A heap near V8's old-space limit sheds too, whatever the RSS.
    sample.rss = 100 * MIB;
    sample.heapUsed = 250 * MIB;
    a.memory.refresh();
    expect((await ingest()).statusCode).toBe(503);
    // Probes and metrics still answer.
    expect((await a.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const text = (await a.metricsApp.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain(`runmat_worker_memory_budget_bytes ${512 * MIB}`);
    expect(text).toContain('runmat_worker_memory_pressure 2');
    expect(text).toContain('runmat_worker_events_rejected_total{code="overloaded"} 4');

    // Back under the lines: ready and accepting again.
    sample.heapUsed = 40 * MIB;
    a.memory.refresh();
    expect((await ready()).statusCode).toBe(200);
    expect((await ingest()).statusCode).toBe(202);
    expect(a.sink.events).toHaveLength(3);
  });

  it('bounds each forward queue by bytes: PostHog and GA4 refuse once their bytes are held, and count down as they deliver', async () => {
    sink = await startFakeSink({ apiKey: 'phc_test' });
    // Both destinations stall for 5 s; nothing they hold is delivered meanwhile.
    sink.setFaults({ delayMs: 5000, durationMs: 60_000 });
    const app = buildApp(
      testConfig({
        POSTHOG_HOST: sink.url,
        GA_HOST: sink.url,
        GA_MEASUREMENT_ID: 'G-TEST123',
        GA_API_SECRET: 'ga-secret',
        POSTHOG_FLUSH_INTERVAL_MS: '20',
        GA4_FLUSH_INTERVAL_MS: '20',
        POSTHOG_TIMEOUT_MS: '20000',
        GA4_TIMEOUT_MS: '20000',
        QUEUE_MAX_BYTES: String(MIB),
        QUEUE_CAPACITY: '100000',
      }),
      { logger: false },
    );
    current = app;
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 40 && refused === 0; i++) {
      const events = Array.from({ length: 50 }, () => ({ event: finished() }));
      const res = await app.app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: json,
        payload: { events },
      });
      if (res.statusCode === 503) {
        expect(res.json()).toEqual({ error: 'queue_full' });
        refused++;
      } else accepted += res.json().accepted as number;
    }
    expect(refused).toBe(1);
    const bytes = app.queue.depthBytes();
    // Held bytes are within a batch of the bound, and a finished run costs ~1 kB a destination.
    expect(bytes).toBeLessThanOrEqual(MIB + 50 * 2048);
    expect(bytes).toBeGreaterThan(MIB / 2);
    expect(accepted).toBeGreaterThan(300);
    expect(accepted).toBeLessThan(2000);
    const text = (await app.metricsApp.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/runmat_worker_queue_bytes\{destination="posthog"\} [1-9]/);
    expect(text).toMatch(/runmat_worker_queue_bytes\{destination="ga4"\} [1-9]/);

    sink.clearFaults();
    await expect.poll(() => app.queue.depth(), { timeout: 15_000 }).toBe(0);
    expect(app.queue.depthBytes()).toBe(0);
    const delivered = (d: string) =>
      app.metrics.deliverySources.find((s) => s.outcomes.destination === d)?.outcomes.delivered;
    expect(delivered('posthog')).toBe(accepted);
    expect(delivered('ga4')).toBe(accepted);
  });
});

describe('the image entrypoint', () => {
  // What the container runs: sh bin/worker-entrypoint.sh node dist/server.js.
  const heapLimitMiB = async (env: Record<string, string>) => {
    const { stdout } = await run(
      'sh',
      [
        'bin/worker-entrypoint.sh',
        'node',
        '-e',
        'process.stdout.write(String(require("v8").getHeapStatistics().heap_size_limit / 1048576))',
      ],
      { cwd: WORKER_DIR, env: { PATH: process.env.PATH ?? '', ...env } },
    );
    return Number(stdout);
  };

  it('sets V8 old space to half the budget from MEMORY_LIMIT_MIB, and caps the image semi-space in a small one', async () => {
    const image = '--max-semi-space-size=32';
    // heap_size_limit is the old space plus the young generation (3 semi-spaces).
    expect(await heapLimitMiB({ MEMORY_LIMIT_MIB: '1024', NODE_OPTIONS: image })).toBe(
      512 + 3 * 32,
    );
    expect(await heapLimitMiB({ MEMORY_LIMIT_MIB: '512', NODE_OPTIONS: image })).toBe(256 + 3 * 32);
    expect(await heapLimitMiB({ MEMORY_LIMIT_MIB: '256', NODE_OPTIONS: image })).toBe(128 + 3 * 16);
  });

  it('leaves an operator-set --max-old-space-size alone, and stops on a bad budget', async () => {
    const set = await heapLimitMiB({
      MEMORY_LIMIT_MIB: '256',
      NODE_OPTIONS: '--max-old-space-size=300',
    });
    expect(set).toBeGreaterThanOrEqual(300);
    await expect(heapLimitMiB({ MEMORY_LIMIT_MIB: '12' })).rejects.toMatchObject({
      stderr: expect.stringContaining('invalid MEMORY_LIMIT_MIB'),
    });
  });
});
