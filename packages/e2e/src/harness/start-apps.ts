import { ROUTES } from '@runmat-telemetry/schema';
import { APP_PATHS } from './repo-paths.js';
import { type ServerProcess, spawnServer } from './spawn-server.js';

/** Options every app starter shares. */
export interface StartAppOptions {
  /** Port to bind; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** pino level for the child. Default `info`: the `listening` line is logged at info, so anything quieter hides it. */
  logLevel?: string;
  /** Extra variables (tunables) passed to the process as they are. */
  env?: Record<string, string | undefined>;
  readyTimeoutMs?: number;
  onLine?: (line: string) => void;
}

/** An HTTP server (worker or sink) and where it listens. */
export interface HttpApp {
  process: ServerProcess;
  host: string;
  port: number;
  /** Base URL on loopback, no trailing slash. */
  url: string;
}

function portOf(line: Record<string, unknown>, field: string, name: string): number {
  const value = line[field];
  const port = typeof value === 'string' ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0) {
    throw new Error(`${name}: listening line has no usable "${field}": ${JSON.stringify(line)}`);
  }
  return port;
}

async function startHttpApp(
  name: string,
  script: string,
  options: StartAppOptions,
  env: Record<string, string | undefined>,
): Promise<HttpApp> {
  const host = options.host ?? '127.0.0.1';
  const process = await spawnServer({
    name,
    script,
    readyTimeoutMs: options.readyTimeoutMs,
    onLine: options.onLine,
    env: {
      LOG_LEVEL: options.logLevel ?? 'info',
      ...env,
      PORT: String(options.port ?? 0),
      HOST: host,
      ...options.env,
    },
  });
  try {
    const port = portOf(process.listening, 'port', name);
    // Connect over loopback even when bound to a wildcard address.
    const connectHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const hostPart = connectHost.includes(':') ? `[${connectHost}]` : connectHost;
    return { process, host, port, url: `http://${hostPart}:${port}` };
  } catch (err) {
    await process.stop();
    throw err;
  }
}

/** Starts the fake analytics sink (`node packages/fake-sink/dist/server.js`). */
export function startSink(options: StartAppOptions = {}): Promise<HttpApp> {
  return startHttpApp('fake-sink', APP_PATHS.sink, options, {});
}

export interface WorkerOptions extends StartAppOptions {
  ingestionKey: string;
  /** METRICS_PORT; 0 (the default) picks a free one. */
  metricsPort?: number;
  /** Base URL of the sink (or real PostHog) used for POSTHOG_HOST. */
  posthogHost: string;
  posthogApiKey?: string;
  /** GA4 is enabled when `ga` is given: GA_HOST, GA_MEASUREMENT_ID, GA_API_SECRET. */
  ga?: { host: string; measurementId: string; apiSecret: string };
}

/** The worker: its public listener plus the metrics listener (`GET /metrics` only). */
export interface WorkerApp extends HttpApp {
  metricsPort: number;
  /** `http://127.0.0.1:<metrics port>/metrics`: the public port answers 404 there. */
  metricsUrl: string;
}

/** Starts the HTTP worker (`node apps/worker/dist/server.js`). */
export async function startWorker(options: WorkerOptions): Promise<WorkerApp> {
  const app = await startHttpApp('worker', APP_PATHS.worker, options, {
    INGESTION_KEY: options.ingestionKey,
    POSTHOG_API_KEY: options.posthogApiKey ?? 'phc_e2e_local_project',
    POSTHOG_HOST: options.posthogHost,
    GA_HOST: options.ga?.host,
    GA_MEASUREMENT_ID: options.ga?.measurementId,
    GA_API_SECRET: options.ga?.apiSecret,
    METRICS_PORT: String(options.metricsPort ?? 0),
    METRICS_HOST: '127.0.0.1',
  });
  try {
    const metricsPort = portOf(app.process.listening, 'metricsPort', 'worker');
    return {
      ...app,
      metricsPort,
      metricsUrl: `http://127.0.0.1:${metricsPort}${ROUTES.metrics}`,
    };
  } catch (err) {
    await app.process.stop();
    throw err;
  }
}

export interface ForwarderOptions extends Omit<StartAppOptions, 'port'> {
  /** Worker base URL; the forwarder posts to its `/v1/batch`. */
  workerUrl: string;
  ingestionKey: string;
  udpPort?: number;
  healthPort?: number;
}

/** The UDP forwarder and where it listens. */
export interface ForwarderApp {
  process: ServerProcess;
  udpHost: string;
  udpPort: number;
  /** `host:port`, as the client's `udp_endpoint` wants it. */
  udpEndpoint: string;
  healthPort: number;
  /** Base URL of the health server on loopback. */
  healthUrl: string;
}

/** Starts the UDP forwarder (`node apps/udp-forwarder/dist/server.js`). */
export async function startForwarder(options: ForwarderOptions): Promise<ForwarderApp> {
  const udpHost = options.host ?? '127.0.0.1';
  const process = await spawnServer({
    name: 'udp-forwarder',
    script: APP_PATHS.forwarder,
    readyTimeoutMs: options.readyTimeoutMs,
    onLine: options.onLine,
    env: {
      LOG_LEVEL: options.logLevel ?? 'info',
      UDP_PORT: String(options.udpPort ?? 0),
      UDP_HOST: udpHost,
      HEALTH_PORT: String(options.healthPort ?? 0),
      // Health defaults to all interfaces for the load balancer; locally, loopback only.
      HEALTH_HOST: '127.0.0.1',
      TELEMETRY_HTTP_ENDPOINT: `${options.workerUrl}${ROUTES.batch}`,
      TELEMETRY_INGESTION_KEY: options.ingestionKey,
      ...options.env,
    },
  });
  try {
    const udpPort = portOf(process.listening, 'udpPort', 'udp-forwarder');
    const healthPort = portOf(process.listening, 'healthPort', 'udp-forwarder');
    return {
      process,
      udpHost,
      udpPort,
      udpEndpoint: `${udpHost}:${udpPort}`,
      healthPort,
      healthUrl: `http://127.0.0.1:${healthPort}`,
    };
  } catch (err) {
    await process.stop();
    throw err;
  }
}
