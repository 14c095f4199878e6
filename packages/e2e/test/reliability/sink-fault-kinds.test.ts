import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultSpec,
  freshCanonicalFinished,
  freshCanonicalStarted,
  type Pipeline,
  postJson,
  sendDatagrams,
  startPipeline,
  waitFor,
} from '../../src/harness/index.js';
import { isQuiet, readWorker } from './counters.js';

// test/faults covers a plain 500 outage; this walks every way PostHog can
// fail a request and checks that a short spell of each loses nothing that
// was answered 2xx.
let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({
    ga4: false,
    env: {
      worker: {
        POSTHOG_RETRIES: '8',
        POSTHOG_RETRY_DELAY_MS: '150',
        POSTHOG_TIMEOUT_MS: '400',
        POSTHOG_FLUSH_INTERVAL_MS: '50',
        POSTHOG_BATCH_SIZE: '10',
      },
    },
  });
});

afterAll(async () => {
  await p?.close();
});

/** Sends `n` events over HTTP (each must get 202) and `n` over UDP; returns their uuids. */
async function sendBoth(n: number): Promise<string[]> {
  const uuids: string[] = [];
  const datagrams: object[] = [];
  for (let i = 0; i < n; i++) {
    const viaHttp = i % 2 === 0 ? freshCanonicalFinished() : freshCanonicalStarted();
    const res = await postJson(p.endpoints.httpEndpoint, p.key, viaHttp);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    uuids.push(viaHttp.uuid);
    const viaUdp = freshCanonicalFinished();
    datagrams.push(viaUdp);
    uuids.push(viaUdp.uuid);
  }
  await sendDatagrams(p.endpoints.udpHost, p.endpoints.udpPort, datagrams);
  return uuids;
}

interface Case {
  name: string;
  fault: FaultSpec;
  faults: number;
  /** A timed-out request may still have been stored: PostHog dedupes it by uuid. */
  mayRepeat: boolean;
}

const CASES: Case[] = [
  { name: '503 with Retry-After', fault: { status: 503, count: 3 }, faults: 3, mayRepeat: false },
  { name: '429 with Retry-After', fault: { status: 429, count: 3 }, faults: 3, mayRepeat: false },
  { name: '500', fault: { status: 500, count: 3 }, faults: 3, mayRepeat: false },
  { name: 'dropped connections', fault: { drop: true, count: 3 }, faults: 3, mayRepeat: false },
  { name: 'timeouts', fault: { delayMs: 1200, count: 2 }, faults: 2, mayRepeat: true },
];

describe('PostHog fails for a while, then recovers', () => {
  it.each(CASES)(
    '$name: every event answered 2xx reaches PostHog',
    async ({ fault, faults, mayRepeat }) => {
      await waitFor(() => isQuiet(p), { message: 'pipeline idle before the case' });
      await p.sinkApi.clear();
      const before = await p.sinkApi.stats();
      const failedBefore = (await readWorker(p)).forwardFailed;
      await p.sinkApi.setFaults(fault);

      const uuids = await sendBoth(10);
      await waitFor(
        async () => {
          const seen = new Set(
            (await p.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid),
          );
          return uuids.every((u) => seen.has(u));
        },
        { timeoutMs: 20_000, message: 'every uuid at PostHog' },
      );
      await waitFor(() => isQuiet(p), { message: 'pipeline idle after recovery' });

      const after = await p.sinkApi.stats();
      // The whole fault was spent: the pipeline really met it `faults` times.
      expect(after.faults.injected - before.faults.injected).toBe(faults);
      expect((await readWorker(p)).forwardFailed - failedBefore).toBe(0);

      const arrived = (await p.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid);
      for (const u of uuids) {
        const copies = arrived.filter((a) => a === u).length;
        if (mayRepeat) expect(copies, u).toBeGreaterThanOrEqual(1);
        else expect(copies, u).toBe(1);
      }
      expect(arrived.filter((a) => !uuids.includes(a ?? ''))).toEqual([]);
    },
    30_000,
  );
});
