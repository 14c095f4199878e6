import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSinkApp } from '../src/app.js';
import type { SinkEvent } from '../src/event-store.js';
import {
  compareReleases,
  computeInsights,
  computeReleaseInsights,
  type SinkInsights,
} from '../src/insights.js';
import {
  batchBody,
  KNOWN_MIX_INSIGHTS,
  KNOWN_MIX_RELEASES,
  knownMix,
  type MixEvent,
} from './support/known-mix.js';

let app: FastifyInstance;

beforeEach(() => {
  ({ app } = buildSinkApp({ maxEvents: 100 }));
});
afterEach(async () => {
  await app.close();
});

// Through the real /batch/ route, gzip as posthog-node sends it.
async function post(events: MixEvent[]) {
  const res = await app.inject({
    method: 'POST',
    url: '/batch/',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    payload: gzipSync(JSON.stringify(batchBody('phc_test', events))),
  });
  expect(res.statusCode).toBe(200);
}

async function insights(): Promise<SinkInsights> {
  const res = await app.inject({ method: 'GET', url: '/_sink/insights' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json();
}

function run(props: Record<string, string | number | boolean>, uuid = randomUUID()): MixEvent {
  return {
    event: 'runtime.run.finished',
    distinctId: 'd',
    uuid,
    properties: { session_id: randomUUID(), success: true, ...props },
  };
}

function install(event: string, os: string, arch: string): MixEvent {
  return { event, distinctId: 'd', uuid: randomUUID(), properties: { os, arch } };
}

const ZERO: SinkInsights = {
  events: 0,
  installs: [],
  runs: {
    finished: 0,
    by_kind: {},
    jit_enabled: 0,
    jit_used: 0,
    accelerate_enabled: 0,
    gpu_used: 0,
    succeeded: 0,
  },
  failures: { by_stage: {}, by_code: {}, by_component: {}, by_host: {} },
  devices: { by_backend: {}, by_vendor: {} },
};

describe('GET /_sink/insights', () => {
  it('answers zeros in the fixed shape when nothing arrived', async () => {
    expect(await insights()).toEqual(ZERO);
    const res = await app.inject({ method: 'GET', url: '/_sink/insights/releases' });
    expect(res.json()).toEqual({ releases: [] });
  });

  it('answers the known mix exactly, per release too', async () => {
    await post(knownMix());
    const body = await insights();
    expect(body).toEqual(KNOWN_MIX_INSIGHTS);
    // Largest first in every tally, so the JSON reads top-first.
    expect(Object.keys(body.devices.by_backend)).toEqual(['vulkan', 'cuda', 'metal']);
    const res = await app.inject({ method: 'GET', url: '/_sink/insights/releases' });
    expect(res.json()).toEqual(KNOWN_MIX_RELEASES);
  });

  it('counts each uuid once, across requests and routes', async () => {
    const uuid = randomUUID();
    await post([run({ run_kind: 'script' }, uuid), run({ run_kind: 'script' }, uuid)]);
    await post([run({ run_kind: 'script' }, uuid)]);
    const res = await app.inject({
      method: 'POST',
      url: '/capture/',
      payload: { api_key: 'k', event: 'runtime.run.finished', distinct_id: 'd', uuid },
    });
    expect(res.statusCode).toBe(200);
    const body = await insights();
    expect(body.events).toBe(1);
    expect(body.runs.finished).toBe(1);
    // Events without a uuid cannot be told apart: each one counts.
    await app.inject({
      method: 'POST',
      url: '/capture/',
      payload: { api_key: 'k', event: 'other', distinct_id: 'd' },
    });
    await app.inject({
      method: 'POST',
      url: '/capture/',
      payload: { api_key: 'k', event: 'other', distinct_id: 'd' },
    });
    expect((await insights()).events).toBe(3);
  });

  it('ignores GA4 events (the same runs arrive there too)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/mp/collect?measurement_id=G-1&api_secret=s',
      payload: { client_id: 'c', events: [{ name: 'runtime_run_finished', params: {} }] },
    });
    expect(res.statusCode).toBe(204);
    expect(await insights()).toEqual(ZERO);
  });

  it('resets on DELETE /_sink/events', async () => {
    await post(knownMix());
    expect((await insights()).events).toBe(16);
    expect((await app.inject({ method: 'DELETE', url: '/_sink/events' })).statusCode).toBe(200);
    expect(await insights()).toEqual(ZERO);
    const res = await app.inject({ method: 'GET', url: '/_sink/insights/releases' });
    expect(res.json()).toEqual({ releases: [] });
    // A uuid seen before the reset counts again after it.
    await post([run({ run_kind: 'repl' })]);
    expect((await insights()).runs.by_kind).toEqual({ repl: 1 });
  });

  it('counts gpu_used only for gpu_dispatches > 0', async () => {
    await post([
      run({ gpu_dispatches: 3, accelerate_enabled: true }),
      run({ gpu_dispatches: 1 }),
      run({ gpu_dispatches: 0, accelerate_enabled: true }),
      run({ gpu_dispatches: '7' }), // not a number: no evidence of GPU work
      run({ gpu_backend: 'vulkan', gpu_device_vendor: 'AMD' }), // a device, but no dispatches
      run({}),
    ]);
    const body = await insights();
    expect(body.runs.finished).toBe(6);
    expect(body.runs.gpu_used).toBe(2);
    expect(body.runs.accelerate_enabled).toBe(2);
    expect(body.devices).toEqual({ by_backend: { vulkan: 1 }, by_vendor: { AMD: 1 } });
  });

  it('groups installs by os and arch, each step counted', async () => {
    await post([
      install('install_start', 'macos', 'aarch64'),
      install('install_failed', 'macos', 'aarch64'),
      install('install_start', 'macos', 'x86_64'),
      install('install_complete', 'macos', 'x86_64'),
      install('install_start', 'windows', 'x86_64'),
      install('install_start', 'windows', 'x86_64'),
      install('install_complete', 'windows', 'x86_64'),
      { event: 'install_start', distinctId: 'd', uuid: randomUUID(), properties: {} },
      // Not install steps, whatever their properties say.
      run({ os: 'macos', arch: 'aarch64', run_kind: 'install' }),
      { event: 'toString', distinctId: 'd', uuid: randomUUID(), properties: { os: 'x' } },
    ]);
    const body = await insights();
    expect(body.installs).toEqual([
      { os: 'macos', arch: 'aarch64', started: 1, completed: 0, failed: 1 },
      { os: 'macos', arch: 'x86_64', started: 1, completed: 1, failed: 0 },
      { os: 'unknown', arch: 'unknown', started: 1, completed: 0, failed: 0 },
      { os: 'windows', arch: 'x86_64', started: 2, completed: 1, failed: 0 },
    ]);
    expect(body.runs.finished).toBe(1);
    expect(body.events).toBe(10);
  });

  it('buckets failures of success:false runs only; a missing stage is unknown', async () => {
    await post([
      run({ success: false, 'runtime.failure.stage': 'compile', 'runtime.failure.code': 'E1' }),
      run({ success: false }),
      // A success carrying failure fields (it should not) is not a failure.
      run({ success: true, 'runtime.failure.stage': 'runtime', 'runtime.failure.code': 'E2' }),
      run({
        success: false,
        'runtime.failure.stage': 'hir',
        'runtime.failure.component': 'name_resolution',
        'runtime.failure.host': 'wasm',
      }),
    ]);
    const body = await insights();
    expect(body.runs.succeeded).toBe(1);
    expect(body.failures).toEqual({
      by_stage: { compile: 1, hir: 1, unknown: 1 },
      by_code: { E1: 1 },
      by_component: { name_resolution: 1 },
      by_host: { wasm: 1 },
    });
    expect(body.runs.by_kind).toEqual({ unknown: 4 });
  });

  it('keeps property values such as __proto__ as plain keys', async () => {
    await post([run({ run_kind: '__proto__', gpu_backend: 'constructor' })]);
    const res = await app.inject({ method: 'GET', url: '/_sink/insights' });
    expect(res.body).toContain('"by_kind":{"__proto__":1}');
    expect(res.json().devices.by_backend).toEqual({ constructor: 1 });
  });

  it('is bounded by the store: evicted events no longer count', async () => {
    const small = buildSinkApp({ maxEvents: 3 });
    try {
      for (let i = 0; i < 5; i++) {
        await small.app.inject({
          method: 'POST',
          url: '/capture/',
          payload: {
            api_key: 'k',
            event: 'runtime.run.finished',
            distinct_id: 'd',
            uuid: randomUUID(),
            properties: { success: true, run_kind: 'script' },
          },
        });
      }
      const res = await small.app.inject({ method: 'GET', url: '/_sink/insights' });
      expect(res.json()).toMatchObject({ events: 3, runs: { finished: 3, succeeded: 3 } });
    } finally {
      await small.app.close();
    }
  });
});

describe('computeInsights', () => {
  const ev = (seq: number, event: string, properties: Record<string, unknown>): SinkEvent => ({
    seq,
    receivedAt: 0,
    destination: 'posthog',
    path: '/batch/',
    event,
    distinct_id: 'd',
    uuid: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    properties,
  });

  it('takes one pass over 10,000 events quickly', () => {
    const events = Array.from({ length: 10_000 }, (_, i) =>
      ev(i, 'runtime.run.finished', {
        success: i % 3 !== 0,
        release: `0.${i % 7}.0`,
        gpu_dispatches: i % 2,
        'runtime.failure.code': `E${i % 50}`,
      }),
    );
    const t0 = performance.now();
    const body = computeInsights(events);
    const elapsed = performance.now() - t0;
    expect(body.runs.finished).toBe(10_000);
    expect(body.runs.gpu_used).toBe(5_000);
    expect(Object.keys(body.failures.by_code)).toHaveLength(50);
    expect(computeReleaseInsights(events).releases.map((r) => r.release)).toEqual(
      Array.from({ length: 7 }, (_, i) => `0.${i}.0`),
    );
    // Generous: a loaded CI machine must not fail it; a quadratic pass would take seconds.
    expect(elapsed).toBeLessThan(2000);
  });

  it('orders releases by their numbers, unknown last', () => {
    const releases = ['unknown', '0.10.0', 'v0.4.1', '0.4.10', '0.4.9', '1.0.0-beta', '1.0.0'];
    expect([...releases].sort(compareReleases)).toEqual([
      'v0.4.1',
      '0.4.9',
      '0.4.10',
      '0.10.0',
      '1.0.0-beta',
      '1.0.0',
      'unknown',
    ]);
  });
});
