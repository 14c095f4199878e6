import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startFakeSink } from '@runmat-telemetry/fake-sink';
import { CANONICAL_FINISHED_EXAMPLE } from '@runmat-telemetry/schema';
import {
  type ChildServer,
  processCpuMicros,
  processRssBytes,
  startChildServer,
} from './child-server.js';
import { sendPaced } from './paced-sender.js';
import { startStandInWorker } from './stand-in-worker.js';

// pnpm bench [--quick] [--rates=5000,10000,20000] [--duration=10] [--target=worker|stand-in|both]
// Quick mode (`--quick` or BENCH_QUICK=1, what `pnpm bench:quick` sets): only the 20,000/s
// target rate, 4 s per run, a 1 s ceiling.
// worker:   UDP datagrams -> forwarder (child) -> worker (child) -> fake sink (in-process).
// stand-in: UDP datagrams -> forwarder (child) -> a bare /v1/batch that accepts everything,
//           which isolates the forwarder's own cost from the worker's.

const args = process.argv.slice(2);
const quick =
  args.includes('--quick') ||
  ['1', 'true'].includes(process.env.BENCH_QUICK?.trim().toLowerCase() ?? '');
const argValue = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const TARGET_RATE = 20_000;
const rates = (argValue('rates') ?? (quick ? String(TARGET_RATE) : '5000,10000,20000'))
  .split(',')
  .map(Number);
const durationMs = Number(argValue('duration') ?? (quick ? 4 : 10)) * 1000;
const ceilingMs = quick ? 1000 : 3000;
const targets =
  (argValue('target') ?? 'both') === 'both' ? ['worker', 'stand-in'] : [argValue('target')];

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const workerScript = fileURLToPath(new URL('../../../worker/dist/server.js', import.meta.url));
const forwarderScript = fileURLToPath(new URL('../server.js', import.meta.url));
const bareReceiverScript = fileURLToPath(new URL('./bare-receiver.js', import.meta.url));
const KEY = 'bench-ingestion-key';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Unique-uuid datagrams from the docs' finished example, without re-serializing each one. */
function payloadMaker(): (i: number) => string {
  const marker = '00000000-0000-4000-8000-000000000000';
  const template = JSON.stringify({
    ...CANONICAL_FINISHED_EXAMPLE,
    uuid: marker,
    payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, timestamp_ms: Date.now() },
  });
  const [head, tail] = template.split(marker) as [string, string];
  return () => head + randomUUID() + tail;
}

async function scrape(healthPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('forwarder_')) continue;
    const space = line.lastIndexOf(' ');
    out[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return out;
}

async function measureCeiling(): Promise<{ sentPerSec: number; receivedPerSec: number }> {
  const child = fork(bareReceiverScript, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  const { port } = await next<{ port: number }>();
  // Asking far more than one sender can do: the sender's own limit shows up as sentPerSec.
  const result = await sendPaced(port, 1_000_000, ceilingMs, payloadMaker());
  await sleep(200);
  child.send({ type: 'count' });
  const { count } = await next<{ count: number }>();
  child.send({ type: 'stop' });
  const seconds = result.elapsedMs / 1000;
  return {
    sentPerSec: Math.round(result.sent / seconds),
    receivedPerSec: Math.round(count / seconds),
  };
}

/** One report figure, in the shape the schema bench writes and packages/e2e reads. */
interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target: string | null;
  met: boolean | null;
  ceiling?: number;
  ratio?: number;
}

interface RateResult {
  target: string;
  rate: number;
  durationMs: number;
  sent: number;
  sendErrors: number;
  receivedByForwarder: number;
  droppedByForwarder: Record<string, number>;
  forwardedByForwarder: number;
  arrivedAtSink: number;
  lossPercent: number;
  drainMs: number | null;
  sinkSettleMs: number;
  peakRssMb: number;
  cpuMicrosPerDatagram: number;
  retries: number;
  /** 1-minute load average when the rate finished: other work on the machine skews every figure. */
  loadAverage: number;
  requestsByStatus: Record<string, number>;
}

async function runRate(
  target: string,
  rate: number,
  workerUrl: string,
  sinkEvents: () => number,
): Promise<RateResult> {
  const forwarder = await startChildServer(forwarderScript, {
    UDP_HOST: '127.0.0.1',
    UDP_PORT: '0',
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: '0',
    TELEMETRY_HTTP_ENDPOINT: `${workerUrl}/v1/batch`,
    TELEMETRY_INGESTION_KEY: KEY,
    LOG_LEVEL: 'info',
  });
  const { udpPort, healthPort } = forwarder.listening as { udpPort: number; healthPort: number };
  let peakRss = processRssBytes(forwarder.pid);
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, processRssBytes(forwarder.pid));
  }, 50);
  try {
    const sinkBefore = sinkEvents();
    const cpuBefore = processCpuMicros(forwarder.pid);
    const sent = await sendPaced(udpPort, rate, durationMs, payloadMaker());
    const burstEnd = Date.now();

    // Drained: nothing queued or in flight, and nothing more being read from the socket.
    let drainMs: number | null = null;
    let last = -1;
    let metrics: Record<string, number> = {};
    while (Date.now() - burstEnd < 30_000) {
      metrics = await scrape(healthPort);
      const received = metrics.runmat_forwarder_datagrams_received_total ?? 0;
      if (
        received === last &&
        metrics.runmat_delivery_pending_events === 0 &&
        metrics.runmat_delivery_in_flight_requests === 0
      ) {
        drainMs = Date.now() - burstEnd;
        break;
      }
      last = received;
      // Each scrape costs the forwarder CPU too, so not too often.
      await sleep(50);
    }
    const cpuMicros = processCpuMicros(forwarder.pid) - cpuBefore;
    const forwarded = metrics.runmat_delivery_delivered_events_total ?? 0;

    // The worker batches to PostHog on its own interval; wait for arrivals to stop.
    let arrived = sinkEvents() - sinkBefore;
    let stableSince = Date.now();
    while (arrived < sent.sent && Date.now() - stableSince < 3000) {
      await sleep(50);
      const now = sinkEvents() - sinkBefore;
      if (now !== arrived) stableSince = Date.now();
      arrived = now;
    }
    const sinkSettleMs = Date.now() - burstEnd;

    const dropped: Record<string, number> = {};
    const requestsByStatus: Record<string, number> = {};
    for (const [key, value] of Object.entries(metrics)) {
      const m = key.match(/^runmat_forwarder_datagrams_dropped_total\{reason="(\w+)"\}$/);
      if (m?.[1] && value > 0) dropped[m[1]] = value;
      const s = key.match(/^runmat_delivery_requests_total\{status="(\w+)"\}$/);
      if (s?.[1]) requestsByStatus[s[1]] = value;
    }
    return {
      target,
      rate,
      durationMs,
      sent: sent.sent,
      sendErrors: sent.sendErrors,
      receivedByForwarder: metrics.runmat_forwarder_datagrams_received_total ?? 0,
      droppedByForwarder: dropped,
      forwardedByForwarder: forwarded,
      arrivedAtSink: arrived,
      lossPercent: Number((((sent.sent - arrived) / sent.sent) * 100).toFixed(3)),
      drainMs,
      sinkSettleMs,
      peakRssMb: Number((peakRss / 1024 / 1024).toFixed(1)),
      cpuMicrosPerDatagram: Number((cpuMicros / sent.sent).toFixed(1)),
      retries: metrics.runmat_delivery_retries_total ?? 0,
      loadAverage: Number((loadavg()[0] ?? 0).toFixed(2)),
      requestsByStatus,
    };
  } finally {
    clearInterval(rssTimer);
    await forwarder.stop();
  }
}

async function main(): Promise<void> {
  console.log(
    `forwarder bench${quick ? ' (quick)' : ''}: ${targets.join(' + ')}, rates ${rates.join(', ')}/s for ${durationMs / 1000} s each on ${cpus().length} cores`,
  );
  const ceiling = await measureCeiling();
  console.log(
    `bare dgram receiver ceiling: ${ceiling.receivedPerSec}/s received (sender managed ${ceiling.sentPerSec}/s)`,
  );

  const results: RateResult[] = [];
  const report = (r: RateResult) => {
    results.push(r);
    console.log(
      [
        `[${r.target}] rate ${r.rate}/s:`,
        `sent ${r.sent}`,
        `arrived ${r.arrivedAtSink}`,
        `loss ${r.lossPercent}%`,
        `drain ${r.drainMs ?? 'never'} ms`,
        `peak RSS ${r.peakRssMb} MB`,
        `CPU ${r.cpuMicrosPerDatagram} µs/datagram`,
        `load ${r.loadAverage}`,
        `(forwarder received ${r.receivedByForwarder}, forwarded ${r.forwardedByForwarder}, retries ${r.retries}, requests ${JSON.stringify(r.requestsByStatus)}, dropped ${JSON.stringify(r.droppedByForwarder)})`,
      ].join(' '),
    );
  };

  if (targets.includes('worker')) {
    const sink = await startFakeSink({ maxEvents: 1000, apiKey: 'phc_bench' });
    let worker: ChildServer | undefined;
    try {
      worker = await startChildServer(workerScript, {
        PORT: '0',
        HOST: '127.0.0.1',
        INGESTION_KEY: KEY,
        POSTHOG_API_KEY: 'phc_bench',
        POSTHOG_HOST: sink.url,
        RATE_LIMIT_MAX: '0',
        LOG_LEVEL: 'info',
      });
      const workerUrl = String(worker.listening.url);
      for (const rate of rates) {
        report(await runRate('worker', rate, workerUrl, () => sink.stats().posthog.events));
        await sleep(500);
      }
    } finally {
      await worker?.stop();
      await sink.close();
    }
  }
  if (targets.includes('stand-in')) {
    const standIn = await startStandInWorker();
    try {
      for (const rate of rates) {
        report(await runRate('stand-in', rate, standIn.url, standIn.events));
        await sleep(500);
      }
    } finally {
      await standIn.close();
    }
  }

  const verdict = results
    .filter((r) => r.rate === 20_000)
    .map((r) => ({
      target: r.target,
      rate: r.rate,
      arrivedAtLeast99_9: r.lossPercent <= 0.1,
      drainedWithin2s: r.drainMs !== null && r.drainMs <= 2000,
      peakRssUnder150Mb: r.peakRssMb < 150,
    }));
  for (const v of verdict) console.log(`targets at 20,000/s: ${JSON.stringify(v)}`);
  const figures: BenchFigure[] = [
    {
      name: 'bare dgram receiver ceiling (same run)',
      value: ceiling.receivedPerSec,
      unit: 'datagrams/s',
      target: null,
      met: null,
    },
  ];
  for (const r of results) {
    const at = `[${r.target}] @${r.rate}/s for ${r.durationMs / 1000} s`;
    const arrivedPerSec = Math.round(r.arrivedAtSink / (r.durationMs / 1000));
    figures.push({
      name: `${at}: arrival rate at sink vs bare dgram`,
      value: arrivedPerSec,
      unit: 'datagrams/s',
      target: null,
      met: null,
      ceiling: ceiling.receivedPerSec,
      ratio:
        ceiling.receivedPerSec > 0
          ? Number((arrivedPerSec / ceiling.receivedPerSec).toFixed(3))
          : 0,
    });
    const arrivedPercent = r.sent > 0 ? Number(((r.arrivedAtSink / r.sent) * 100).toFixed(3)) : 0;
    const targeted = r.rate === TARGET_RATE;
    figures.push(
      {
        name: `${at}: datagrams arrived`,
        value: arrivedPercent,
        unit: '%',
        target: targeted ? '>= 99.9' : null,
        met: targeted ? arrivedPercent >= 99.9 : null,
      },
      {
        name: `${at}: drain time after the burst`,
        // Never drained within the 30 s watch: report the watch length, a miss.
        value: r.drainMs ?? 30_000,
        unit: 'ms',
        target: targeted ? '<= 2000' : null,
        met: targeted ? r.drainMs !== null && r.drainMs <= 2000 : null,
      },
      {
        name: `${at}: forwarder peak RSS`,
        value: r.peakRssMb,
        unit: 'MB',
        target: targeted ? '< 150' : null,
        met: targeted ? r.peakRssMb < 150 : null,
      },
      {
        name: `${at}: forwarder CPU per datagram`,
        value: r.cpuMicrosPerDatagram,
        unit: 'µs/datagram',
        target: null,
        met: null,
      },
    );
  }
  mkdirSync(`${packageDir}bench-results`, { recursive: true });
  writeFileSync(
    `${packageDir}bench-results/forwarder.json`,
    `${JSON.stringify({ at: new Date().toISOString(), quick, cores: cpus().length, ceiling, results, verdict, figures }, null, 2)}\n`,
  );
  console.log('wrote bench-results/forwarder.json');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
