import { randomBytes } from 'node:crypto';
import { ROUTES } from '@runmat-telemetry/schema';
import { SinkApi } from './sink-api.js';
import {
  type ForwarderApp,
  type HttpApp,
  startForwarder,
  startSink,
  startWorker,
  type WorkerApp,
} from './start-apps.js';

export interface PipelineOptions {
  /** Ports to bind; each defaults to 0 (ephemeral). */
  ports?: { sink?: number; worker?: number; workerMetrics?: number; udp?: number; health?: number };
  /** Ingestion key shared by worker and forwarder (default: freshly generated). */
  ingestionKey?: string;
  /** Key the forwarder sends, when a test wants it to differ from the worker's. */
  forwarderKey?: string;
  /** Forward to GA4 as well as PostHog (default true). */
  ga4?: boolean;
  /** LOG_LEVEL for every child (default `info`). */
  logLevel?: string;
  /** Extra variables per process (tunables). */
  env?: {
    sink?: Record<string, string | undefined>;
    worker?: Record<string, string | undefined>;
    forwarder?: Record<string, string | undefined>;
  };
  /** Sees every stdout line of every child, tagged with its name. */
  onLine?: (name: 'sink' | 'worker' | 'forwarder', line: string) => void;
}

/** Where each piece of a running pipeline can be reached. */
export interface PipelineEndpoints {
  sinkUrl: string;
  workerUrl: string;
  /** The client's `http_endpoint`: the worker's `/v1/t`. */
  httpEndpoint: string;
  batchUrl: string;
  /** The worker's metrics listener (`METRICS_PORT`); its public port has no `/metrics`. */
  workerMetricsUrl: string;
  /** The client's `udp_endpoint`: `127.0.0.1:<port>`. */
  udpEndpoint: string;
  udpHost: string;
  udpPort: number;
  healthUrl: string;
  forwarderMetricsUrl: string;
}

/** Sink, worker and forwarder wired together on loopback. */
export interface Pipeline extends AsyncDisposable {
  readonly sink: HttpApp;
  readonly worker: WorkerApp;
  readonly forwarder: ForwarderApp;
  readonly sinkApi: SinkApi;
  /** The development ingestion key the worker accepts. */
  readonly key: string;
  readonly posthogApiKey: string;
  readonly gaMeasurementId: string | undefined;
  readonly endpoints: PipelineEndpoints;
  /** Stops the worker (SIGTERM, graceful) and leaves the rest running. */
  stopWorker(): Promise<void>;
  /** Starts the worker again on the same ports, so the forwarder's URL and the metrics URL stay valid. */
  startWorker(): Promise<void>;
  /**
   * Starts another worker process with the same sink, keys and settings (plus
   * `env` on top), as a second Cloud Run instance would be; the forwarder
   * keeps posting to the first. Stopped by `close()`.
   */
  startExtraWorker(options?: { env?: Record<string, string | undefined> }): Promise<WorkerApp>;
  /** Stops every process, forwarder first so nothing is left mid-delivery. */
  close(): Promise<void>;
}

/** A random development ingestion key (never a real one). */
export function generateIngestionKey(): string {
  return `dev_${randomBytes(24).toString('hex')}`;
}

/**
 * Brings up the fake sink, the worker (PostHog and GA4 pointed at the sink)
 * and the UDP forwarder (posting to the worker's batch route) as real
 * processes, each started from its built `dist/server.js`.
 */
export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const key = options.ingestionKey ?? generateIngestionKey();
  const posthogApiKey = `phc_dev_${randomBytes(8).toString('hex')}`;
  const ga4 = options.ga4 ?? true;
  const gaMeasurementId = ga4 ? 'G-RUNMATDEV1' : undefined;
  const gaApiSecret = randomBytes(12).toString('base64url');
  const logLevel = options.logLevel ?? 'info';
  const tag = (name: 'sink' | 'worker' | 'forwarder') =>
    options.onLine ? (line: string) => options.onLine?.(name, line) : undefined;

  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    // Reverse start order: the forwarder drains into the worker, the worker into the sink.
    for (const p of started.reverse()) await p.stop();
    started.length = 0;
  };

  try {
    const sink = await startSink({
      port: options.ports?.sink,
      logLevel,
      // The sink then accepts only the credentials the worker was given, so a
      // worker sending the wrong ones shows up as missing events.
      env: {
        SINK_POSTHOG_API_KEY: posthogApiKey,
        SINK_GA_API_SECRET: gaMeasurementId ? gaApiSecret : undefined,
        ...options.env?.sink,
      },
      onLine: tag('sink'),
    });
    started.push(sink.process);

    const workerOptions = {
      port: options.ports?.worker,
      metricsPort: options.ports?.workerMetrics,
      logLevel,
      env: options.env?.worker,
      onLine: tag('worker'),
      ingestionKey: key,
      posthogHost: sink.url,
      posthogApiKey,
      ga: gaMeasurementId
        ? { host: sink.url, measurementId: gaMeasurementId, apiSecret: gaApiSecret }
        : undefined,
    };
    let worker = await startWorker(workerOptions);
    const workerHandle = { stop: () => worker.process.stop() };
    started.push(workerHandle);

    const forwarder = await startForwarder({
      udpPort: options.ports?.udp,
      healthPort: options.ports?.health,
      logLevel,
      env: options.env?.forwarder,
      onLine: tag('forwarder'),
      workerUrl: worker.url,
      ingestionKey: options.forwarderKey ?? key,
    });
    started.push(forwarder.process);

    const endpoints: PipelineEndpoints = {
      sinkUrl: sink.url,
      workerUrl: worker.url,
      httpEndpoint: `${worker.url}${ROUTES.ingestV1}`,
      batchUrl: `${worker.url}${ROUTES.batch}`,
      workerMetricsUrl: worker.metricsUrl,
      udpEndpoint: forwarder.udpEndpoint,
      udpHost: forwarder.udpHost,
      udpPort: forwarder.udpPort,
      healthUrl: forwarder.healthUrl,
      forwarderMetricsUrl: `${forwarder.healthUrl}${ROUTES.metrics}`,
    };

    const close = stopAll;
    return {
      sink,
      get worker() {
        return worker;
      },
      forwarder,
      sinkApi: new SinkApi(sink.url),
      key,
      posthogApiKey,
      gaMeasurementId,
      endpoints,
      async stopWorker() {
        await worker.process.stop();
      },
      async startWorker() {
        if (!worker.process.hasExited) throw new Error('worker is still running');
        worker = await startWorker({
          ...workerOptions,
          port: worker.port,
          metricsPort: worker.metricsPort,
        });
      },
      async startExtraWorker(extra = {}) {
        const app = await startWorker({
          ...workerOptions,
          port: 0,
          env: { ...workerOptions.env, ...extra.env },
        });
        // Stopped before the forwarder and the first worker (close runs in reverse).
        started.push(app.process);
        return app;
      },
      close,
      async [Symbol.asyncDispose]() {
        await close();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
