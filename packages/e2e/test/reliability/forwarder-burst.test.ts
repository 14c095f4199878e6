import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendPaced } from '../../src/bench/paced-sender.js';
import { RssSampler, residentBytes } from '../../src/bench/process-memory.js';
import { udpSocketDrops } from '../../src/bench/udp-socket-drops.js';
import {
  freshCanonicalFinished,
  type Pipeline,
  startPipeline,
  waitFor,
} from '../../src/harness/index.js';
import { isQuiet, readForwarder } from './counters.js';

const MIB = 1024 * 1024;
const QUEUE_MAX_BYTES = 4 * MIB;
// A burst bigger than this is the sender's limit on 2 shared cores, not the forwarder's.
const MAX_BURST_RATE = 20_000;

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({
    ga4: false,
    env: {
      worker: { RATE_LIMIT_MAX: '0' },
      // One small batch in flight at a time pins the sustainable rate well below
      // what the sender can reach, so 5x of it is a real overload.
      forwarder: {
        QUEUE_MAX_EVENTS: '2000',
        QUEUE_MAX_BYTES: String(QUEUE_MAX_BYTES),
        FORWARDER_CONCURRENCY: '1',
        BATCH_MAX_EVENTS: '20',
      },
      sink: { SINK_MAX_EVENTS: '5000' },
    },
  });
});

afterAll(async () => {
  await p?.close();
});

const datagram = () => Buffer.from(JSON.stringify(freshCanonicalFinished()));

/**
 * Sends `n` datagrams at `rate`, waits until the forwarder holds nothing, and
 * returns the rate at which it delivered (forwarded events per second).
 */
async function deliveredRate(n: number, rate: number): Promise<number> {
  const before = await readForwarder(p);
  const started = performance.now();
  await sendPaced(p.endpoints.udpHost, p.endpoints.udpPort, n, rate, datagram);
  await waitFor(() => isQuiet(p), { timeoutMs: 30_000, intervalMs: 20, message: 'drained' });
  const forwarded = (await readForwarder(p)).forwarded - before.forwarded;
  return (forwarded / (performance.now() - started)) * 1000;
}

describe('a burst at 5x the sustainable rate', () => {
  it('memory stays bounded, every loss is counted, and the forwarder recovers in place', async () => {
    const pid = p.forwarder.process.pid;
    // Sustainable rate: what the path delivers when offered more than it can take.
    const sustainable = await deliveredRate(2000, 20_000);
    const burstRate = Math.min(MAX_BURST_RATE, Math.round(sustainable * 5));
    // Long enough that the overflow (4x the sustainable rate) outgrows the 2000-event queue.
    const burstCount = Math.round(burstRate * 4);

    const baselineRss = residentBytes(pid);
    expect(baselineRss, '/proc/<pid>/status is readable').toBeDefined();
    const before = await readForwarder(p);
    const kernelBefore = udpSocketDrops(p.endpoints.udpPort) ?? 0;
    const sinkBefore = (await p.sinkApi.stats()).posthog.events;

    const sampler = new RssSampler(pid, 25);
    const burst = await sendPaced(
      p.endpoints.udpHost,
      p.endpoints.udpPort,
      burstCount,
      burstRate,
      datagram,
    );
    await waitFor(() => isQuiet(p), { timeoutMs: 30_000, message: 'forwarder drained' });
    const peakRss = sampler.stop();

    const after = await readForwarder(p);
    const kernelDrops = (udpSocketDrops(p.endpoints.udpPort) ?? 0) - kernelBefore;
    const received = after.received - before.received;
    const enqueued = after.enqueued - before.enqueued;
    const dropped = after.dropped - before.dropped;
    const forwarded = after.forwarded - before.forwarded;

    console.info(
      `burst: sustainable ${Math.round(sustainable)}/s, burst ${burstRate}/s x ${burstCount}, ` +
        `received ${received}, kernel drops ${kernelDrops}, queue_full etc. ${dropped}, ` +
        `forwarded ${forwarded}, RSS ${((baselineRss ?? 0) / MIB) | 0} -> peak ${(peakRss / MIB) | 0} MiB`,
    );
    // Memory: the queue's byte bound plus headroom for buffers and GC lag.
    expect(peakRss - (baselineRss ?? 0)).toBeLessThan(QUEUE_MAX_BYTES * 4 + 48 * MIB);
    // Every datagram is accounted for: read, or dropped by the kernel; read
    // ones queued or dropped with a reason; queued ones all forwarded.
    expect(burst.sendErrors).toBe(0);
    expect(received + kernelDrops).toBe(burstCount);
    expect(enqueued + dropped).toBe(received);
    expect(forwarded).toBe(enqueued);
    expect(after.failed - before.failed).toBe(0);
    // The burst really overloaded it, and the overflow was dropped and counted.
    expect(dropped + kernelDrops).toBeGreaterThan(0);
    await waitFor(async () => (await p.sinkApi.stats()).posthog.events - sinkBefore === forwarded, {
      message: 'the sink to hold exactly what was forwarded',
    });

    // Recovery: same process, and a normal rate flows without loss again.
    const recovered = await readForwarder(p);
    await deliveredRate(300, 500);
    const final = await readForwarder(p);
    expect(final.dropped - recovered.dropped).toBe(0);
    expect(final.forwarded - recovered.forwarded).toBe(300);
    expect(p.forwarder.process.hasExited).toBe(false);
    expect(p.forwarder.process.pid).toBe(pid);
    expect((await fetch(`${p.endpoints.healthUrl}/readyz`)).status).toBe(200);
  }, 60_000);
});
