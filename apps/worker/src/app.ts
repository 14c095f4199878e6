import type { Server } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { WorkerConfig } from './config.js';
import type { SharedDedupe } from './dedupe/shared-dedupe.js';
import type { Forwarder, ForwardQueue } from './forward/forward-queue.js';
import { traceChildLoggerFactory, workerLoggerOptions } from './logging.js';
import type { MemoryGuard, MemorySampler } from './memory/memory-guard.js';
import { WorkerMetrics } from './metrics.js';
import { buildMetricsApp } from './metrics-app.js';
import { batchRoutesPlugin } from './plugins/batch-routes.js';
import { bodyParsingPlugin } from './plugins/body-parsing.js';
import { errorsPlugin } from './plugins/errors.js';
import { createForwarding, forwardingPlugin } from './plugins/forwarding.js';
import { ingestGuardPlugin } from './plugins/ingest-guard.js';
import { lifecyclePlugin } from './plugins/lifecycle.js';
import { createMemoryGuard, memoryPlugin } from './plugins/memory.js';
import { metricsPlugin } from './plugins/metrics.js';
import { probeRoutesPlugin } from './plugins/probe-routes.js';
import { requestLogPlugin } from './plugins/request-log.js';
import { sheddingPlugin } from './plugins/shedding.js';
import { singleEventRoutesPlugin } from './plugins/single-event-routes.js';

/** Test and embedding hooks for {@link buildApp}. */
export interface AppDeps {
  /** Replaces the PostHog/GA4 forwarders built from config (factory gets the app logger). */
  forwarders?: (log: FastifyBaseLogger, metrics: WorkerMetrics) => Forwarder[];
  /** Clock for dedupe windows and receipt times. */
  now?: () => number;
  /** Fastify `logger` option; defaults to pino at `config.logLevel` with the key redacted. */
  logger?: FastifyServerOptions['logger'];
  /** Replaces the Redis-backed shared dedupe built from `config.sharedDedupe`. */
  sharedDedupe?: (log: FastifyBaseLogger, metrics: WorkerMetrics) => SharedDedupe | null;
  /** Replaces the process memory sampler (RSS, heap) the memory guard reads. */
  memorySampler?: MemorySampler;
}

/** What the app exposes to its process (server.ts) and tests. */
export interface WorkerApp {
  /** The public listener: ingest routes and probes (`PORT`). */
  app: FastifyInstance;
  /** The metrics listener: `GET /metrics` only (`METRICS_PORT`); closed with `app`. */
  metricsApp: FastifyInstance;
  metrics: WorkerMetrics;
  queue: ForwardQueue;
  /** The memory budget's guard: pressure lines, last sample, peak RSS. */
  memory: MemoryGuard;
  /** Dedupe across instances, or null (the local window alone). */
  shared: SharedDedupe | null;
}

export { workerLoggerOptions };

/**
 * TRUST_PROXY as Fastify takes it. Fastify 5 trusts nothing for a bare hop
 * count (a direct client could otherwise spoof `X-Forwarded-For` with enough
 * hops), so `n` becomes the function form: the socket peer and the `n - 1`
 * addresses before it are proxies, and the next one is the client. That holds
 * only where clients cannot reach the worker directly (Cloud Run behind the
 * load balancer, ingress internal-and-cloud-load-balancing); elsewhere give
 * the proxies' addresses.
 */
export function fastifyTrustProxy(
  trustProxy: WorkerConfig['trustProxy'],
): FastifyServerOptions['trustProxy'] {
  if (typeof trustProxy !== 'number') return trustProxy as FastifyServerOptions['trustProxy'];
  const hops = trustProxy;
  return (_address: string, hop: number) => hop < hops;
}

/** Fastify's server options for the public listener, from config. */
function serverOptions(config: WorkerConfig, deps: AppDeps): FastifyHttpOptions<Server> {
  return {
    logger: deps.logger ?? workerLoggerOptions(config.logLevel),
    trustProxy: fastifyTrustProxy(config.trustProxy),
    // One log line per request comes from the request-log plugin.
    logController: new LogController({ disableRequestLogging: true }),
    // Every line a request logs carries its trace (X-Cloud-Trace-Context / traceparent).
    childLoggerFactory: traceChildLoggerFactory(config.googleCloudProject),
    bodyLimit: config.batchBodyLimit,
    // The ingest guard answers 503 shutting_down itself (from preClose on) with the JSON body.
    return503OnClosing: false,
    // A client gets requestTimeout for its whole request, headers and body, so
    // one trickling a body a byte at a time cannot hold a socket (408, closed).
    // Node checks the deadline every connectionsCheckingInterval: 30 s by
    // default, every second here.
    requestTimeout: config.requestTimeoutMs,
    http:
      config.requestTimeoutMs > 0
        ? {
            requestTimeout: config.requestTimeoutMs,
            headersTimeout: config.requestTimeoutMs,
            connectionsCheckingInterval: 1000,
          }
        : null,
    // Idle keep-alive connections close after keepAliveTimeout; a socket that
    // stays silent longer than that (e.g. opened and never used) is dropped too.
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionTimeout: config.keepAliveTimeoutMs + 5000,
  };
}

// Plugin options are picked fields, never the whole config: Fastify reads
// `logLevel` and `prefix` from the options of an encapsulated plugin.

/**
 * Builds the worker: plugins, routes, forwarders. Never listens; `server.ts`
 * does that, tests use `app.inject()` or listen on port 0 themselves.
 * Closing the app drains the forward queue within `config.shutdownTimeoutMs`.
 *
 * What callers read at once (metrics, queue, memory guard, shared dedupe,
 * the metrics listener) is built here; the plugins decorate the app with it
 * when it boots. The order below is the order hooks run in, and the reverse
 * of the order things are closed in; each plugin names the ones it needs
 * (`dependencies`), so Fastify refuses a list that breaks it.
 */
export function buildApp(config: WorkerConfig, deps: AppDeps = {}): WorkerApp {
  const app: FastifyInstance = Fastify(serverOptions(config, deps));
  const metrics = new WorkerMetrics();
  const forwarding = createForwarding(config, deps, app.log, metrics);
  const memory = createMemoryGuard(config, metrics, deps.memorySampler);
  const metricsApp = buildMetricsApp(metrics, app.log.child({ listener: 'metrics' }));

  app.register(metricsPlugin, { metrics, metricsApp });
  app.register(forwardingPlugin, { forwarding });
  app.register(memoryPlugin, { memory });
  app.register(lifecyclePlugin, { shutdownTimeoutMs: config.shutdownTimeoutMs });
  app.register(bodyParsingPlugin);
  app.register(errorsPlugin);
  app.register(requestLogPlugin);
  app.register(sheddingPlugin, {
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    maxHeapUsedBytes: config.maxHeapUsedBytes,
  });
  app.register(ingestGuardPlugin, {
    ingestionKeys: config.ingestionKeys,
    rateLimitWindowMs: config.rateLimitWindowMs,
  });
  app.register(singleEventRoutesPlugin, {
    corsOrigins: config.corsOrigins,
    rateLimitMax: config.rateLimitMax,
    singleBodyLimit: config.singleBodyLimit,
    forwardClientIp: config.forwardClientIp,
  });
  app.register(batchRoutesPlugin, {
    batchRateLimitMax: config.batchRateLimitMax,
    queueCapacity: config.queueCapacity,
    batchBodyLimit: config.batchBodyLimit,
  });
  app.register(probeRoutesPlugin);

  const { queue, shared } = forwarding;
  return { app, metricsApp, metrics, queue, memory, shared };
}
