import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildSinkApp } from '../src/app.js';
import type { SinkState } from '../src/sink-state.js';

let app: FastifyInstance;
let state: SinkState;

beforeEach(() => {
  ({ app, state } = buildSinkApp({ maxEvents: 3 }));
});
afterEach(async () => {
  await app.close();
});

async function capture(event: string, distinctId: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/capture/',
    payload: { api_key: 'k', event, distinct_id: distinctId },
  });
  expect(res.statusCode).toBe(200);
}

async function collect(name: string, clientId: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/mp/collect?measurement_id=G-1&api_secret=s',
    payload: { client_id: clientId, events: [{ name }] },
  });
  expect(res.statusCode).toBe(204);
}

async function listed(query = '') {
  const res = await app.inject({ method: 'GET', url: `/_sink/events${query}` });
  expect(res.statusCode).toBe(200);
  return res.json() as {
    events: { seq: number; event: string; destination: string }[];
    evicted: number;
  };
}

describe('GET /_sink/events', () => {
  it('filters by destination, event and distinct_id', async () => {
    await capture('run', 'a');
    await capture('run', 'b');
    await collect('run', 'a');
    expect((await listed('?destination=ga4')).events.map((e) => e.destination)).toEqual(['ga4']);
    expect((await listed('?event=run&distinct_id=a')).events).toHaveLength(2);
    expect((await listed('?destination=posthog&distinct_id=b')).events).toHaveLength(1);
    expect((await listed('?event=nothing')).events).toEqual([]);
  });

  it('returns only events after a seq when asked', async () => {
    await capture('one', 'a');
    await capture('two', 'a');
    expect((await listed('?after=1')).events.map((e) => e.event)).toEqual(['two']);
  });

  it('returns only the newest events up to a limit', async () => {
    await capture('one', 'a');
    await capture('two', 'a');
    await capture('three', 'a');
    expect((await listed('?limit=2')).events.map((e) => e.event)).toEqual(['two', 'three']);
    expect((await listed('?limit=5&after=2')).events.map((e) => e.event)).toEqual(['three']);
    expect((await app.inject({ method: 'GET', url: '/_sink/events?limit=0' })).statusCode).toBe(
      400,
    );
  });

  it('rejects an unknown destination or a bad after with 400', async () => {
    const res = await app.inject({ method: 'GET', url: '/_sink/events?destination=mixpanel' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_query' });
    expect((await app.inject({ method: 'GET', url: '/_sink/events?after=x' })).statusCode).toBe(
      400,
    );
  });

  it('evicts the oldest beyond maxEvents and reports how many', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) await capture(name, 'x');
    const body = await listed();
    expect(body.events.map((e) => e.event)).toEqual(['c', 'd', 'e']);
    expect(body.evicted).toBe(2);
    expect(state.stats()).toMatchObject({ evicted: 2, stored: 3, posthog: { events: 5 } });
  });
});

describe('DELETE /_sink/events and GET /_sink/stats', () => {
  it('reports counts per destination and resets them on delete', async () => {
    await capture('run', 'a');
    await collect('bad-name', 'a');
    const stats = (await app.inject({ method: 'GET', url: '/_sink/stats' })).json();
    expect(stats).toMatchObject({
      posthog: { requests: 1, events: 1 },
      ga4: { requests: 1, events: 1, violations: 1 },
      evicted: 0,
      faults: { injected: 0 },
      clears: 0,
    });
    const del = await app.inject({ method: 'DELETE', url: '/_sink/events' });
    expect(del.json()).toEqual({ cleared: 2 });
    expect((await listed()).events).toEqual([]);
    const after = (await app.inject({ method: 'GET', url: '/_sink/stats' })).json();
    expect(after).toMatchObject({
      posthog: { requests: 0, events: 0 },
      ga4: { requests: 0, events: 0, violations: 0 },
      clears: 1,
    });
  });
});

describe('/_sink/faults', () => {
  it('sets, shows and clears faults, accepting JSON under any content type', async () => {
    const set = await app.inject({
      method: 'POST',
      url: '/_sink/faults',
      payload: '{"status":503,"count":2}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ faults: [{ status: 503, count: 2, remaining: 2 }] });
    expect((await app.inject({ method: 'GET', url: '/_sink/faults' })).json().faults).toHaveLength(
      1,
    );
    expect((await app.inject({ method: 'DELETE', url: '/_sink/faults' })).json()).toEqual({
      faults: [],
    });
    expect(state.faults.active()).toEqual([]);
  });

  it('answers 400 invalid_fault with a reason, and 400 invalid_json to bad JSON', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/_sink/faults',
      payload: { status: 404 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({
      error: 'invalid_fault',
      message: 'status must be one of 413, 429, 500, 503',
    });
    const notJson = await app.inject({
      method: 'POST',
      url: '/_sink/faults',
      payload: '{status:',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toEqual({ error: 'invalid_json' });
  });

  it('never applies faults to the inspection routes', async () => {
    state.faults.set({ status: 500, durationMs: 60_000 });
    expect((await app.inject({ method: 'GET', url: '/_sink/stats' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/_sink/events' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
    expect(state.faults.injected).toBe(0);
  });
});

describe('the page at /', () => {
  it('serves a self-contained HTML page that polls the inspection routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<table>');
    expect(res.body).toContain('/_sink/events?limit=');
    expect(res.body).toContain('/_sink/stats');
    expect(res.body).toContain("tr.className = 'violation'");
    // No external assets: the page must work with no network.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves the page under a CSP that allows exactly its own script and style', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    const csp = String(res.headers['content-security-policy']);
    const hash = (tag: string) => {
      const m = res.body.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`));
      return createHash('sha256')
        .update(m?.[1] ?? '')
        .digest('base64');
    };
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src 'sha256-${hash('script')}'`);
    expect(csp).toContain(`style-src 'sha256-${hash('style')}'`);
    expect(csp).toContain("connect-src 'self'");
    expect(res.body).toContain('/_sink/insights');
    expect(res.body).not.toMatch(/\son[a-z]+=|eval\(|new Function/);
  });

  it('answers 404 not_found to unknown routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found' });
  });
});
