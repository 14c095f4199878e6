import { ALLOWED_PROPERTIES } from '@runmat-telemetry/schema';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  freshCanonicalFinished,
  freshCanonicalStarted,
  freshInstallComplete,
  freshLegacyFinished,
  postJson,
  scrapeMetrics,
  sendDatagrams,
  settle,
  sumMetric,
} from '../../src/harness/index.js';
import { usePipeline } from '../support/use-pipeline.js';

// `pnpm test` runs a few hundred cases; `pnpm test:fuzz` sets FUZZ_RUNS=100000.
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const MARKER = 'FUZZLEAK_91c2';
const allowed = new Set<string>(ALLOWED_PROPERTIES);
const BASES = [
  freshCanonicalFinished,
  freshCanonicalStarted,
  freshLegacyFinished,
  freshInstallComplete,
];
const FIELDS = [
  'event_label',
  'uuid',
  'cid',
  'session_id',
  'os',
  'arch',
  'release',
  'run_kind',
  'payload',
];

const pipeline = usePipeline({
  env: {
    worker: { RATE_LIMIT_MAX: '10000000' },
    sink: { SINK_MAX_EVENTS: String(Math.max(10_000, RUNS * 2)) },
  },
});

/** A valid example with random extra fields (always one carrying the marker) and maybe one field replaced. */
const mutatedEvent = fc
  .record({
    base: fc.nat({ max: BASES.length - 1 }),
    extraTop: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    }),
    extraPayload: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), {
      maxKeys: 4,
    }),
    replace: fc.option(fc.tuple(fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 2 }))),
  })
  .map(({ base, extraTop, extraPayload, replace }) => {
    const event = (BASES[base] as () => Record<string, unknown>)();
    Object.assign(event, extraTop, {
      fuzz_note: `${MARKER} ${JSON.stringify(extraTop).slice(0, 40)}`,
    });
    if (typeof event.payload === 'object' && event.payload !== null) {
      Object.assign(event.payload, extraPayload, { fuzz_env: `HOME=/home/${MARKER}` });
    }
    if (replace) event[replace[0]] = replace[1];
    return event;
  });

describe('mutated and random input through the running pipeline', () => {
  it(
    `the worker answers every mutated event with 202 or a stable 4xx code (${RUNS} runs)`,
    async () => {
      let accepted = 0;
      await fc.assert(
        fc.asyncProperty(mutatedEvent, async (event) => {
          const res = await postJson(pipeline().endpoints.httpEndpoint, pipeline().key, event);
          if (res.status === 202) {
            if ((res.body as { status: string }).status === 'accepted') accepted++;
            return;
          }
          expect([400, 413]).toContain(res.status);
          expect((res.body as { error: string }).error).toMatch(/^[a-z_]+$/);
        }),
        { numRuns: RUNS },
      );
      expect(accepted, 'the mutations leave some events valid').toBeGreaterThan(0);

      // Random bytes and mutated JSON over UDP: the forwarder reads them all and stays up.
      const datagrams = fc.sample(
        fc.oneof(
          mutatedEvent.map((e) => JSON.stringify(e)),
          fc
            .uint8Array({ minLength: 1, maxLength: 1400 })
            .map((b) => Buffer.from(b).toString('latin1')),
        ),
        Math.min(RUNS, 2000),
      );
      const metricsBefore = sumMetric(
        await scrapeMetrics(pipeline().endpoints.forwarderMetricsUrl),
        'runmat_forwarder_datagrams_received_total',
      );
      await sendDatagrams(pipeline().endpoints.udpHost, pipeline().endpoints.udpPort, datagrams);
      await expect
        .poll(
          async () =>
            sumMetric(
              await scrapeMetrics(pipeline().endpoints.forwarderMetricsUrl),
              'runmat_forwarder_datagrams_received_total',
            ),
          { timeout: 30_000, message: 'the forwarder to read every datagram' },
        )
        .toBeGreaterThanOrEqual(metricsBefore + datagrams.length);

      await settle(pipeline(), { timeoutMs: 30_000 });
      expect((await fetch(`${pipeline().endpoints.workerUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${pipeline().endpoints.healthUrl}/healthz`)).status).toBe(200);

      const stored = await pipeline().sinkApi.events();
      expect(JSON.stringify(stored)).not.toContain(MARKER);
      for (const e of stored) {
        const extra = Object.keys(e.properties).filter(
          (k) => !k.startsWith('$') && !allowed.has(k),
        );
        if (e.destination === 'posthog') expect(extra, `${e.event} ${e.uuid}`).toEqual([]);
        expect(e.violations ?? [], `${e.destination} ${e.event}`).toEqual([]);
      }
      expect((await pipeline().sinkApi.stats()).ga4.violations).toBe(0);
    },
    Math.max(60_000, RUNS * 5),
  );
});
