/**
 * `pnpm local`: the whole pipeline on this machine. Starts the fake sink, the
 * worker and the UDP forwarder on 127.0.0.1 with a generated development key,
 * sends one demo run over UDP and one over HTTP with the client CLI, prints
 * what the sink received, then runs until Ctrl-C. `--once` stops after the demo.
 * It also serves a browser demo page (the bundled browser entry and a button
 * that runs a demo run against the local worker); the worker's CORS_ORIGINS
 * holds that page's origin, plus any `CORS_ORIGINS` from the environment (for
 * a page served elsewhere, e.g. a dev server on http://localhost:5173).
 */
import { join } from 'node:path';
import {
  FAKE_SINK_PORT,
  HEALTH_PORT,
  UDP_PORT,
  WORKER_METRICS_PORT,
  WORKER_PORT,
} from '@runmat-telemetry/schema';
import { startBrowserDemo } from './browser-demo.js';
import { sendDemoMix } from './demo-mix.js';
import {
  APP_PATHS,
  type ClientRun,
  type Pipeline,
  REPO_ROOT,
  runClient,
  startPipeline,
  writeClientConfig,
} from './harness/index.js';
import { portInUseMessage, takenPorts } from './local/check-ports.js';
import { formatArrival, waitForArrivals } from './local/demo-arrivals.js';
import { PortEnvError, type PortSetting, readPortEnv } from './local/port-env.js';

const env = process.env;
/** Default port of the browser demo page, beside the fake sink's 8787. */
const DEMO_PORT = 8790;
const once = process.argv.includes('--once');
const out = (line = '') => process.stdout.write(`${line}\n`);
const fail = (line: string) => process.stderr.write(`local pipeline: ${line}\n`);

function portSettings(): PortSetting[] {
  return [
    {
      label: 'fake sink',
      variable: 'FAKE_SINK_PORT',
      port: readPortEnv(env, 'FAKE_SINK_PORT', FAKE_SINK_PORT),
      protocol: 'tcp',
    },
    {
      label: 'worker',
      variable: 'WORKER_PORT',
      port: readPortEnv(env, 'WORKER_PORT', WORKER_PORT),
      protocol: 'tcp',
    },
    {
      label: 'worker metrics',
      variable: 'METRICS_PORT',
      port: readPortEnv(env, 'METRICS_PORT', WORKER_METRICS_PORT),
      protocol: 'tcp',
    },
    {
      label: 'forwarder UDP',
      variable: 'UDP_PORT',
      port: readPortEnv(env, 'UDP_PORT', UDP_PORT),
      protocol: 'udp',
    },
    {
      label: 'forwarder health',
      variable: 'HEALTH_PORT',
      port: readPortEnv(env, 'HEALTH_PORT', HEALTH_PORT),
      protocol: 'tcp',
    },
    {
      label: 'browser demo page',
      variable: 'DEMO_PORT',
      port: readPortEnv(env, 'DEMO_PORT', DEMO_PORT),
      protocol: 'tcp',
    },
  ];
}

// Child logs are JSON lines: the worker's and forwarder's in Cloud Logging's
// shape (`severity`, `message`), the sink's in pino's (`level`, `msg`).
// People see errors (and everything with LOCAL_LOGS=1).
function echoChildLog(name: string, line: string): void {
  if (env.LOCAL_LOGS === '1') {
    out(`[${name}] ${line}`);
    return;
  }
  try {
    const entry = JSON.parse(line) as {
      severity?: string;
      message?: string;
      level?: number;
      msg?: string;
    };
    const isError =
      entry.severity === 'ERROR' || entry.severity === 'CRITICAL' || (entry.level ?? 0) >= 50;
    if (isError) out(`[${name}] error: ${entry.message ?? entry.msg ?? line}`);
  } catch {
    out(`[${name}] ${line}`);
  }
}

async function demoRun(pipeline: Pipeline, via: 'udp' | 'http'): Promise<ClientRun> {
  const { endpoints, key } = pipeline;
  const run = await runClient(
    via === 'udp'
      ? // HTTP pointed at a port nothing listens on, so only the datagram can deliver.
        { udp: endpoints.udpEndpoint, http: 'http://127.0.0.1:9/v1/t', key }
      : { http: endpoints.httpEndpoint, udp: '', key },
  );
  if (run.code !== 0 || run.sent.length === 0) {
    throw new Error(
      `runmat-telemetry emit (${via}) exited ${run.code} and reported ${run.sent.length} events\n${run.stdout}${run.stderr}`,
    );
  }
  return run;
}

async function main(): Promise<number> {
  let settings: PortSetting[];
  try {
    settings = portSettings();
  } catch (err) {
    if (err instanceof PortEnvError) {
      fail(err.message);
      return 1;
    }
    throw err;
  }
  // Check every port before starting anything, so a clash never leaves half a pipeline.
  const taken = await takenPorts(settings);
  if (taken.length > 0) {
    for (const t of taken) fail(portInUseMessage(t));
    return 1;
  }
  const [sinkPort, workerPort, workerMetricsPort, udpPort, healthPort, demoPort] = settings.map(
    (s) => s.port,
  );

  out('starting fake sink, worker, UDP forwarder and browser demo page on 127.0.0.1 ...');
  // The page's origin must be in CORS_ORIGINS before the worker starts.
  const demo = await startBrowserDemo({ port: demoPort });
  const corsOrigins = [demo.origin, env.CORS_ORIGINS?.trim()].filter(Boolean).join(',');
  const pipeline = await startPipeline({
    ports: {
      sink: sinkPort,
      worker: workerPort,
      workerMetrics: workerMetricsPort,
      udp: udpPort,
      health: healthPort,
    },
    // The worker validates it and exits naming CORS_ORIGINS when it is malformed.
    env: { worker: { CORS_ORIGINS: corsOrigins } },
    onLine: echoChildLog,
  });

  let stopping = false;
  const shutdown = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    out(`\n${why}: stopping forwarder, worker, sink and demo page ...`);
    await pipeline.close();
    await demo.close();
    out('stopped.');
  };

  const { endpoints, key } = pipeline;
  demo.connect({
    httpEndpoint: endpoints.httpEndpoint,
    ingestionKey: key,
    sinkUrl: endpoints.sinkUrl,
  });
  out();
  out(`  fake sink       ${endpoints.sinkUrl}   (PostHog + GA4 stand-in)`);
  out(`  worker          ${endpoints.workerUrl}   (POST /ingest, /v1/t, /v1/batch)`);
  out(`  worker metrics  ${endpoints.workerMetricsUrl}`);
  out(
    `  UDP forwarder   udp://${endpoints.udpEndpoint}   (health ${endpoints.healthUrl}/healthz, /metrics)`,
  );
  out(`  ingestion key   ${key}   (development only, generated for this run)`);
  out(`  browser demo    ${demo.url}   (runs the browser entry against the worker, cross-origin)`);
  out(`  CORS origins    ${corsOrigins}   (may post to /ingest and /v1/t, beacons with ?k=<key>)`);
  out();

  let demoOk = true;
  try {
    for (const via of ['udp', 'http'] as const) {
      const run = await demoRun(pipeline, via);
      const arrivals = await waitForArrivals(pipeline.sinkApi, run.sent, via, {
        ga4: true,
        timeoutMs: 20_000,
      });
      out(`demo run via ${via}: ${run.sent.length} events sent, at the sink:`);
      for (const a of arrivals) out(`  ${formatArrival(a)}`);
    }
    // A mix big enough for every insights panel: several OSes, a failed
    // install, GPU runs, parser and runtime failures, several releases.
    const { sent } = await sendDemoMix({
      httpEndpoint: endpoints.httpEndpoint,
      key,
      udpHost: endpoints.udpHost,
      udpPort: endpoints.udpPort,
    });
    out(`demo mix: ${sent} events sent (installs, GPU runs, failures, several OSes and releases)`);
  } catch (err) {
    demoOk = false;
    fail(`demo run did not complete: ${(err as Error).message}`);
  }

  const localDir = env.LOCAL_DIR ?? join(REPO_ROOT, 'packages/e2e/.local');
  const tomlPath = writeClientConfig(join(localDir, 'runmat.toml'), {
    http: endpoints.httpEndpoint,
    udp: endpoints.udpEndpoint,
  });
  out();
  out(`sink page: ${endpoints.sinkUrl}/  (arrivals and the insights view)`);
  out(`insights:  ${endpoints.sinkUrl}/_sink/insights`);
  out(
    `browser demo: ${demo.url}  (open it and press "Run a demo": browser events arrive beside these)`,
  );
  out('send more events (UDP and HTTP) with:');
  out(`  RUNMAT_CONFIG=${tomlPath} RUNMAT_TELEMETRY_KEY=${key} node ${APP_PATHS.clientCli} emit`);

  if (once) {
    await shutdown('--once');
    return demoOk ? 0 : 1;
  }

  out();
  out('running; press Ctrl-C to stop.');
  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      void shutdown(signal).then(() => resolve(0));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // A child that dies on its own leaves the pipeline broken: say which, stop the rest.
    for (const app of [
      pipeline.sink.process,
      pipeline.worker.process,
      pipeline.forwarder.process,
    ]) {
      void app.exited.then((info) => {
        if (stopping) return;
        fail(
          `${app.name} exited unexpectedly (code ${info.code}, signal ${info.signal})\n${app.stderrText().trim()}`,
        );
        void shutdown('child exited').then(() => resolve(1));
      });
    }
  });
}

// Exit explicitly: every child is stopped by now, and an idle keep-alive
// socket must not hold the terminal.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    fail(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);
