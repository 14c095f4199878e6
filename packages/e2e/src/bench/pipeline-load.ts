import { INGESTION_KEY_HEADER, ROUTES } from '@runmat-telemetry/schema';
import {
  freshCanonicalFinished,
  type Pipeline,
  runClient,
  startPipeline,
  waitFor,
} from '../harness/index.js';
import { bareDgramCeiling, bareFastifyCeiling } from './ceilings.js';
import { type Figure, finishFigure, percentile, round } from './figure.js';
import { httpLoad } from './http-load.js';
import { sendPaced } from './paced-sender.js';
import { RssSampler } from './process-memory.js';
import { udpSocketDrops } from './udp-socket-drops.js';

const MIB = 1024 * 1024;

/** Sizes of one whole-pipeline run. */
export interface LoadPlan {
  httpEvents: number;
  httpInFlight: number;
  udpRates: number[];
  udpSeconds: number;
  clientRuns: number;
}

export const QUICK_PLAN: LoadPlan = {
  httpEvents: 2000,
  httpInFlight: 16,
  udpRates: [2000, 5000],
  udpSeconds: 1,
  clientRuns: 2,
};

export const FULL_PLAN: LoadPlan = {
  httpEvents: 10_000,
  httpInFlight: 16,
  udpRates: [2000, 5000, 10_000, 20_000],
  udpSeconds: 3,
  clientRuns: 5,
};

/** Raw numbers behind the figures, kept in report.json for whoever wants more. */
export interface LoadDetails {
  http: Record<string, unknown>;
  udp: Record<string, unknown>[];
  client: Record<string, unknown>;
  ceilings: Record<string, unknown>;
  peakRssMiB: { worker: number; forwarder: number };
}

const posthogCount = async (p: Pipeline) => (await p.sinkApi.stats()).posthog.events;

/** Waits until the sink has `target` PostHog events; returns how long that took, or undefined if never. */
async function untilArrived(
  p: Pipeline,
  target: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const t0 = performance.now();
  try {
    await waitFor(async () => (await posthogCount(p)) >= target, { timeoutMs, intervalMs: 20 });
    return performance.now() - t0;
  } catch {
    return undefined;
  }
}

/**
 * Runs the whole pipeline as real processes (sink, worker, forwarder from
 * their dist/server.js) and the client CLI, measures HTTP and UDP load at
 * fixed sizes and rates, and the bare-server ceilings in the same run.
 */
export async function runPipelineLoad(
  plan: LoadPlan,
): Promise<{ figures: Figure[]; details: LoadDetails }> {
  const figures: Figure[] = [];
  const add = (f: Omit<Figure, 'source'>) =>
    figures.push(finishFigure({ source: 'pipeline', ...f }));

  const bodies = Array.from({ length: plan.httpEvents }, () =>
    JSON.stringify(freshCanonicalFinished()),
  );
  const ceilingBodies = Array.from({ length: plan.httpEvents }, () =>
    JSON.stringify(freshCanonicalFinished()),
  );
  const datagram = Buffer.from(JSON.stringify(freshCanonicalFinished()));
  const httpCeiling = await bareFastifyCeiling(ceilingBodies, plan.httpInFlight);
  const maxRate = Math.max(...plan.udpRates);
  // Offered well above the highest pipeline rate, so the reader is the limit.
  const dgramCeiling = await bareDgramCeiling(datagram, Math.max(20_000, maxRate * 2), 100_000);

  const p = await startPipeline({
    env: {
      // Every request comes from 127.0.0.1: the deployed per-address limit would measure the limiter.
      worker: { RATE_LIMIT_MAX: '0' },
      sink: { SINK_MAX_EVENTS: '50000' },
    },
  });
  const rss = {
    worker: new RssSampler(p.worker.process.pid),
    forwarder: new RssSampler(p.forwarder.process.pid),
  };
  try {
    // HTTP: POST /v1/t with the real key, then wait for every event at PostHog.
    const before = await posthogCount(p);
    const http = await httpLoad(
      p.endpoints.workerUrl,
      ROUTES.ingestV1,
      { 'content-type': 'application/json', [INGESTION_KEY_HEADER]: p.key },
      bodies,
      plan.httpInFlight,
      202,
    );
    const drainMs = await untilArrived(p, before + http.ok, 60_000);
    const arrived = (await posthogCount(p)) - before;
    const method = `${plan.httpEvents} canonical events, ${plan.httpInFlight} in flight over keep-alive, undici`;
    add({
      name: 'HTTP POST /v1/t accepted',
      value: http.requestsPerSecond,
      unit: 'req/s',
      target: 1500,
      direction: 'higher',
      ceiling: httpCeiling.requestsPerSecond,
      method: `${method}; ceiling: bare Fastify answering 202 to the same POST`,
    });
    add({
      name: 'HTTP POST /v1/t latency p99',
      value: http.p99Ms,
      unit: 'ms',
      target: 50,
      direction: 'lower',
      ceiling: httpCeiling.p99Ms,
      method,
    });
    add({
      name: 'HTTP accepted but not at PostHog',
      value: http.ok - arrived,
      unit: 'events',
      target: 0,
      direction: 'lower',
      method: 'events answered 202 minus events the sink stored, after the drain',
    });
    add({
      name: 'HTTP drain after last response',
      value: round(drainMs ?? Number.POSITIVE_INFINITY, 0),
      unit: 'ms',
      target: 2000,
      direction: 'lower',
      method: 'last 202 until the sink holds every accepted event (worker flush interval 500 ms)',
    });

    // UDP at fixed rates.
    const udp: Record<string, unknown>[] = [];
    let bestLossless = 0;
    for (const rate of plan.udpRates) {
      const count = rate * plan.udpSeconds;
      const sinkBefore = await posthogCount(p);
      const kernelBefore = udpSocketDrops(p.endpoints.udpPort) ?? 0;
      const events = Array.from({ length: count }, () =>
        Buffer.from(JSON.stringify(freshCanonicalFinished())),
      );
      const sent = await sendPaced(
        p.endpoints.udpHost,
        p.endpoints.udpPort,
        count,
        rate,
        (i) => events[i] as Buffer,
      );
      const drain = await untilArrived(p, sinkBefore + count, 15_000);
      const got = (await posthogCount(p)) - sinkBefore;
      const lossPct = round(((count - got) / count) * 100, 3);
      if (lossPct === 0) bestLossless = Math.max(bestLossless, rate);
      udp.push({
        rate,
        sent: sent.sent,
        achievedRate: Math.round(sent.sent / (sent.elapsedMs / 1000)),
        arrived: got,
        lossPct,
        kernelDrops: (udpSocketDrops(p.endpoints.udpPort) ?? 0) - kernelBefore,
        drainMs: drain === undefined ? null : Math.round(drain),
      });
      add({
        name: `UDP loss at ${rate}/s`,
        value: lossPct,
        unit: '%',
        target: rate <= 10_000 ? 0 : 1,
        direction: 'lower',
        method: `${count} datagrams paced over ${plan.udpSeconds} s, counted at the sink`,
      });
      add({
        name: `UDP drain at ${rate}/s`,
        value: drain === undefined ? -1 : Math.round(drain),
        unit: 'ms',
        target: 2000,
        direction: 'lower',
        method: 'last datagram sent until the sink holds all (-1: never)',
      });
    }
    add({
      name: 'UDP highest lossless rate tried',
      value: bestLossless,
      unit: 'datagrams/s',
      target: 5000,
      direction: 'higher',
      ceiling: dgramCeiling.receivedPerSecond,
      method: `rates ${plan.udpRates.join(', ')}/s; ceiling: bare dgram socket read rate, same sender`,
    });

    // The real client: `runmat-telemetry emit` sends started+finished over UDP and HTTP.
    const latencies: number[] = [];
    for (let i = 0; i < plan.clientRuns; i++) {
      const t0 = performance.now();
      const run = await runClient({
        http: p.endpoints.httpEndpoint,
        udp: p.endpoints.udpEndpoint,
        key: p.key,
      });
      if (run.code !== 0) throw new Error(`client emit exited ${run.code}: ${run.stderr}`);
      for (const s of run.sent) await p.sinkApi.waitForUuid(s.uuid, { intervalMs: 10 });
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    add({
      name: 'client emit to PostHog',
      value: round(percentile(latencies, 0.5), 0),
      unit: 'ms',
      target: 3000,
      direction: 'lower',
      method: `p50 of ${plan.clientRuns} runs of the client CLI (process start, UDP+HTTP, until both events are at the sink)`,
    });

    const peakRssMiB = {
      worker: round(rss.worker.stop() / MIB, 1),
      forwarder: round(rss.forwarder.stop() / MIB, 1),
    };
    for (const name of ['worker', 'forwarder'] as const) {
      add({
        name: `${name} peak RSS under load`,
        value: peakRssMiB[name],
        unit: 'MiB',
        target: 256,
        direction: 'lower',
        method: 'highest /proc/<pid>/status VmRSS sampled every 50 ms through the whole run',
      });
    }

    return {
      figures,
      details: {
        http: { ...http, arrived, drainMs: drainMs === undefined ? null : Math.round(drainMs) },
        udp,
        client: { runs: plan.clientRuns, latenciesMs: latencies.map((l) => Math.round(l)) },
        ceilings: { fastify: httpCeiling, dgram: dgramCeiling },
        peakRssMiB,
      },
    };
  } finally {
    rss.worker.stop();
    rss.forwarder.stop();
    await p.close();
  }
}
