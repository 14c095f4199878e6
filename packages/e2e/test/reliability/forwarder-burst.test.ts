import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendPaced } from '../../src/bench/paced-sender.js';
import { RssSampler, residentBytes } from '../../src/bench/process-memory.js';
import { udpSocketDrops } from '../../src/bench/udp-socket-drops.js';
import { freshCanonicalFinished, type Pipeline, startPipeline } from '../../src/harness/index.js';
import { isQuiet, readForwarder } from './counters.js';

const MIB = 1024 * 1024;
const QUEUE_MAX_EVENTS = 2000;
const QUEUE_MAX_BYTES = 4 * MIB;
// Datagrams sent while the worker is frozen: the delivery bound counts the
// in-flight probe too, so the queue takes QUEUE_MAX_EVENTS - 1 of them and the
// rest must be dropped and counted as queue_full.
const BURST = 3500;
// Slow enough that the forwarder reads every datagram on a loaded machine:
// the overload comes from the frozen worker, never from the sender's speed.
const BURST_RATE = 5000;

let p: Pipeline;

beforeAll(async () => {
  p = await startPipeline({
    ga4: false,
    env: {
      worker: { RATE_LIMIT_MAX: '0' },
      forwarder: {
        QUEUE_MAX_EVENTS: String(QUEUE_MAX_EVENTS),
        QUEUE_MAX_BYTES: String(QUEUE_MAX_BYTES),
        FORWARDER_CONCURRENCY: '1',
        BATCH_MAX_EVENTS: '20',
        // The frozen worker must not make the one in-flight request time out
        // and be retried while the burst is measured.
        REQUEST_TIMEOUT_MS: '120000',
      },
      sink: { SINK_MAX_EVENTS: '10000' },
    },
  });
});

afterAll(async () => {
  // A frozen worker would not exit on SIGTERM.
  if (p && !p.worker.process.hasExited) process.kill(p.worker.process.pid, 'SIGCONT');
  await p?.close();
});

const datagram = () => Buffer.from(JSON.stringify(freshCanonicalFinished()));

describe('a burst while the worker holds its replies', () => {
  it('fills the queue exactly, drops and counts the rest, stays bounded and recovers in place', async () => {
    const pid = p.forwarder.process.pid;
    const workerPid = p.worker.process.pid;
    const baselineRss = residentBytes(pid);
    expect(baselineRss, '/proc/<pid>/status is readable').toBeDefined();
    const sinkBefore = (await p.sinkApi.stats()).posthog.events;
    const start = await readForwarder(p);

    // Freeze the worker: its socket still accepts, but nothing is answered.
    process.kill(workerPid, 'SIGSTOP');
    try {
      // One probe datagram becomes the single in-flight batch (concurrency 1)
      // once its batch wait elapses; from then on nothing leaves the queue.
      await sendPaced(p.endpoints.udpHost, p.endpoints.udpPort, 1, 1000, datagram);
      await expect
        .poll(async () => (await readForwarder(p)).inflight, {
          message: 'the probe batch to be in flight',
        })
        .toBe(1);
      const before = await readForwarder(p);
      expect(before.queueEvents).toBe(1); // the probe, in flight
      const kernelBefore = udpSocketDrops(p.endpoints.udpPort) ?? 0;

      const sampler = new RssSampler(pid, 25);
      const burst = await sendPaced(
        p.endpoints.udpHost,
        p.endpoints.udpPort,
        BURST,
        BURST_RATE,
        datagram,
      );
      expect(burst.sendErrors).toBe(0);
      await expect
        .poll(
          async () => {
            const kernel = (udpSocketDrops(p.endpoints.udpPort) ?? 0) - kernelBefore;
            return (await readForwarder(p)).received - before.received + kernel;
          },
          { message: 'every burst datagram read or dropped by the kernel' },
        )
        .toBe(BURST);
      const held = await readForwarder(p);
      const peakRss = sampler.stop();
      const kernelDrops = (udpSocketDrops(p.endpoints.udpPort) ?? 0) - kernelBefore;
      const received = held.received - before.received;
      console.info(
        `burst: ${BURST} at ${BURST_RATE}/s, read ${received}, kernel drops ${kernelDrops}, ` +
          `queue_full ${held.droppedQueueFull - before.droppedQueueFull}, queued ${held.queueEvents}, ` +
          `RSS ${((baselineRss ?? 0) / MIB) | 0} -> peak ${(peakRss / MIB) | 0} MiB`,
      );
      // Nothing left while the worker was frozen, the queue is exactly full,
      // and every datagram beyond it was dropped and counted as queue_full.
      expect(held.forwarded).toBe(start.forwarded);
      expect(held.inflight).toBe(1);
      expect(held.queueEvents).toBe(QUEUE_MAX_EVENTS);
      expect(held.enqueued - before.enqueued).toBe(QUEUE_MAX_EVENTS - 1);
      expect(held.droppedQueueFull - before.droppedQueueFull).toBe(
        received - (QUEUE_MAX_EVENTS - 1),
      );
      expect(held.dropped - before.dropped).toBe(received - (QUEUE_MAX_EVENTS - 1));
      // Memory: the queue's byte bound plus headroom for buffers and GC lag.
      expect(peakRss - (baselineRss ?? 0)).toBeLessThan(QUEUE_MAX_BYTES * 4 + 48 * MIB);
    } finally {
      process.kill(workerPid, 'SIGCONT');
    }

    // Released: the probe and the full queue are delivered, nothing more, nothing less.
    await expect
      .poll(() => isQuiet(p), { timeout: 30_000, message: 'forwarder drained' })
      .toBe(true);
    const drained = await readForwarder(p);
    expect(drained.failed - start.failed).toBe(0);
    expect(drained.forwarded - start.forwarded).toBe(QUEUE_MAX_EVENTS);
    await expect
      .poll(async () => (await p.sinkApi.stats()).posthog.events - sinkBefore, {
        message: 'the sink to hold exactly what was queued',
      })
      .toBe(QUEUE_MAX_EVENTS);

    // Recovery: same process, and a normal rate flows without loss again.
    await sendPaced(p.endpoints.udpHost, p.endpoints.udpPort, 300, 500, datagram);
    await expect
      .poll(async () => (await readForwarder(p)).forwarded - drained.forwarded, {
        timeout: 30_000,
        message: 'the recovery datagrams forwarded',
      })
      .toBe(300);
    const final = await readForwarder(p);
    expect(final.dropped - drained.dropped).toBe(0);
    expect(p.forwarder.process.hasExited).toBe(false);
    expect(p.forwarder.process.pid).toBe(pid);
    expect((await fetch(`${p.endpoints.healthUrl}/readyz`)).status).toBe(200);
  }, 90_000);
});
