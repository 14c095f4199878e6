/**
 * `pnpm bench`: how fast the sink takes events, so that benchmarks of the
 * worker that point at it measure the worker, not the sink.
 *
 * Runs in one process (the machine has two cores): requests go over loopback
 * keep-alive connections with a fixed number in flight. Bodies are encoded
 * once up front so the figures are the sink's cost, not the load generator's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startFakeSink } from '../index.js';

/** `--quick` or BENCH_QUICK=1 (what `pnpm bench:quick` sets): shorter runs per scenario. */
const QUICK =
  process.argv.includes('--quick') ||
  ['1', 'true'].includes(process.env.BENCH_QUICK?.trim().toLowerCase() ?? '');
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? (QUICK ? 1500 : 3000));

/** One report figure, in the shape the schema bench writes and packages/e2e reads. No targets here. */
interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target: string | null;
  met: boolean | null;
}
const IN_FLIGHT = 8;

interface Result {
  scenario: string;
  requests: number;
  events: number;
  seconds: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function posthogBatch(size: number): Buffer {
  const batch = Array.from({ length: size }, (_, i) => ({
    event: 'runtime.run.finished',
    distinct_id: `anon-${i % 50}`,
    uuid: `01890000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    type: 'capture',
    timestamp: new Date().toISOString(),
    properties: {
      os: 'linux',
      arch: 'x86_64',
      success: true,
      duration_us: 1234 + i,
      $lib: 'posthog-node',
    },
  }));
  return gzipSync(
    JSON.stringify({ api_key: 'phc_bench', batch, sent_at: new Date().toISOString() }),
  );
}

function ga4Request(size: number): string {
  const events = Array.from({ length: size }, (_, i) => ({
    name: 'runtime_run_finished',
    params: { os: 'linux', arch: 'x86_64', success: 1, duration_us: 1234 + i },
  }));
  return JSON.stringify({ client_id: 'anon-1', events });
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(
  scenario: string,
  url: string,
  body: Buffer | string,
  eventsPerRequest: number,
): Promise<Result> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + DURATION_MS;
  const loop = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const res = await fetch(url, { method: 'POST', body });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`${scenario}: unexpected status ${res.status}`);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    scenario,
    requests: latencies.length,
    events: latencies.length * eventsPerRequest,
    seconds: round(seconds),
    requestsPerSecond: Math.round(latencies.length / seconds),
    eventsPerSecond: Math.round((latencies.length * eventsPerRequest) / seconds),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
  };
}

async function main(): Promise<void> {
  const sink = await startFakeSink({ maxEvents: 100_000 });
  try {
    // Heap per stored event is only meaningful with --expose-gc (the bench script sets it).
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const results = [
      await run('posthog /batch/ gzip, 100 events', `${sink.url}/batch/`, posthogBatch(100), 100),
      await run(
        'posthog /capture/ single event',
        `${sink.url}/capture/`,
        JSON.stringify({
          api_key: 'phc_bench',
          event: 'runtime.run.started',
          distinct_id: 'anon-1',
          properties: { os: 'linux' },
        }),
        1,
      ),
      await run(
        'ga4 /mp/collect, 25 events',
        `${sink.url}/mp/collect?measurement_id=G-BENCH&api_secret=s`,
        ga4Request(25),
        25,
      ),
    ];
    global.gc?.();
    const stored = sink.stats().stored;
    const heapPerEventBytes = Math.round(
      (process.memoryUsage().heapUsed - heapBefore) / Math.max(1, stored),
    );
    for (const r of results) {
      console.log(
        `${r.scenario.padEnd(36)} ${String(r.eventsPerSecond).padStart(8)} events/s  ${String(r.requestsPerSecond).padStart(6)} req/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms`,
      );
    }
    console.log(
      `store: ${stored} events held, ~${heapPerEventBytes} bytes of heap each (evicted ${sink.stats().evicted})`,
    );
    const figures: BenchFigure[] = [
      ...results.flatMap((r): BenchFigure[] => [
        { name: r.scenario, value: r.eventsPerSecond, unit: 'events/s', target: null, met: null },
        { name: `${r.scenario}, p99`, value: r.p99Ms, unit: 'ms', target: null, met: null },
      ]),
      {
        name: 'heap per stored event',
        value: heapPerEventBytes,
        unit: 'bytes',
        target: null,
        met: null,
      },
    ];
    const dir = fileURLToPath(new URL('../../bench-results/', import.meta.url));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      `${dir}fake-sink.json`,
      `${JSON.stringify({ quick: QUICK, durationMs: DURATION_MS, inFlight: IN_FLIGHT, results, stored, heapPerEventBytes, figures }, null, 2)}\n`,
    );
  } finally {
    await sink.close();
  }
}

await main();
