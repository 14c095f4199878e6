import { createSocket } from 'node:dgram';
import { INGESTION_KEY_HEADER, ROUTES } from '@runmat-telemetry/schema';
import fc from 'fast-check';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { keysOutsideAllowlist } from '../../src/bench/allowed-keys.js';
import { RssSampler, residentBytes } from '../../src/bench/process-memory.js';
import { freshCanonicalFinished, postJson, settle } from '../../src/harness/index.js';
import { usePipeline } from '../support/use-pipeline.js';
import { type FuzzInput, fuzzInput } from './fuzz-inputs.js';

// Total inputs across the three routes and the UDP port: 10,000 in the normal
// run, FUZZ_RUNS=100000 for `pnpm test:fuzz`. FUZZ_SEED replays a run.
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const IN_FLIGHT = 16;
const MIB = 1024 * 1024;
// The documented answers; a 503 is only ever load shedding with one of these codes.
const STATUSES = new Set([200, 202, 400, 401, 404, 413, 415, 429, 503]);
const SHED_CODES = new Set(['queue_full', 'overloaded', 'shutting_down']);
const PATHS = { ingest: ROUTES.ingest, v1t: ROUTES.ingestV1, batch: ROUTES.batch } as const;

const p = usePipeline({
  env: {
    worker: { RATE_LIMIT_MAX: '0' },
    sink: { SINK_MAX_EVENTS: String(Math.max(20_000, RUNS * 2)) },
  },
});

interface Tally {
  byStatus: Record<number, number>;
  unexpected: string[];
}

function record(tally: Tally, input: FuzzInput, status: number, body: string): void {
  tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
  let code: unknown;
  try {
    code = (JSON.parse(body) as { error?: unknown }).error;
  } catch {
    code = undefined;
  }
  const ok =
    STATUSES.has(status) &&
    (status !== 503 || SHED_CODES.has(String(code))) &&
    (status < 300 || (typeof code === 'string' && /^[a-z_]+$/.test(code)));
  if (!ok && tally.unexpected.length < 10) {
    const shown = Buffer.from(input.body).toString('utf8').slice(0, 200);
    tally.unexpected.push(`${input.target} ${status} ${body.slice(0, 120)} <- ${shown}`);
  }
}

async function sendHttp(pool: Pool, inputs: FuzzInput[], tally: Tally): Promise<number> {
  let next = 0;
  let refusedByClient = 0;
  const lane = async () => {
    for (;;) {
      const input = inputs[next++];
      if (!input) return;
      const headers: Record<string, string> = {};
      if (input.contentType !== undefined) headers['content-type'] = input.contentType;
      if (input.key !== 'none')
        headers[INGESTION_KEY_HEADER] = input.key === 'good' ? p().key : input.key;
      try {
        const res = await pool.request({
          path: PATHS[input.target as keyof typeof PATHS],
          method: 'POST',
          headers,
          body: input.body,
        });
        record(tally, input, res.statusCode, await res.body.text());
      } catch (err) {
        // undici refuses some generated header values before sending: not the server's doing.
        if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG') refusedByClient++;
        else throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return refusedByClient;
}

async function sendUdp(inputs: FuzzInput[]): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (let i = 0; i < inputs.length; i++) {
      const body = inputs[i]?.body as Uint8Array;
      await new Promise<void>((resolve, reject) => {
        socket.send(body, p().endpoints.udpPort, p().endpoints.udpHost, (err) =>
          err ? reject(err) : resolve(),
        );
      });
      // Paced so the kernel buffer, not the forwarder, is never the limit here.
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    socket.close();
  }
}

describe(`fuzzing every entry point (${RUNS} inputs, seed ${SEED})`, () => {
  it(
    'no crash, no undocumented status, nothing outside the allowlist at the sink, memory bounded',
    async () => {
      // Warm up so the baseline RSS includes JIT and pools, as in steady state.
      for (let i = 0; i < 200; i++) {
        expect(
          (await postJson(p().endpoints.httpEndpoint, p().key, freshCanonicalFinished())).status,
        ).toBe(202);
      }
      await settle(p());
      const pids = { worker: p().worker.process.pid, forwarder: p().forwarder.process.pid };
      const baseline = {
        worker: residentBytes(pids.worker),
        forwarder: residentBytes(pids.forwarder),
      };
      expect(baseline.worker, '/proc/<pid>/status is readable').toBeDefined();
      const peaks = {
        worker: new RssSampler(pids.worker),
        forwarder: new RssSampler(pids.forwarder),
      };

      const inputs = fc.sample(fuzzInput, { numRuns: RUNS, seed: SEED });
      const http = inputs.filter((i) => i.target !== 'udp');
      const udp = inputs.filter((i) => i.target === 'udp');
      const tally: Tally = { byStatus: {}, unexpected: [] };
      const pool = new Pool(p().endpoints.workerUrl, { connections: IN_FLIGHT });
      let refused = 0;
      try {
        [refused] = await Promise.all([sendHttp(pool, http, tally), sendUdp(udp)]);
      } finally {
        await pool.close();
      }
      await settle(p(), { timeoutMs: 30_000 });
      const peak = { worker: peaks.worker.stop(), forwarder: peaks.forwarder.stop() };

      console.info(
        `fuzz seed ${SEED}: ${http.length} HTTP (${refused} refused by undici), ${udp.length} UDP; ` +
          `statuses ${JSON.stringify(tally.byStatus)}; peak RSS worker ${(peak.worker / MIB) | 0} MiB, ` +
          `forwarder ${(peak.forwarder / MIB) | 0} MiB`,
      );
      expect(tally.unexpected, tally.unexpected.join('\n')).toEqual([]);
      expect(tally.byStatus[500] ?? 0).toBe(0);
      // Some inputs must have been accepted, or the fuzzer only tested the parser's front door.
      expect((tally.byStatus[202] ?? 0) + (tally.byStatus[200] ?? 0)).toBeGreaterThan(0);

      // Both processes survived and still answer.
      expect(p().worker.process.hasExited || p().forwarder.process.hasExited).toBe(false);
      expect((await fetch(`${p().endpoints.workerUrl}${ROUTES.healthz}`)).status).toBe(200);
      expect((await fetch(`${p().endpoints.healthUrl}${ROUTES.healthz}`)).status).toBe(200);

      const stored = await p().sinkApi.events();
      expect(keysOutsideAllowlist(stored)).toEqual([]);
      expect(JSON.stringify(stored)).not.toContain('FUZZ');
      expect((await p().sinkApi.stats()).ga4.violations).toBe(0);
      expect(Object.prototype).not.toHaveProperty('polluted');

      // Memory: bounded during the run and after it. RSS is V8's high-water
      // mark (it rarely hands pages back) and the worker's dedupe window keeps
      // accepted uuids by design, so the allowance grows with the input count;
      // a leak per request would still blow through it.
      const allowance = (fixed: number) => fixed + RUNS * 1536;
      for (const name of ['worker', 'forwarder'] as const) {
        const start = baseline[name] ?? 0;
        expect(peak[name], `${name} peak RSS`).toBeLessThan(start + allowance(160 * MIB));
        expect(residentBytes(pids[name]) ?? 0, `${name} RSS after`).toBeLessThan(
          start + allowance(96 * MIB),
        );
      }
    },
    Math.max(90_000, RUNS * 3),
  );
});
