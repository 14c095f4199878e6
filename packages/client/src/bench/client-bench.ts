/**
 * Client benchmark (`pnpm bench`): the caller-side cost of emitting an event,
 * and how long telemetry holds a host script's exit against a live collector,
 * a black-holed one, and with drain none, each against the same script with
 * telemetry off, measured in the same run; and what the browser entry weighs
 * as a web host ships it (esbuild, minified, gzipped). Writes
 * bench-results/client.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTelemetry } from '../telemetry.js';
import { BROWSER_BUNDLE_GZIP_TARGET_BYTES, bundleBrowserEntry } from './browser-bundle.js';
import { type BenchCollector, startBenchCollector } from './local-collectors.js';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(PACKAGE_DIR, 'fixtures', 'emit-one-run.mjs');
const DRAIN_TIMEOUT_MS = 50;
/** `--quick` or BENCH_QUICK=1 (what `pnpm bench:quick` sets): fewer samples and exit runs. */
const QUICK =
  process.argv.includes('--quick') ||
  ['1', 'true'].includes(process.env.BENCH_QUICK?.trim().toLowerCase() ?? '');
const EXIT_RUNS = Number(process.env.BENCH_EXIT_RUNS ?? (QUICK ? 7 : 15));
const EMIT_SAMPLES = Number(process.env.BENCH_EMIT_SAMPLES ?? (QUICK ? 10_000 : 20_000));

/** One report figure, in the shape the schema bench writes and packages/e2e reads. */
interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  target: string | null;
  met: boolean | null;
}

const TARGETS = {
  callerP99Us: 20,
  liveExitMs: 15,
  blackholeExitMs: DRAIN_TIMEOUT_MS + 10,
  drainNoneExitMs: 3,
  browserBundleGzipBytes: BROWSER_BUNDLE_GZIP_TARGET_BYTES,
};

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const median = (xs: number[]) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

function writeConfig(dir: string, name: string, lines: string[]): string {
  const path = join(dir, `${name}.toml`);
  writeFileSync(path, `[runtime.telemetry]\n${lines.join('\n')}\n`);
  return path;
}

async function callerCost(home: string, collector: BenchCollector) {
  const config = writeConfig(home, 'caller', [
    `http_endpoint = "${collector.httpUrl}"`,
    `udp_endpoint = "${collector.udpEndpoint}"`,
    'queue_size = 1024',
  ]);
  const t = createTelemetry({
    env: { HOME: home, RUNMAT_CONFIG: config, RUNMAT_TELEMETRY_KEY: 'bench' },
    cwd: home,
    drainOnExit: false,
  });
  const started: number[] = [];
  const finished: number[] = [];
  // Emits right after the event loop sat idle and the sender ran (caches cold,
  // the flush timer to arm): what a host that emits one run per process
  // actually pays. The first COLD_RUNS runs of each batch go here, the rest
  // are the steady state.
  const firstAfterIdle: number[] = [];
  const COLD_RUNS = 3;
  const finish = {
    success: true,
    jitUsed: true,
    host: 'cli' as const,
    counters: { total_executions: 42, jit_compiled: 6, interpreter_fallback: 1 },
    provider: {
      device: { name: 'NVIDIA RTX 4090', vendor: 'NVIDIA', backend: 'cuda' },
      telemetry: {
        gpu_dispatches: 12,
        gpu_wall_ns: 1_850_000,
        upload_bytes: 262_144,
        download_bytes: 0,
        fusion_cache_hits: 8,
        fusion_cache_misses: 1,
      },
    },
  };
  // 250 runs = 500 events per batch, under queue_size so no sample takes the drop path.
  const runsPerBatch = 250;
  const batches = Math.max(2, Math.ceil(EMIT_SAMPLES / (2 * runsPerBatch)));
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < runsPerBatch; i++) {
      let t0 = process.hrtime.bigint();
      const run = t.startRun({ kind: 'script', jitEnabled: true, accelerateEnabled: true });
      let t1 = process.hrtime.bigint();
      // Batch 0 is JIT warm-up and is not reported.
      if (b > 0) (i < COLD_RUNS ? firstAfterIdle : started).push(Number(t1 - t0) / 1000);
      t0 = process.hrtime.bigint();
      run.finish(finish);
      t1 = process.hrtime.bigint();
      if (b > 0) (i < COLD_RUNS ? firstAfterIdle : finished).push(Number(t1 - t0) / 1000);
    }
    // Let the background sender empty the queue (untimed).
    while (t.stats().queued > 0 || t.stats().inFlight > 0)
      await new Promise((r) => setTimeout(r, 1));
  }
  const stats = t.stats();
  await t.shutdown();
  const sort = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const s = sort(started);
  const f = sort(finished);
  const all = sort([...started, ...finished]);
  const cold = sort(firstAfterIdle);
  return {
    samples: all.length,
    startedP50Us: round(quantile(s, 0.5)),
    startedP99Us: round(quantile(s, 0.99)),
    finishedP50Us: round(quantile(f, 0.5)),
    finishedP99Us: round(quantile(f, 0.99)),
    p50Us: round(quantile(all, 0.5)),
    p99Us: round(quantile(all, 0.99)),
    firstAfterIdleSamples: cold.length,
    firstAfterIdleP50Us: round(quantile(cold, 0.5)),
    firstAfterIdleP99Us: round(quantile(cold, 0.99)),
    sent: stats.sent,
    dropped: stats.dropped,
    invalid: stats.invalid,
  };
}

function runFixture(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitAt = performance.timeOrigin + performance.now();
      const line = out.split('\n').find((l) => l.startsWith('{"workDoneAt"'));
      if (code !== 0 || !line) return reject(new Error(`fixture failed (code ${code})`));
      resolve(exitAt - (JSON.parse(line) as { workDoneAt: number }).workDoneAt);
    });
  });
}

async function exitOverhead(home: string, live: BenchCollector, hole: BenchCollector) {
  const base = { HOME: home, RUNMAT_TELEMETRY_KEY: 'bench' };
  const scenarios: Record<string, Record<string, string>> = {
    baseline: { ...base, RUNMAT_NO_TELEMETRY: '1' },
    live: {
      ...base,
      RUNMAT_CONFIG: writeConfig(home, 'live', [
        `http_endpoint = "${live.httpUrl}"`,
        `udp_endpoint = "${live.udpEndpoint}"`,
      ]),
    },
    blackhole: {
      ...base,
      RUNMAT_CONFIG: writeConfig(home, 'hole', [
        `http_endpoint = "${hole.httpUrl}"`,
        `udp_endpoint = "${hole.udpEndpoint}"`,
        `drain_timeout_ms = ${DRAIN_TIMEOUT_MS}`,
      ]),
    },
    drainNone: {
      ...base,
      RUNMAT_CONFIG: writeConfig(home, 'none', [
        `http_endpoint = "${hole.httpUrl}"`,
        `udp_endpoint = "${hole.udpEndpoint}"`,
        'drain_mode = "none"',
      ]),
    },
  };
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(scenarios).map((k) => [k, []]),
  );
  // Interleaved so machine noise lands on every scenario alike.
  for (let i = 0; i < EXIT_RUNS; i++) {
    for (const [name, env] of Object.entries(scenarios)) samples[name]?.push(await runFixture(env));
  }
  const baseline = median(samples.baseline ?? []);
  const overhead = (name: string) => round(median(samples[name] ?? []) - baseline);
  return {
    runs: EXIT_RUNS,
    baselineExitMs: round(baseline),
    liveOverheadMs: overhead('live'),
    blackholeOverheadMs: overhead('blackhole'),
    drainNoneOverheadMs: overhead('drainNone'),
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    liveEventsReceived: live.received(),
  };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'runmat-client-bench-'));
  const live = await startBenchCollector(false);
  const hole = await startBenchCollector(true);
  try {
    const bundle = await bundleBrowserEntry();
    const browserBundle = {
      browser_bundle_min_bytes: bundle.minBytes,
      browser_bundle_gzip_bytes: bundle.gzipBytes,
      largestInputs: bundle.inputs.slice(0, 5),
    };
    const caller = await callerCost(home, live);
    const exit = await exitOverhead(home, live, hole);
    const checks = {
      browserBundleGzip: bundle.gzipBytes <= TARGETS.browserBundleGzipBytes,
      callerP99: caller.p99Us < TARGETS.callerP99Us,
      liveExit: exit.liveOverheadMs < TARGETS.liveExitMs,
      blackholeExit: exit.blackholeOverheadMs <= TARGETS.blackholeExitMs,
      drainNoneExit: exit.drainNoneOverheadMs < TARGETS.drainNoneExitMs,
    };
    const mark = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    const figures: BenchFigure[] = [
      {
        name: 'caller cost per event, p99',
        value: caller.p99Us,
        unit: 'µs',
        target: `< ${TARGETS.callerP99Us}`,
        met: checks.callerP99,
      },
      {
        name: 'caller cost per event, p50',
        value: caller.p50Us,
        unit: 'µs',
        target: null,
        met: null,
      },
      {
        name: 'exit overhead, live collector',
        value: exit.liveOverheadMs,
        unit: 'ms',
        target: `< ${TARGETS.liveExitMs}`,
        met: checks.liveExit,
      },
      {
        name: `exit overhead, black-holed collector (drain_timeout_ms ${DRAIN_TIMEOUT_MS} + 10)`,
        value: exit.blackholeOverheadMs,
        unit: 'ms',
        target: `<= ${TARGETS.blackholeExitMs}`,
        met: checks.blackholeExit,
      },
      {
        name: 'exit overhead, drain none',
        value: exit.drainNoneOverheadMs,
        unit: 'ms',
        target: `< ${TARGETS.drainNoneExitMs}`,
        met: checks.drainNoneExit,
      },
      {
        name: 'browser_bundle_min_bytes',
        value: bundle.minBytes,
        unit: 'B',
        target: null,
        met: null,
      },
      {
        name: 'browser_bundle_gzip_bytes',
        value: bundle.gzipBytes,
        unit: 'B',
        target: `<= ${TARGETS.browserBundleGzipBytes}`,
        met: checks.browserBundleGzip,
      },
    ];
    console.log(`client benchmark${QUICK ? ' (quick)' : ''}`);
    console.log(
      `  caller cost, runtime.run.started   p50 ${caller.startedP50Us} µs  p99 ${caller.startedP99Us} µs`,
    );
    console.log(
      `  caller cost, runtime.run.finished  p50 ${caller.finishedP50Us} µs  p99 ${caller.finishedP99Us} µs`,
    );
    console.log(
      `  caller cost, all events            p50 ${caller.p50Us} µs  p99 ${caller.p99Us} µs  (target p99 < ${TARGETS.callerP99Us} µs: ${mark(checks.callerP99)})`,
    );
    console.log(
      `  caller cost, first 3 runs after idle p50 ${caller.firstAfterIdleP50Us} µs  p99 ${caller.firstAfterIdleP99Us} µs  (${caller.firstAfterIdleSamples} samples, not in the figures above)`,
    );
    console.log(
      `  machine load average               ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} on ${cpus().length} cores`,
    );
    console.log(
      `  exit, telemetry off (baseline)     ${exit.baselineExitMs} ms from work done to exit (median of ${exit.runs})`,
    );
    console.log(
      `  exit overhead, live collector      ${exit.liveOverheadMs} ms  (target < ${TARGETS.liveExitMs} ms: ${mark(checks.liveExit)})`,
    );
    console.log(
      `  exit overhead, black-holed         ${exit.blackholeOverheadMs} ms  (target <= ${TARGETS.blackholeExitMs} ms = drain_timeout_ms + 10: ${mark(checks.blackholeExit)})`,
    );
    console.log(
      `  exit overhead, drain none          ${exit.drainNoneOverheadMs} ms  (target < ${TARGETS.drainNoneExitMs} ms: ${mark(checks.drainNoneExit)})`,
    );
    const kib = (n: number) => (n / 1024).toFixed(1);
    console.log(
      `  browser bundle, minified           ${bundle.minBytes} B (${kib(bundle.minBytes)} KiB; esbuild, platform browser, esm)`,
    );
    console.log(
      `  browser bundle, minified + gzipped ${bundle.gzipBytes} B (${kib(bundle.gzipBytes)} KiB)  (target <= ${TARGETS.browserBundleGzipBytes} B = 12 KiB: ${mark(checks.browserBundleGzip)})`,
    );
    const dir = join(PACKAGE_DIR, 'bench-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'client.json'),
      `${JSON.stringify({ measuredAt: new Date().toISOString(), quick: QUICK, node: process.version, loadAverage: loadavg(), cores: cpus().length, targets: TARGETS, caller, exit, browserBundle, checks, figures }, null, 2)}\n`,
    );
    console.log(`  written to ${join(dir, 'client.json')}`);
  } finally {
    await Promise.all([live.close(), hole.close()]);
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
