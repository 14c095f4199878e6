import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSinkApp } from '../src/app.js';
import type { SinkState } from '../src/sink-state.js';

let app: FastifyInstance;
let state: SinkState;

beforeEach(() => {
  ({ app, state } = buildSinkApp());
});
afterEach(async () => {
  await app.close();
});

function post(url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    payload,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const one = {
  api_key: 'phc_k',
  event: 'runtime.run.started',
  distinct_id: 'd-1',
  properties: { os: 'linux' },
};

describe('PostHog capture routes', () => {
  it.each(['/batch', '/batch/', '/capture', '/capture/', '/e', '/e/', '/i/v0/e', '/i/v0/e/'])(
    'accepts an event on %s and records the path',
    async (url) => {
      const res = await post(url, JSON.stringify(one));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'Ok' });
      expect(state.store.list()).toEqual([
        expect.objectContaining({
          destination: 'posthog',
          path: url,
          event: 'runtime.run.started',
          distinct_id: 'd-1',
        }),
      ]);
    },
  );

  it('reads the batch object shape posthog-node sends, with uuid and timestamp', async () => {
    const body = {
      api_key: 'phc_k',
      batch: [
        {
          event: 'a',
          distinct_id: 'd-1',
          uuid: '0190c5b0-0000-7000-8000-000000000001',
          timestamp: '2026-01-01T00:00:00.000Z',
          type: 'capture',
          library: 'posthog-node',
          properties: { $lib: 'posthog-node', success: true },
        },
        { event: 'b', distinct_id: 'd-2', properties: {} },
      ],
      sent_at: '2026-01-01T00:00:01.000Z',
    };
    expect((await post('/batch/', JSON.stringify(body))).statusCode).toBe(200);
    const [a, b] = state.store.list();
    expect(a).toMatchObject({
      event: 'a',
      distinct_id: 'd-1',
      uuid: '0190c5b0-0000-7000-8000-000000000001',
      timestamp: '2026-01-01T00:00:00.000Z',
      api_key: 'phc_k',
      properties: { $lib: 'posthog-node', success: true },
    });
    expect(b).toMatchObject({ event: 'b', distinct_id: 'd-2', api_key: 'phc_k' });
    expect(b).not.toHaveProperty('uuid');
    expect(state.stats().posthog).toEqual({ requests: 1, events: 2, rejected: 0 });
  });

  it('reads a bare array of events, each carrying its key', async () => {
    const res = await post(
      '/batch',
      JSON.stringify([one, { ...one, event: 'second', distinct_id: 'd-2' }]),
    );
    expect(res.statusCode).toBe(200);
    expect(state.store.list().map((e) => [e.event, e.distinct_id])).toEqual([
      ['runtime.run.started', 'd-1'],
      ['second', 'd-2'],
    ]);
  });

  it('reads a single event with token and properties.distinct_id', async () => {
    const res = await post(
      '/e/',
      JSON.stringify({ token: 'phc_t', event: 'x', properties: { distinct_id: 'p-1' } }),
    );
    expect(res.statusCode).toBe(200);
    expect(state.store.list()[0]).toMatchObject({
      event: 'x',
      distinct_id: 'p-1',
      api_key: 'phc_t',
    });
  });

  it('takes the key from the query string when the body has none', async () => {
    const res = await post(
      '/i/v0/e/?token=phc_q',
      JSON.stringify({ event: 'x', distinct_id: 'd' }),
    );
    expect(res.statusCode).toBe(200);
    expect(state.store.list()[0]?.api_key).toBe('phc_q');
  });

  it('detects gzip by magic bytes whatever the headers say', async () => {
    const gz = gzipSync(
      JSON.stringify({ api_key: 'k', batch: [{ event: 'gz', distinct_id: 'd' }] }),
    );
    expect((await post('/batch/', gz, { 'content-type': 'text/plain' })).statusCode).toBe(200);
    expect((await post('/batch/', gz, { 'content-encoding': 'gzip' })).statusCode).toBe(200);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/batch/',
          payload: gz,
          headers: { 'content-type': '' },
        })
      ).statusCode,
    ).toBe(200);
    expect(state.store.list({ event: 'gz' })).toHaveLength(3);
  });

  it('reads the base64 form body older browser SDKs send', async () => {
    const data = Buffer.from(JSON.stringify(one)).toString('base64');
    const res = await post('/e/', `data=${encodeURIComponent(data)}`, {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(res.statusCode).toBe(200);
    expect(state.store.list()).toHaveLength(1);
  });

  it('answers 401 without a key and records nothing', async () => {
    const res = await post(
      '/batch/',
      JSON.stringify({ batch: [{ event: 'x', distinct_id: 'd' }] }),
    );
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ type: 'authentication_error', code: 'missing_api_key' });
    expect(state.store.list()).toEqual([]);
    expect(state.stats().posthog.rejected).toBe(1);
  });

  it('answers 401 to a key other than the configured one', async () => {
    await app.close();
    ({ app, state } = buildSinkApp({ apiKey: 'phc_right' }));
    const wrong = await post('/batch/', JSON.stringify({ ...one, api_key: 'phc_wrong' }));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ type: 'authentication_error', code: 'invalid_api_key' });
    expect(
      (await post('/batch/', JSON.stringify({ ...one, api_key: 'phc_right' }))).statusCode,
    ).toBe(200);
    expect(state.store.list()).toHaveLength(1);
  });

  it.each([
    ['missing event', { api_key: 'k', batch: [{ distinct_id: 'd' }] }, 'missing_event_name'],
    ['empty event', { api_key: 'k', event: '', distinct_id: 'd' }, 'missing_event_name'],
    ['missing distinct_id', { api_key: 'k', batch: [{ event: 'x' }] }, 'missing_distinct_id'],
    ['empty batch', { api_key: 'k', batch: [] }, 'empty_batch'],
    ['non-object event', ['k'], 'missing_api_key'],
  ])('answers 400/401 for %s and records nothing', async (_name, body, code) => {
    const res = await post('/batch/', JSON.stringify(body));
    expect(res.statusCode).toBe(code === 'missing_api_key' ? 401 : 400);
    expect(res.json()).toMatchObject({ code });
    expect(state.store.list()).toEqual([]);
  });

  it('fails the whole batch when one event lacks a distinct_id', async () => {
    const res = await post(
      '/batch/',
      JSON.stringify({
        api_key: 'k',
        batch: [{ event: 'ok', distinct_id: 'd' }, { event: 'bad' }],
      }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'missing_distinct_id',
      detail: 'event 1 has no distinct_id',
    });
    expect(state.store.list()).toEqual([]);
  });

  it('answers 400 invalid_payload to bad JSON and bad gzip', async () => {
    const bad = await post('/batch/', '{"api_key":');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ type: 'validation_error', code: 'invalid_payload' });
    const badGzip = await post('/batch/', Buffer.from([0x1f, 0x8b, 0x00, 0x01, 0x02]));
    expect(badGzip.statusCode).toBe(400);
    expect(badGzip.json().detail).toMatch(/invalid gzip body/);
    expect((await post('/batch/', '')).statusCode).toBe(400);
  });

  it('answers 404 to GET on a capture path', async () => {
    expect((await app.inject({ method: 'GET', url: '/batch/' })).statusCode).toBe(404);
  });
});
