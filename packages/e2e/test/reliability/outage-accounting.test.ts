import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendPaced } from '../../src/bench/paced-sender.js';
import { udpSocketDrops } from '../../src/bench/udp-socket-drops.js';
import {
  freshCanonicalFinished,
  type Pipeline,
  postJson,
  startPipeline,
} from '../../src/harness/index.js';
import { isQuiet, mapLimit, readForwarder, readWorker } from './counters.js';

// Buffers as small as the apps allow, so a 4 s PostHog outage outlasts both:
// the worker's queue (1000, its minimum) fills and answers 503, the forwarder
// gives up on those batches after 1 s and its own 300-event queue overflows.
const WORKER_ENV = {
  QUEUE_CAPACITY: '1000',
  POSTHOG_BATCH_SIZE: '100',
  POSTHOG_RETRIES: '2',
  POSTHOG_RETRY_DELAY_MS: '800',
  POSTHOG_FLUSH_INTERVAL_MS: '50',
  RATE_LIMIT_MAX: '0',
};
const FORWARDER_ENV = {
  QUEUE_MAX_EVENTS: '300',
  BATCH_MAX_EVENTS: '100',
  RETRY_BASE_MS: '100',
  RETRY_MAX_MS: '300',
  RETRY_MAX_ELAPSED_MS: '1000',
};
const OUTAGE_MS = 4000;
const HTTP_EVENTS = 800;
const UDP_EVENTS = 3000;

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({
    ga4: false,
    env: {
      worker: WORKER_ENV,
      forwarder: FORWARDER_ENV,
      sink: { SINK_MAX_EVENTS: '20000' },
    },
  });
});

afterAll(async () => {
  await p?.close();
});

describe('a PostHog outage that outlasts every buffer', () => {
  it('each event sent is delivered once or counted lost exactly once', async () => {
    await p.sinkApi.setFaults({ status: 503, durationMs: OUTAGE_MS });
    const kernelBefore = udpSocketDrops(p.endpoints.udpPort) ?? 0;

    const httpUuids = Array.from({ length: HTTP_EVENTS }, () => freshCanonicalFinished());
    const udpEvents = Array.from({ length: UDP_EVENTS }, () => freshCanonicalFinished());
    const [statuses, udp] = await Promise.all([
      mapLimit(
        httpUuids,
        8,
        async (e) => (await postJson(p.endpoints.httpEndpoint, p.key, e)).status,
      ),
      sendPaced(p.endpoints.udpHost, p.endpoints.udpPort, UDP_EVENTS, 3000, (i) =>
        Buffer.from(JSON.stringify(udpEvents[i])),
      ),
    ]);
    expect(udp.sendErrors).toBe(0);

    const http202 = statuses.filter((s) => s === 202).length;
    const http503 = statuses.filter((s) => s === 503).length;
    // Only the documented answers: accepted, or shed because the queue is full.
    expect(http202 + http503).toBe(HTTP_EVENTS);

    // Past the outage: wait until nothing is held anywhere.
    await expect
      .poll(() => isQuiet(p), { timeout: 30_000, message: 'all buffers drained' })
      .toBe(true);

    const f = await readForwarder(p);
    const w = await readWorker(p);
    const kernelDrops = (udpSocketDrops(p.endpoints.udpPort) ?? 0) - kernelBefore;
    const sent = new Set([...httpUuids, ...udpEvents].map((e) => e.uuid));
    const arrived = (await p.sinkApi.events({ destination: 'posthog' })).map((e) => e.uuid ?? '');
    const delivered = arrived.filter((u) => sent.has(u));

    // The outage really outlasted the buffers, at both hops.
    expect(http503).toBeGreaterThan(0);
    expect(f.droppedQueueFull + f.failed).toBeGreaterThan(0);

    // Nothing twice, nothing that was not sent.
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.length).toBe(arrived.length);

    // Forwarder: every datagram read or dropped by the kernel; every read one
    // queued or dropped; every queued one acknowledged or given up on.
    expect(f.received + kernelDrops).toBe(UDP_EVENTS);
    expect(f.enqueued + f.dropped).toBe(f.received);
    expect(f.forwarded + f.duplicate + f.rejected + f.failed).toBe(f.enqueued);
    expect(f.duplicate + f.rejected).toBe(0);

    // Worker: what it acknowledged either reached the sink or is counted failed.
    expect(w.accepted).toBe(http202 + f.forwarded);
    expect(w.forwarded).toBe(delivered.length);
    expect(w.accepted - w.forwardFailed).toBe(delivered.length);

    // And end to end: sent = delivered + every counted loss.
    const counted = http503 + kernelDrops + f.dropped + f.failed + w.forwardFailed;
    expect(delivered.length + counted).toBe(HTTP_EVENTS + UDP_EVENTS);
  }, 60_000);

  it('recovers without a restart: new events flow once the outage is over', async () => {
    const pids = [p.worker.process.pid, p.forwarder.process.pid];
    const event = freshCanonicalFinished();
    const res = await postJson(p.endpoints.httpEndpoint, p.key, event);
    expect(res.status).toBe(202);
    await p.sinkApi.waitForUuid(event.uuid);
    expect([p.worker.process.pid, p.forwarder.process.pid]).toEqual(pids);
    expect(p.worker.process.hasExited || p.forwarder.process.hasExited).toBe(false);
  });
});
