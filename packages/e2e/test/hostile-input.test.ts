import { MAX_EVENT_BYTES } from '@runmat-telemetry/schema';
import { describe, expect, it } from 'vitest';
import {
  freshCanonicalFinished,
  freshCanonicalStarted,
  freshLegacyFinished,
  postJson,
  sendDatagrams,
  settle,
} from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const pipeline = usePipeline();

// Each injected value carries a marker no legitimate field could contain, so
// finding it anywhere in the sink's stored JSON means it leaked.
const MARKERS = {
  source: 'x = secretMatrix(42); disp(LEAKSRC_7f3a)',
  path: '/home/alice/LEAKPATH_7f3a/thesis.m',
  env: 'AWS_SECRET_ACCESS_KEY=LEAKENV_7f3a',
  stack: 'Error: boom\n    at eval (/srv/LEAKSTACK_7f3a.js:1:1)',
} as const;
const NEEDLES = ['LEAKSRC_7f3a', 'LEAKPATH_7f3a', 'LEAKENV_7f3a', 'LEAKSTACK_7f3a'];

/** An otherwise valid event with the hostile values in fields outside the contract. */
function withHostileExtras<T extends object>(event: T): T {
  const e = event as Record<string, unknown> & { payload: Record<string, unknown> };
  e.source = MARKERS.source;
  e.cwd = MARKERS.path;
  e.payload.env = MARKERS.env;
  e.payload.stack_trace = MARKERS.stack;
  return event;
}

async function sinkJson(): Promise<string> {
  return JSON.stringify(await pipeline().sinkApi.events());
}

describe('hostile input never reaches analytics', () => {
  it.each(['http', 'udp'] as const)(
    'extra fields with source, paths, env vars and a stack trace are stripped (%s)',
    async (transport) => {
      const started = withHostileExtras(freshCanonicalStarted());
      const legacy = withHostileExtras(freshLegacyFinished());
      for (const e of [started, legacy]) {
        expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
      }
      if (transport === 'http') {
        for (const e of [started, legacy]) {
          const res = await postJson(pipeline().endpoints.httpEndpoint, pipeline().key, e);
          expect(res.status, JSON.stringify(res.body)).toBe(202);
        }
      } else {
        await sendDatagrams(pipeline().endpoints.udpHost, pipeline().endpoints.udpPort, [
          started,
          legacy,
        ]);
      }

      // The events themselves still arrive: stripping is per field, not per event.
      const ph = await pipeline().sinkApi.waitForUuid(started.uuid);
      expect(ph.properties.jit_enabled).toBe(true);
      await pipeline().sinkApi.waitForEvents(
        { destination: 'posthog', distinct_id: legacy.cid },
        1,
      );
      await pipeline().sinkApi.waitForEvents({ destination: 'ga4', distinct_id: legacy.cid }, 1);
      await pipeline().sinkApi.waitForEvents({ destination: 'ga4', distinct_id: started.cid }, 1);

      const stored = await sinkJson();
      for (const needle of NEEDLES) expect(stored).not.toContain(needle);
      for (const key of ['source', 'cwd', 'env', 'stack_trace']) {
        expect(stored).not.toContain(`"${key}"`);
      }
    },
  );

  it('hostile values in decoration fields are dropped and the event kept; in identity fields the event is refused', async () => {
    const cases = [
      { field: 'error', value: MARKERS.stack },
      { field: 'runtime.failure.code', value: MARKERS.path },
      { field: 'runtime.failure.component', value: MARKERS.env },
    ];
    const kept: string[] = [];
    for (const { field, value } of cases) {
      const event = freshLegacyFinished() as unknown as {
        cid: string;
        payload: Record<string, unknown>;
      };
      event.payload[field] = value;
      const res = await postJson(pipeline().endpoints.httpEndpoint, pipeline().key, event);
      expect(res.status, `${field}: ${JSON.stringify(res.body)}`).toBe(202);
      kept.push(event.cid);
    }
    const refused = freshCanonicalFinished() as unknown as { session_id: string };
    refused.session_id = MARKERS.path;
    const res = await postJson(pipeline().endpoints.httpEndpoint, pipeline().key, refused);
    expect(res.status).toBe(400);
    expect((res.body as { error: string }).error).toBe('invalid_string');

    const viaUdp = freshCanonicalStarted() as unknown as { os: string; cid: string };
    viaUdp.os = MARKERS.source;
    await sendDatagrams(pipeline().endpoints.udpHost, pipeline().endpoints.udpPort, [viaUdp]);

    for (const cid of [...kept, viaUdp.cid]) {
      const [arrived] = await pipeline().sinkApi.waitForEvents(
        { destination: 'posthog', distinct_id: cid },
        1,
      );
      expect(arrived?.properties.os).not.toBe(MARKERS.source);
    }
    await settle(pipeline());
    const stored = await sinkJson();
    for (const needle of NEEDLES) expect(stored).not.toContain(needle);
  });
});
