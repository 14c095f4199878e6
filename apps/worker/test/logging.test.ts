import { Writable } from 'node:stream';
import { CANONICAL_STARTED_EXAMPLE } from '@runmat-telemetry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerApp } from '../src/app.js';
import { SEVERITY_BY_LEVEL, traceFields, workerLoggerOptions } from '../src/logging.js';
import { captureApp, KEY, uuid } from './helpers.js';

let current: WorkerApp | undefined;
afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

/** An app whose pino output (at `trace`) is collected as parsed lines. */
function loggedApp(env: Record<string, string> = {}) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  const built = captureApp(env, { logger: { ...workerLoggerOptions('trace'), stream } });
  current = built;
  return { ...built, lines };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('log lines Cloud Logging understands', () => {
  it('maps every pino level to its Cloud Logging severity, with the text as message', () => {
    const { app, lines } = loggedApp();
    const expected = {
      trace: 'DEBUG',
      debug: 'DEBUG',
      info: 'INFO',
      warn: 'WARNING',
      error: 'ERROR',
      fatal: 'CRITICAL',
    };
    expect(SEVERITY_BY_LEVEL).toEqual(expected);
    for (const level of Object.keys(expected) as (keyof typeof expected)[]) {
      app.log[level](`a ${level} line`);
    }
    const byText = Object.fromEntries(lines.map((l) => [l.message, l]));
    for (const [level, severity] of Object.entries(expected)) {
      const line = byText[`a ${level} line`];
      expect(line, level).toMatchObject({ severity, message: `a ${level} line` });
      expect(line, level).not.toHaveProperty('level');
      expect(line, level).not.toHaveProperty('msg');
      // RFC 3339, which Cloud Logging takes as the entry's timestamp.
      expect(String(line?.time), level).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it.each([
    [
      'X-Cloud-Trace-Context',
      { 'x-cloud-trace-context': `${TRACE}/12345678901234567890;o=1` },
      { spanId: 'ab54a98ceb1f0ad2', sampled: true },
    ],
    [
      'traceparent',
      { traceparent: `00-${TRACE}-00f067aa0ba902b7-00` },
      { spanId: '00f067aa0ba902b7', sampled: false },
    ],
  ])(
    'writes the request trace from %s on every line the request logs',
    async (_name, headers, span) => {
      const { app, lines } = loggedApp({ GOOGLE_CLOUD_PROJECT: 'runmat-telemetry-test' });
      app.get('/log-probe', (request, reply) => {
        request.log.warn('inside the request');
        return reply.send({ ok: true });
      });
      await app.inject({ method: 'GET', url: '/log-probe', headers });
      const ingest = await app.inject({
        method: 'POST',
        url: '/ingest',
        headers: { ...headers, 'content-type': 'application/json', 'x-telemetry-key': KEY },
        payload: { ...CANONICAL_STARTED_EXAMPLE, uuid: uuid() },
      });
      expect(ingest.statusCode).toBe(202);
      const traced = {
        'logging.googleapis.com/trace': `projects/runmat-telemetry-test/traces/${TRACE}`,
        'logging.googleapis.com/spanId': span.spanId,
        'logging.googleapis.com/trace_sampled': span.sampled,
      };
      const inside = lines.filter((l) => l.message === 'inside the request');
      expect(inside).toHaveLength(1);
      expect(inside[0]).toMatchObject({ severity: 'WARNING', ...traced });
      const requests = lines.filter((l) => l.message === 'request');
      expect(requests).toHaveLength(2);
      for (const line of requests) expect(line).toMatchObject({ severity: 'INFO', ...traced });
    },
  );

  it('leaves the trace out of requests without one, and the project prefix out without a project', async () => {
    const { app, lines } = loggedApp();
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-cloud-trace-context': `${TRACE}/1;o=1` },
    });
    const [plain, traced] = lines.filter((l) => l.message === 'request');
    expect(plain).not.toHaveProperty('logging.googleapis.com/trace');
    expect(traced).toMatchObject({
      'logging.googleapis.com/trace': TRACE,
      'logging.googleapis.com/spanId': '0000000000000001',
    });
  });
});

describe('traceFields', () => {
  it('reads both header forms and prefers traceparent', () => {
    expect(traceFields({ 'x-cloud-trace-context': TRACE }, 'p-123456')).toEqual({
      'logging.googleapis.com/trace': `projects/p-123456/traces/${TRACE}`,
    });
    expect(
      traceFields(
        {
          traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
          'x-cloud-trace-context': `${'1'.repeat(32)}/1;o=0`,
        },
        undefined,
      ),
    ).toEqual({
      'logging.googleapis.com/trace': TRACE,
      'logging.googleapis.com/spanId': '00f067aa0ba902b7',
      'logging.googleapis.com/trace_sampled': true,
    });
  });

  it('ignores malformed, all-zero and oversized headers', () => {
    for (const headers of [
      {},
      { traceparent: 'garbage' },
      { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` },
      { traceparent: `00-${TRACE}-${'0'.repeat(16)}-01` },
      { traceparent: `ff-${TRACE}-00f067aa0ba902b7-01` },
      { 'x-cloud-trace-context': 'not-a-trace/1;o=1' },
      { 'x-cloud-trace-context': `${'0'.repeat(32)}/1;o=1` },
      { 'x-cloud-trace-context': `${TRACE}/${'9'.repeat(300)}` },
    ]) {
      expect(traceFields(headers, 'p-123456'), JSON.stringify(headers)).toBeUndefined();
    }
    // A span id beyond uint64 is dropped; the trace is kept.
    expect(
      traceFields({ 'x-cloud-trace-context': `${TRACE}/99999999999999999999` }, undefined),
    ).toEqual({ 'logging.googleapis.com/trace': TRACE });
  });
});
