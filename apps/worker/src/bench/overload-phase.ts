/**
 * The bench's overload phase: the real worker process, started as its image
 * starts it (`sh bin/worker-entrypoint.sh node dist/server.js`, the image's
 * NODE_OPTIONS, MEMORY_LIMIT_MIB), PostHog and GA4 both slowed with the fake
 * sink's fault injection so that they take a fifth of what is offered, and
 * traffic kept at that 5x for the whole phase. Peak RSS is the kernel's own
 * high-water mark (VmHWM in /proc/<pid>/status), checked against 75% of the
 * budget; also reported: the shed rate, when /readyz turned 503 and why, and
 * whether every accepted event was delivered once the sink recovered.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FakeSink } from '@runmat-telemetry/fake-sink';
import { CANONICAL_FINISHED_EXAMPLE, ROUTES } from '@runmat-telemetry/schema';
import autocannon from 'autocannon';

const MIB = 1024 * 1024;
const UUID_SLOT = '00000000-0000-4000-8000-000000000000';
const KEY = 'bench-ingestion-key';
const BATCH = 100;
/** The share of the budget peak RSS must stay under. */
export const RSS_TARGET_SHARE = 0.75;
/** Offered load over what the slowed sink takes. */
export const OVERLOAD_FACTOR = 5;

/**
 * Sink delays that make delivery capacity ~2,000 events/s a destination:
 * PostHog, 16 lanes x 500-event batches per 4 s; GA4 (the bench's events
 * share one client id, so 25 to a request), 8 requests per 100 ms.
 */
const POSTHOG_DELAY_MS = 4000;
const GA4_DELAY_MS = 100;
const CAPACITY_EVENTS_PER_S = Math.min(
  (16 * 500 * 1000) / POSTHOG_DELAY_MS,
  (8 * 25 * 1000) / GA4_DELAY_MS,
);

export interface OverloadResult {
  budgetMiB: number;
  seconds: number;
  /** Events per second the load generator sent (aimed at 5x the sink's capacity). */
  offeredEventsPerSec: number;
  /** What the sink took per second while slowed (PostHog). */
  deliveredEventsPerSec: number;
  /** offered / delivered, as measured. */
  overloadFactor: number;
  requests: number;
  shed503: number;
  /** Share of requests answered 503 (queue_full or overloaded), with Retry-After. */
  shedRate: number;
  /** Share of offered events in those 503 answers. */
  shedEventRate: number;
  otherNon2xx: number;
  errors: number;
  acceptedEvents: number;
  /** The kernel's high-water mark of the worker's RSS over its whole life. */
  peakRssMiB: number;
  /** Highest RSS sampled every 50 ms during the phase. */
  sampledPeakRssMiB: number;
  peakRssShare: number;
  targetMet: boolean;
  /** First /readyz 503 during the phase, with its reason and the RSS then. */
  readyz503: { atSecond: number; reason: string; rssMiB: number } | null;
  survived: boolean;
  /** Accepted events that never reached PostHog after the sink recovered. */
  lostAfterRecovery: number;
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const address = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return { status: res.status, body: await res.text() };
}

function template(body: string): () => string {
  const parts = body.split(UUID_SLOT);
  return () => {
    let out = parts[0]!;
    for (let i = 1; i < parts.length; i++) out += randomUUID() + parts[i];
    return out;
  };
}

function metric(text: string, line: string): number {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1));
}

/** Runs one overload phase against a fresh worker process with this budget. */
export async function overloadPhase(
  sink: FakeSink,
  budgetMiB: number,
  seconds: number,
  nodeOptions: string,
): Promise<OverloadResult> {
  const port = await freePort();
  const workerDir = fileURLToPath(new URL('../../', import.meta.url));
  const child: ChildProcess = spawn(
    'sh',
    ['bin/worker-entrypoint.sh', process.execPath, 'dist/server.js'],
    {
      cwd: workerDir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        NODE_OPTIONS: nodeOptions,
        MEMORY_LIMIT_MIB: String(budgetMiB),
        PORT: String(port),
        HOST: '127.0.0.1',
        INGESTION_KEY: KEY,
        POSTHOG_API_KEY: 'phc_bench',
        POSTHOG_HOST: sink.url,
        GA_HOST: sink.url,
        GA_MEASUREMENT_ID: 'G-BENCH1',
        GA_API_SECRET: 'bench-secret',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        RATE_LIMIT_MAX: '0',
        BATCH_RATE_LIMIT_MAX: '0',
      },
    },
  );
  const pid = child.pid ?? 0;
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await get(`${base}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error('overload worker did not start');
    await sleep(50);
  }

  const single = template(JSON.stringify({ ...CANONICAL_FINISHED_EXAMPLE, uuid: UUID_SLOT }));
  const item = JSON.stringify({ event: { ...CANONICAL_FINISHED_EXAMPLE, uuid: UUID_SLOT } });
  const batch = template(`{"events":[${new Array(BATCH).fill(item).join(',')}]}`);

  // Offered: 5x capacity, nine tenths in batches (the forwarder's route), a tenth as single events.
  const offered = OVERLOAD_FACTOR * CAPACITY_EVENTS_PER_S;
  const batchRate = Math.round((offered * 0.9) / BATCH);
  const singleRate = Math.round(offered * 0.1);
  sink.clear();
  sink.setFaults([
    { destination: 'posthog', delayMs: POSTHOG_DELAY_MS, durationMs: (seconds + 30) * 1000 },
    { destination: 'ga4', delayMs: GA4_DELAY_MS, durationMs: (seconds + 30) * 1000 },
  ]);

  let sampledPeak = 0;
  const sampler = setInterval(() => {
    const rss = procStatus(pid, 'VmRSS');
    if (rss !== undefined && rss > sampledPeak) sampledPeak = rss;
  }, 50);
  const started = Date.now();
  let readyz503: OverloadResult['readyz503'] = null;
  let probing = true;
  const prober = (async () => {
    while (probing) {
      try {
        const r = await get(`${base}/readyz`);
        if (r.status === 503 && readyz503 === null) {
          readyz503 = {
            atSecond: Math.round((Date.now() - started) / 100) / 10,
            reason: (JSON.parse(r.body) as { error?: string }).error ?? '?',
            rssMiB: Math.round((procStatus(pid, 'VmRSS') ?? 0) / MIB),
          };
        }
      } catch {
        // a busy worker may miss a probe; the next one counts
      }
      await sleep(100);
    }
  })();

  const cannon = (path: string, body: () => string, rate: number, connections: number) =>
    autocannon({
      url: `${base}${path}`,
      connections,
      duration: seconds,
      overallRate: rate,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telemetry-key': KEY },
      requests: [{ setupRequest: (req) => ({ ...req, body: body() }) }],
    });
  const sinkBefore = sink.stats().posthog.events;
  // The sink's rate is read once its first delayed answers are back (steady state).
  const steadyFrom = { at: 0, events: 0 };
  const steadyTimer = setTimeout(
    () => {
      steadyFrom.at = Date.now();
      steadyFrom.events = sink.stats().posthog.events;
    },
    Math.min(POSTHOG_DELAY_MS + 1000, (seconds * 1000) / 2),
  );
  const [batches, singles] = await Promise.all([
    cannon(ROUTES.batch, batch, batchRate, 20),
    cannon(ROUTES.ingest, single, singleRate, 40),
  ]);
  clearTimeout(steadyTimer);
  const elapsed = (Date.now() - started) / 1000;
  const deliveredPerSec =
    steadyFrom.at > 0
      ? (sink.stats().posthog.events - steadyFrom.events) / ((Date.now() - steadyFrom.at) / 1000)
      : (sink.stats().posthog.events - sinkBefore) / elapsed;
  probing = false;
  await prober;
  clearInterval(sampler);

  const survived =
    child.exitCode === null && (await get(`${base}/healthz`).catch(() => null))?.status === 200;
  const metricsText = survived ? (await get(`${base}/metrics`)).body : '';
  const acceptedEvents =
    metric(metricsText, 'runmat_worker_events_accepted_total{route="batch"}') +
    metric(metricsText, 'runmat_worker_events_accepted_total{route="single"}');
  const hwm = procStatus(pid, 'VmHWM') ?? sampledPeak;

  // The sink recovers: what was accepted must all arrive.
  sink.clearFaults();
  const drainDeadline = Date.now() + 120_000;
  const target = sinkBefore + acceptedEvents;
  while (sink.stats().posthog.events < target && Date.now() < drainDeadline && survived) {
    await sleep(200);
  }
  const lostAfterRecovery = Math.max(0, target - sink.stats().posthog.events);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));

  const status = (r: { statusCodeStats?: Record<string, { count: number }> }, code: string) =>
    r.statusCodeStats?.[code]?.count ?? 0;
  const requests = batches['2xx'] + batches.non2xx + singles['2xx'] + singles.non2xx;
  const shed503 = status(batches, '503') + status(singles, '503');
  const offeredEvents = (batches['2xx'] + batches.non2xx) * BATCH + singles['2xx'] + singles.non2xx;
  const shedEvents = status(batches, '503') * BATCH + status(singles, '503');
  const offeredPerSec = offeredEvents / elapsed;
  return {
    budgetMiB,
    seconds,
    offeredEventsPerSec: Math.round(offeredPerSec),
    deliveredEventsPerSec: Math.round(deliveredPerSec),
    overloadFactor: Math.round((offeredPerSec / Math.max(1, deliveredPerSec)) * 10) / 10,
    requests,
    shed503,
    shedRate: requests > 0 ? Math.round((shed503 / requests) * 1000) / 1000 : 0,
    shedEventRate: offeredEvents > 0 ? Math.round((shedEvents / offeredEvents) * 1000) / 1000 : 0,
    otherNon2xx: batches.non2xx + singles.non2xx - shed503,
    errors: batches.errors + batches.timeouts + singles.errors + singles.timeouts,
    acceptedEvents,
    peakRssMiB: Math.round(hwm / MIB),
    sampledPeakRssMiB: Math.round(sampledPeak / MIB),
    peakRssShare: Math.round((hwm / (budgetMiB * MIB)) * 1000) / 1000,
    targetMet: survived && hwm <= budgetMiB * MIB * RSS_TARGET_SHARE,
    readyz503,
    survived,
    lostAfterRecovery,
  };
}
