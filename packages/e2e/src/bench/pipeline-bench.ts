/**
 * `pnpm bench`: the whole pipeline as real processes on loopback (sink,
 * worker, forwarder, each from its dist/server.js), measured from the
 * sender's side to arrival at the fake sink.
 *
 * - throughput: N events over UDP, then N over HTTP (16 requests in flight),
 *   timed from the first send until the sink has stored all of them;
 * - delivery latency: single events sent one at a time, timed until each is
 *   visible at the sink (dominated by the worker's PostHog flush interval).
 *
 * BENCH_QUICK=1 uses fewer events. The worker's rate limit is raised for the
 * run: the deployed default (1200 per minute per address) would measure the
 * limiter, since every request here comes from 127.0.0.1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import { Pool } from 'undici';
import {
  freshCanonicalFinished,
  type Pipeline,
  REPO_ROOT,
  scrapeMetrics,
  sendDatagrams,
  startPipeline,
  sumMetric,
  waitFor,
} from '../harness/index.js';

const QUICK = process.env.BENCH_QUICK === '1';
const EVENTS = QUICK ? 300 : 3000;
const LATENCY_SAMPLES = QUICK ? 5 : 20;
const HTTP_IN_FLIGHT = 16;

interface Throughput {
  scenario: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  lost: number;
}

interface Latency {
  scenario: string;
  samples: number;
  p50Ms: number;
  maxMs: number;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function posthogCount(p: Pipeline): Promise<number> {
  return (await p.sinkApi.stats()).posthog.events;
}

async function untilStored(p: Pipeline, target: number, timeoutMs: number): Promise<void> {
  await waitFor(async () => (await posthogCount(p)) >= target, {
    timeoutMs,
    intervalMs: 25,
    message: `${target} events at the sink`,
  });
}

async function udpThroughput(p: Pipeline): Promise<Throughput> {
  const before = await posthogCount(p);
  const events = Array.from({ length: EVENTS }, () => freshCanonicalFinished());
  const started = performance.now();
  // Bursts of 100 keep the send loop from outrunning the forwarder's socket buffer.
  for (let i = 0; i < events.length; i += 100) {
    await sendDatagrams(p.endpoints.udpHost, p.endpoints.udpPort, events.slice(i, i + 100));
  }
  let lost = 0;
  try {
    await untilStored(p, before + EVENTS, 60_000);
  } catch {
    lost = before + EVENTS - (await posthogCount(p));
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    scenario: `UDP datagrams -> forwarder -> worker -> sink`,
    events: EVENTS,
    seconds: round(seconds),
    eventsPerSecond: Math.round((EVENTS - lost) / seconds),
    lost,
  };
}

async function httpThroughput(p: Pipeline): Promise<Throughput & { p50Ms: number; p99Ms: number }> {
  const before = await posthogCount(p);
  const bodies = Array.from({ length: EVENTS }, () => JSON.stringify(freshCanonicalFinished()));
  const pool = new Pool(p.endpoints.workerUrl, { connections: HTTP_IN_FLIGHT });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const loop = async () => {
    while (next < bodies.length) {
      const body = bodies[next++] as string;
      const t0 = performance.now();
      const res = await pool.request({
        path: '/v1/t',
        method: 'POST',
        headers: { 'content-type': 'application/json', [INGESTION_KEY_HEADER]: p.key },
        body,
      });
      await res.body.dump();
      if (res.statusCode !== 202) throw new Error(`POST /v1/t answered ${res.statusCode}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: HTTP_IN_FLIGHT }, loop));
  await pool.close();
  let lost = 0;
  try {
    await untilStored(p, before + EVENTS, 60_000);
  } catch {
    lost = before + EVENTS - (await posthogCount(p));
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    scenario: `HTTP POST /v1/t (${HTTP_IN_FLIGHT} in flight) -> worker -> sink`,
    events: EVENTS,
    seconds: round(seconds),
    eventsPerSecond: Math.round((EVENTS - lost) / seconds),
    lost,
    p50Ms: round(pct(0.5)),
    p99Ms: round(pct(0.99)),
  };
}

async function deliveryLatency(p: Pipeline, via: 'udp' | 'http'): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const event = freshCanonicalFinished();
    const t0 = performance.now();
    if (via === 'udp') {
      await sendDatagrams(p.endpoints.udpHost, p.endpoints.udpPort, [event]);
    } else {
      const res = await fetch(p.endpoints.httpEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [INGESTION_KEY_HEADER]: p.key },
        body: JSON.stringify(event),
      });
      await res.arrayBuffer();
    }
    await p.sinkApi.waitForEvents({ destination: 'posthog', distinct_id: event.cid }, 1, {
      intervalMs: 5,
    });
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return {
    scenario: `one event via ${via}, send -> visible at the sink`,
    samples: samples.length,
    p50Ms: round(samples[Math.floor(samples.length / 2)] ?? 0, 1),
    maxMs: round(samples[samples.length - 1] ?? 0, 1),
  };
}

async function main(): Promise<void> {
  const pipeline = await startPipeline({
    env: {
      worker: { RATE_LIMIT_MAX: '10000000' },
      // The sink keeps every event of the run so arrival can be counted.
      sink: { SINK_MAX_EVENTS: String(EVENTS * 4) },
    },
  });
  try {
    const throughput = [await udpThroughput(pipeline), await httpThroughput(pipeline)];
    const latency = [
      await deliveryLatency(pipeline, 'udp'),
      await deliveryLatency(pipeline, 'http'),
    ];
    const worker = await scrapeMetrics(pipeline.endpoints.workerMetricsUrl);
    const forwarder = await scrapeMetrics(pipeline.endpoints.forwarderMetricsUrl);
    const counters = {
      workerAccepted: sumMetric(worker, 'runmat_worker_events_accepted_total'),
      workerForwardFailed: sumMetric(worker, 'runmat_worker_events_forward_failed_total'),
      forwarderDropped: sumMetric(forwarder, 'forwarder_datagrams_dropped_total'),
    };

    console.log(`pipeline bench (${QUICK ? 'quick' : 'full'}): ${EVENTS} events per transport`);
    console.table(throughput);
    console.table(latency);
    console.table([counters]);

    const dir = join(REPO_ROOT, 'packages/e2e/bench-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'pipeline-bench.json');
    writeFileSync(
      file,
      `${JSON.stringify({ date: new Date().toISOString(), quick: QUICK, throughput, latency, counters }, null, 2)}\n`,
    );
    console.log(`written to ${file}`);
  } finally {
    await pipeline.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
