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

const QS = '?measurement_id=G-TEST&api_secret=secret';

function post(url: string, body: unknown) {
  return app.inject({
    method: 'POST',
    url,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'text/plain' },
  });
}

describe('GA4 /mp/collect', () => {
  it('answers 204 and records each event with client_id as distinct_id', async () => {
    const res = await post(`/mp/collect${QS}`, {
      client_id: 'cid-1',
      timestamp_micros: 1_700_000_000_000_000,
      events: [
        { name: 'runtime_run_started', params: { os: 'linux' } },
        { name: 'runtime_run_finished', params: { success: true, duration_us: 12 } },
      ],
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const events = state.store.list({ destination: 'ga4' });
    expect(events.map((e) => [e.event, e.distinct_id, e.measurement_id, e.path])).toEqual([
      ['runtime_run_started', 'cid-1', 'G-TEST', '/mp/collect'],
      ['runtime_run_finished', 'cid-1', 'G-TEST', '/mp/collect'],
    ]);
    expect(events[1]?.properties).toEqual({ success: true, duration_us: 12 });
    expect(events[0]?.timestamp).toBe(1_700_000_000_000_000);
    expect(events.some((e) => e.violations !== undefined)).toBe(false);
    expect(state.stats().ga4).toEqual({
      requests: 1,
      events: 2,
      violations: 0,
      debugRequests: 0,
      dropped: 0,
    });
  });

  it('still answers 204 to invalid events, like GA4, and records their violations', async () => {
    const res = await post(`/mp/collect${QS}`, {
      events: [
        { name: 'fine' },
        { name: 'runtime.run.finished', params: { long: 'x'.repeat(101) } },
      ],
    });
    expect(res.statusCode).toBe(204);
    const [fine, bad] = state.store.list();
    expect(fine?.violations?.map((v) => v.validationCode)).toEqual(['VALUE_REQUIRED']);
    expect(bad?.violations?.map((v) => [v.fieldPath, v.validationCode])).toEqual([
      ['client_id', 'VALUE_REQUIRED'],
      ['events', 'NAME_INVALID'],
      ['events.params', 'VALUE_OUT_OF_BOUNDS'],
    ]);
    expect(state.stats().ga4.violations).toBe(3);
  });

  it('answers 204 to a body that is not JSON and counts it as a violation', async () => {
    expect((await post(`/mp/collect${QS}`, 'not json')).statusCode).toBe(204);
    expect(state.store.list()).toEqual([]);
    expect(state.stats().ga4).toMatchObject({ requests: 1, events: 0, violations: 1 });
  });

  it('flags a missing api_secret on /mp/collect, where GA4 would drop the request', async () => {
    expect(
      (await post('/mp/collect?measurement_id=G-TEST', { client_id: 'c', events: [{ name: 'a' }] }))
        .statusCode,
    ).toBe(204);
    expect(state.store.list()[0]?.violations).toEqual([
      {
        fieldPath: 'api_secret',
        validationCode: 'VALUE_REQUIRED',
        description: expect.any(String),
      },
    ]);
  });

  it('accepts firebase_app_id in place of measurement_id', async () => {
    await post('/mp/collect?firebase_app_id=1:2:android:3&api_secret=s', {
      app_instance_id: 'a',
      events: [{ name: 'a' }],
    });
    expect(state.store.list()[0]).toMatchObject({ distinct_id: 'a' });
    expect(state.store.list()[0]?.violations).toBeUndefined();
  });

  it('discards, with a 204, requests whose api_secret is not the configured one', async () => {
    await app.close();
    ({ app, state } = buildSinkApp({ gaApiSecret: 'right' }));
    const body = { client_id: 'c', events: [{ name: 'a' }] };
    expect((await post('/mp/collect?measurement_id=G-1&api_secret=wrong', body)).statusCode).toBe(
      204,
    );
    expect((await post('/mp/collect?measurement_id=G-1', body)).statusCode).toBe(204);
    expect(state.store.list()).toEqual([]);
    expect((await post('/mp/collect?measurement_id=G-1&api_secret=right', body)).statusCode).toBe(
      204,
    );
    expect(state.store.list()).toHaveLength(1);
    expect(state.stats().ga4).toMatchObject({ requests: 3, events: 1, dropped: 2 });
  });
});

describe('GA4 /debug/mp/collect', () => {
  it('answers an empty validationMessages list for a valid request and records nothing', async () => {
    const res = await post(`/debug/mp/collect${QS}`, {
      client_id: 'c',
      events: [{ name: 'ok', params: { a: 1 } }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ validationMessages: [] });
    expect(state.store.list()).toEqual([]);
    expect(state.stats().ga4).toMatchObject({ requests: 1, debugRequests: 1, events: 0 });
  });

  it("answers with GA4's messages for each broken rule", async () => {
    const res = await post(`/debug/mp/collect${QS}`, {
      events: [{ name: '_badEventName', params: {} }],
    });
    expect(res.json()).toEqual({
      validationMessages: [
        {
          fieldPath: 'client_id',
          description: 'Measurement requires a client_id.',
          validationCode: 'VALUE_REQUIRED',
        },
        {
          fieldPath: 'events',
          description:
            'Event at index: [0] has invalid name [_badEventName]. Names must start with an alphabetic character.',
          validationCode: 'NAME_INVALID',
        },
      ],
    });
  });

  it('reports every validation code the sink knows', async () => {
    const body = {
      client_id: 'c',
      events: [
        { name: 'bad-name' },
        { name: 'session_start' },
        { name: 'ok', params: { s: 'x'.repeat(101), o: { nested: true } } },
        { params: {} },
        ...Array(22).fill({ name: 'filler' }),
      ],
    };
    const res = await post(`/debug/mp/collect${QS}`, body);
    const found = new Set(
      (res.json() as { validationMessages: { validationCode: string }[] }).validationMessages.map(
        (m) => m.validationCode,
      ),
    );
    expect([...found].sort()).toEqual([
      'EXCEEDED_MAX_ENTITIES',
      'NAME_INVALID',
      'NAME_RESERVED',
      'VALUE_INVALID',
      'VALUE_OUT_OF_BOUNDS',
      'VALUE_REQUIRED',
    ]);
  });
});
