import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FaultSpec,
  freshCanonicalFinished,
  freshCanonicalStarted,
  type Pipeline,
  postJson,
  sendDatagrams,
  startPipeline,
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

const sentSoFar = new Set<string>();

/** Runs one fault case: clean sink, fault set, events sent, all of them at PostHog. */
async function runCase(fault: FaultSpec, faults: number, mayRepeat: boolean): Promise<void> {
  await p.sinkApi.clear();
  const before = await p.sinkApi.stats();
  await p.sinkApi.setFaults(fault);

  const uuids = await sendBoth(10);
  for (const u of uuids) sentSoFar.add(u);
  await expect
    .poll(
      async () => {
        const events = await p.sinkApi.events({ destination: 'posthog' });
        const seen = new Set(events.map((e) => e.uuid));
        return uuids.filter((u) => !seen.has(u));
      },
      { timeout: 20_000, message: 'every uuid at PostHog' },
    )
    .toEqual([]);

  // The whole fault was spent: the pipeline really met it `faults` times.
  const after = await p.sinkApi.stats();
  expect(after.faults.injected - before.faults.injected).toBe(faults);

  const arrived = (await p.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid);
  for (const u of uuids) {
    const copies = arrived.filter((a) => a === u).length;
    if (mayRepeat) expect(copies, u).toBeGreaterThanOrEqual(1);
    else expect(copies, u).toBe(1);
  }
  // A timed-out request of an earlier case may still land late; anything else is a stray.
  expect(arrived.filter((a) => !sentSoFar.has(a ?? ''))).toEqual([]);
}

describe('PostHog fails for a while, then recovers', () => {
  it.each(CASES)(
    '$name: every event answered 2xx reaches PostHog, no loss counted',
    async ({ fault, faults, mayRepeat }) => {
      await expect.poll(() => isQuiet(p), { message: 'pipeline idle before the case' }).toBe(true);
      const failedBefore = (await readWorker(p)).forwardFailed;
      await runCase(fault, faults, mayRepeat);
      await expect.poll(() => isQuiet(p), { message: 'pipeline idle after recovery' }).toBe(true);
      expect((await readWorker(p)).forwardFailed - failedBefore).toBe(0);
    },
    30_000,
  );

  // Runs after the others: it checks the worker's counters as the file leaves them.
  it('413 payload too large: posthog-node halves the batch and every event arrives once', async () => {
    await expect.poll(() => isQuiet(p), { message: 'pipeline idle before the case' }).toBe(true);
    await runCase({ status: 413, count: 1 }, 1, false);
  }, 30_000);

  // posthog-node re-sends a 413'd batch in halves; the worker counts those
  // events once, when a half is delivered, never as failed.
  it('413 payload too large: the worker counts no loss', async () => {
    await expect
      .poll(async () => (await readWorker(p)).queueDepth, {
        message: 'worker done with the 413 batch',
      })
      .toBeLessThanOrEqual(0);
    const w = await readWorker(p);
    expect(w.forwardFailed).toBe(0);
    expect(w.queueDepth).toBe(0);
  });
});
