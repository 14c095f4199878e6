import type { Server } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { ROUTES } from '@runmat-telemetry/schema';
import Fastify, {
  errorCodes,
  type FastifyBaseLogger,
  type FastifyHttpOptions,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
  type onRequestHookHandler,
} from 'fastify';
import { IngestionKeyVerifier } from './auth/ingestion-key.js';
import type { WorkerConfig } from './config.js';
import { DedupeWindow } from './dedupe/dedupe-window.js';
import { RedisDedupe, type SharedDedupe } from './dedupe/shared-dedupe.js';
import { type Forwarder, ForwardQueue } from './forward/forward-queue.js';
import { Ga4Forwarder } from './forward/ga4-forwarder.js';
import { PostHogForwarder } from './forward/posthog-forwarder.js';
import { codeForFastifyError, RETRY_AFTER_SECONDS } from './http-errors.js';
import { EventIntake } from './ingest/event-intake.js';
import { redactQueries, traceChildLoggerFactory, workerLoggerOptions } from './logging.js';
import { MemoryGuard, type MemorySampler } from './memory/memory-guard.js';
import { WorkerMetrics } from './metrics.js';
import { buildMetricsApp } from './metrics-app.js';
import { MAX_BATCH_ITEMS, registerBatchRoute } from './routes/batch-route.js';
import { registerCors } from './routes/cors.js';
import { createIngestGuard, type QueryKeyOptions } from './routes/guard.js';
import { registerHealthRoutes } from './routes/health-routes.js';
import { registerIngestRoutes } from './routes/ingest-routes.js';
import { replyError } from './routes/reply-error.js';

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

/** Log levels at which the per-request `info` line is not written (so not built either). */
const QUIETER_THAN_INFO = new Set(['warn', 'error', 'fatal', 'silent']);

export { workerLoggerOptions };

function defaultForwarders(config: WorkerConfig) {
  return (log: FastifyBaseLogger, metrics: WorkerMetrics): Forwarder[] => {
    const list: Forwarder[] = [
      new PostHogForwarder({
        apiKey: config.posthogApiKey,
        host: config.posthogHost,
        batchSize: config.posthogBatchSize,
        flushIntervalMs: config.posthogFlushIntervalMs,
        timeoutMs: config.posthogTimeoutMs,
        retries: config.posthogRetries,
        retryDelayMs: config.posthogRetryDelayMs,
        gzip: config.posthogGzip,
        concurrency: config.posthogConcurrency,
        metrics,
        log,
      }),
    ];
    if (config.ga4) {
      list.push(
        new Ga4Forwarder({
          ...config.ga4,
          flushIntervalMs: config.ga4FlushIntervalMs,
          timeoutMs: config.ga4TimeoutMs,
          retries: config.ga4Retries,
          retryDelayMs: config.ga4RetryDelayMs,
          concurrency: config.ga4Concurrency,
          metrics,
          log,
        }),
      );
    }
    return list;
  };
}

/**
 * Builds the worker: plugins, routes, forwarders. Never listens; `server.ts`
 * does that, tests use `app.inject()` or listen on port 0 themselves.
 * Closing the app drains the forward queue within `config.shutdownTimeoutMs`.
 */
export function buildApp(config: WorkerConfig, deps: AppDeps = {}): WorkerApp {
  const options: FastifyHttpOptions<Server> = {
    logger: deps.logger ?? workerLoggerOptions(config.logLevel),
    // Fastify's types omit the hop-count form its runtime (proxy-addr) accepts.
    trustProxy: config.trustProxy as FastifyServerOptions['trustProxy'],
    // One log line per request comes from the onResponse hook below.
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
  const app: FastifyInstance = Fastify(options);
  const metrics = new WorkerMetrics();
  const forwarders = (deps.forwarders ?? defaultForwarders(config))(
    app.log.child({ component: 'forward' }),
    metrics,
  );
  const queue = new ForwardQueue(forwarders, config.queueCapacity, config.queueMaxBytes);
  const dedupeLog = app.log.child({ component: 'dedupe' });
  const shared: SharedDedupe | null = deps.sharedDedupe
    ? deps.sharedDedupe(dedupeLog, metrics)
    : config.sharedDedupe === null
      ? null
      : new RedisDedupe({
          ...config.sharedDedupe,
          ttlMs: config.dedupeWindowMs,
          metrics,
          log: dedupeLog,
        });
  if (shared === null) metrics.dropSharedDedupeMetrics();
  const intake = new EventIntake({
    queue,
    dedupe: new DedupeWindow(config.dedupeWindowMs, config.dedupeMaxEntries),
    shared,
    metrics,
    forwardClientIp: config.forwardClientIp,
    now: deps.now ?? Date.now,
  });
  const memory = new MemoryGuard(config.memory, deps.memorySampler);
  metrics.memoryBudget.set(config.memory.budgetBytes);
  const PRESSURE_VALUE = { shed: 2, not_ready: 1 } as const;
  metrics.onCollect(() => {
    for (const f of forwarders) {
      metrics.queueDepth.labels(f.destination).set(f.pending());
      metrics.queueCapacity.labels(f.destination).set(queue.capacity);
      if (f.pendingBytes) metrics.queueBytes.labels(f.destination).set(f.pendingBytes());
    }
    metrics.memoryRss.set(memory.current.rss);
    const pressure = memory.pressure();
    metrics.memoryPressure.set(pressure === null ? 0 : PRESSURE_VALUE[pressure]);
  });
  const metricsApp = buildMetricsApp(metrics, app.log.child({ listener: 'metrics' }));

  let closing = false;
  let closeDeadline = 0;
  const verifier = new IngestionKeyVerifier(config.ingestionKeys);
  const guardFor = (minRoom: number, queryKey?: QueryKeyOptions) =>
    createIngestGuard({
      verifier,
      metrics,
      isClosing: () => closing,
      lacksRoom: (n) => !queue.hasHeadroom(n),
      shedMemory: () => memory.shouldShed(),
      minRoom,
      queryKey,
    });
  const corsOrigins: ReadonlySet<string> = new Set(config.corsOrigins);
  // Single-event requests whose key came as `?k=` (beacons), set by the guard.
  const beacons: QueryKeyOptions = { origins: corsOrigins, authenticated: new WeakSet() };

  // Only JSON is accepted (415 otherwise; beacons may label theirs text/plain,
  // see the single-event scope below). `__proto__` / `constructor.prototype`
  // keys are removed rather than failing the body: they are just more fields
  // outside the allowlist, and one hostile event must not sink a batch.
  app.removeAllContentTypeParsers();
  const jsonParser = app.getDefaultJsonParser('remove', 'remove');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser);

  app.setErrorHandler((err, request, reply) => {
    const code = codeForFastifyError(err as { code?: string; statusCode?: number; name?: string });
    if (code === 'internal_error') {
      request.log.error({
        err: { name: (err as Error).name, message: redactQueries(String((err as Error).message)) },
      });
    }
    return replyError(reply, metrics, code);
  });
  app.setNotFoundHandler((_request, reply) => replyError(reply, metrics, 'not_found'));

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration
      .labels(route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    if (QUIETER_THAN_INFO.has(request.log.level)) {
      done();
      return;
    }
    request.log.info(
      {
        method: request.method,
        route,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });

  app.addHook('preClose', (done) => {
    closing = true;
    closeDeadline = Date.now() + config.shutdownTimeoutMs;
    done();
  });
  app.addHook('onClose', async () => {
    const budget = Math.max(
      100,
      (closeDeadline || Date.now() + config.shutdownTimeoutMs) - Date.now(),
    );
    const lost = await queue.close(budget);
    const total = Object.values(lost).reduce((a, b) => a + (b ?? 0), 0);
    if (total > 0) app.log.error({ lost }, 'accepted events lost at shutdown');
    else app.log.info('forward queues drained');
    memory.close();
    await shared?.close();
    // Last, so the drain's final counts can still be scraped while it runs.
    await metricsApp.close();
  });

  if (config.maxEventLoopDelayMs > 0 || config.maxHeapUsedBytes > 0) {
    app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      maxHeapUsedBytes: config.maxHeapUsedBytes,
      retryAfter: RETRY_AFTER_SECONDS,
      // A non-null return value is what under-pressure sends as the body.
      pressureHandler: ((_request: FastifyRequest, reply: FastifyReply) => {
        metrics.rejected.labels('overloaded').inc();
        reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
        return { error: 'overloaded' };
      }) as unknown as () => void,
    });
  }
  app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      error: 'rate_limited',
    }),
  });

  // Each ingest scope counts requests per IP in an onRequest hook added before
  // the guard's, so a request is counted (and cut off with 429) before its key
  // is checked: guessing keys spends the same budget as sending events.
  const limited = (
    scope: FastifyInstance,
    max: number,
    minRoom: number,
    queryKey?: QueryKeyOptions,
  ) => {
    if (max > 0) {
      scope.addHook(
        'onRequest',
        scope.rateLimit({ max, timeWindow: config.rateLimitWindowMs }) as onRequestHookHandler,
      );
    }
    scope.addHook('onRequest', guardFor(minRoom, queryKey));
  };
  app.register(async (single) => {
    // CORS (CORS_ORIGINS) covers this scope only: its preflight routes sit
    // here, outside the rate limit and the guard of the POST routes below.
    if (corsOrigins.size > 0) {
      registerCors(single, { origins: corsOrigins, paths: [ROUTES.ingest, ROUTES.ingestV1] });
    }
    single.register(async (scope) => {
      limited(scope, config.rateLimitMax, 1, beacons);
      // navigator.sendBeacon sends a string as text/plain;charset=UTF-8 and
      // cannot set headers: a request whose key came as `?k=` may send its
      // JSON as text/plain (same size limit, same 400 codes); any other
      // text/plain request is refused 415 as before.
      scope.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
        if (!beacons.authenticated.has(request)) {
          done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
          return;
        }
        jsonParser(request, body as string, done);
      });
      registerIngestRoutes(scope, {
        intake,
        bodyLimit: config.singleBodyLimit,
        forwardClientIp: config.forwardClientIp,
      });
    });
  });
  app.register(async (scope) => {
    // The forwarder's route: all its traffic comes from a few addresses.
    // Refused before its body is read once less than a tenth of the queue
    // (at most one maximal batch) is free: the exact check is per batch.
    limited(
      scope,
      config.batchRateLimitMax,
      Math.min(MAX_BATCH_ITEMS, Math.floor(config.queueCapacity / 10)),
    );
    registerBatchRoute(scope, { intake, metrics, bodyLimit: config.batchBodyLimit });
  });
  registerHealthRoutes(app, {
    notReadyReason: () =>
      closing
        ? 'shutting_down'
        : queue.isFull()
          ? 'queue_full'
          : memory.pressure() !== null
            ? 'memory_pressure'
            : null,
  });

  return { app, metricsApp, metrics, queue, memory, shared };
}
