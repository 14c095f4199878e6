import { afterEach, describe, expect, it } from 'vitest';
import { sendPaced } from '../../src/bench/paced-sender.js';
import {
  freshCanonicalFinished,
  type Pipeline,
  postJson,
  startPipeline,
} from '../../src/harness/index.js';
import { isQuiet, mapLimit, readForwarder, readWorker } from './counters.js';

let p: Pipeline | undefined;

afterEach(async () => {
  await p?.close();
  p = undefined;
});

const WORKER_ENV = { RATE_LIMIT_MAX: '0', POSTHOG_FLUSH_INTERVAL_MS: '50' };
// Retry for long enough to outlive a worker restart; the queue holds the whole run.
const FORWARDER_ENV = {
  QUEUE_MAX_EVENTS: '20000',
  RETRY_BASE_MS: '50',
  RETRY_MAX_MS: '250',
  RETRY_MAX_ELAPSED_MS: '60000',
};

describe('the worker dies under UDP load', () => {
  it('SIGKILL and restart: everything the forwarder queued from the kill on arrives once', async () => {
    const pipeline = await startPipeline({
      ga4: false,
      env: { worker: WORKER_ENV, forwarder: FORWARDER_ENV, sink: { SINK_MAX_EVENTS: '20000' } },
    });
    p = pipeline;
    const events = Array.from({ length: 3000 }, () => freshCanonicalFinished());
    // Index of the first datagram sent once the old worker is gone.
    let killedAt = -1;
    let sentSoFar = 0;
    const load = sendPaced(
      pipeline.endpoints.udpHost,
      pipeline.endpoints.udpPort,
      events.length,
      1500,
      (i) => {
        sentSoFar = i + 1;
        return Buffer.from(JSON.stringify(events[i]));
      },
    );

    await expect.poll(() => sentSoFar, { message: 'load under way' }).toBeGreaterThanOrEqual(600);
    const oldWorker = pipeline.worker.process;
    // Freeze it first, so what it acknowledged and what reached PostHog can be
    // read at one instant: only the difference can be lost to the kill.
    process.kill(oldWorker.pid, 'SIGSTOP');
    const ackedAtKill = (await readForwarder(pipeline)).forwarded;
    const deliveredAtKill = (await pipeline.sinkApi.stats()).posthog.events;
    oldWorker.child.kill('SIGKILL');
    const exit = await oldWorker.exited;
    killedAt = sentSoFar;
    expect(exit.signal).toBe('SIGKILL');

    // Keep the worker down for a while so the forwarder has to hold and retry.
    await expect
      .poll(async () => (await readForwarder(pipeline)).queueEvents, {
        message: 'the forwarder to buffer while the worker is down',
      })
      .toBeGreaterThan(100);
    await pipeline.startWorker();
    const result = await load;
    expect(result.sendErrors).toBe(0);

    await expect
      .poll(() => isQuiet(pipeline), { timeout: 30_000, message: 'forwarder drained' })
      .toBe(true);
    const f = await readForwarder(pipeline);
    expect(f.received).toBe(events.length);
    expect(f.dropped).toBe(0);
    expect(f.failed).toBe(0);
    expect(f.retries).toBeGreaterThan(0);

    const arrived = (await pipeline.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid);
    const counts = new Map<string, number>();
    for (const u of arrived) counts.set(u ?? '', (counts.get(u ?? '') ?? 0) + 1);
    const after = events.slice(killedAt);
    const missingAfter = after.filter((e) => counts.get(e.uuid) !== 1);
    expect(missingAfter.map((e) => e.uuid)).toEqual([]);
    // Nothing arrives twice, even events the forwarder re-sent after the kill.
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
    // What SIGKILL can lose: events the old worker had acknowledged but not yet
    // handed to PostHog when it died; nothing it had not acknowledged.
    const lostBefore = events.slice(0, killedAt).filter((e) => !counts.has(e.uuid)).length;
    console.info(
      `worker kill: ${ackedAtKill} acknowledged, ${deliveredAtKill} at PostHog, ${lostBefore} lost`,
    );
    expect(lostBefore).toBeLessThanOrEqual(ackedAtKill - deliveredAtKill);
  }, 60_000);

  it('SIGTERM: every event the worker accepted reaches PostHog before it exits', async () => {
    const pipeline = await startPipeline({
      ga4: false,
      env: { worker: WORKER_ENV, forwarder: FORWARDER_ENV, sink: { SINK_MAX_EVENTS: '20000' } },
    });
    p = pipeline;
    // A slow PostHog makes sure events are still queued when the signal lands.
    await pipeline.sinkApi.setFaults({ delayMs: 300, durationMs: 60_000 });

    const events = Array.from({ length: 1500 }, () => freshCanonicalFinished());
    const accepted: string[] = [];
    let stopping = false;
    const http = mapLimit(events, 8, async (e) => {
      try {
        const res = await postJson(pipeline.endpoints.httpEndpoint, pipeline.key, e);
        if (res.status === 202) accepted.push(e.uuid);
        else expect([503]).toContain(res.status);
      } catch {
        // Refused or reset once the worker is gone: never acknowledged, so not owed.
        expect(stopping).toBe(true);
      }
    });
    const udpEvents = Array.from({ length: 1500 }, () => freshCanonicalFinished());
    const udp = sendPaced(pipeline.endpoints.udpHost, pipeline.endpoints.udpPort, 1500, 1500, (i) =>
      Buffer.from(JSON.stringify(udpEvents[i])),
    );

    await expect
      .poll(() => accepted.length, { message: 'load under way' })
      .toBeGreaterThanOrEqual(300);
    expect((await readWorker(pipeline)).queueDepth).toBeGreaterThan(0);
    stopping = true;
    const exit = await pipeline.worker.process.stop(15_000);
    expect(exit).toEqual({ code: 0, signal: null });
    // Read right after exit, before anything could be retried elsewhere.
    const atExit = new Set(
      (await pipeline.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid),
    );
    const forwarderAcked = (await readForwarder(pipeline)).forwarded;
    await Promise.all([http, udp]);

    expect(accepted.filter((u) => !atExit.has(u))).toEqual([]);
    // The forwarder counts an event forwarded once the worker acknowledged it;
    // each of those, too, was at PostHog when the worker exited.
    const udpUuids = new Set(udpEvents.map((e) => e.uuid));
    expect([...atExit].filter((u) => udpUuids.has(u ?? '')).length).toBe(forwarderAcked);
  }, 60_000);
});
