import { totalmem } from 'node:os';
import {
  DEFAULT_GA_HOST,
  DEFAULT_POSTHOG_HOST,
  MAX_INGEST_EVENT_BYTES,
  WORKER_METRICS_PORT,
  WORKER_PORT,
} from '@runmat-telemetry/schema';
import {
  boolean,
  bytes,
  ConfigError,
  custom,
  durationMs,
  type Env,
  type EnvValues,
  envSchema,
  envVariables,
  host,
  integer,
  keyList,
  type LogLevel,
  loadEnv,
  logLevel,
  port,
  SHUTDOWN_GRACE_MS,
  secret,
  string,
  type TrustProxy,
  trustProxy,
  url,
} from '@runmat-telemetry/service';
import {
  MAX_MEMORY_BUDGET_MIB,
  type MemoryPlan,
  MIN_MEMORY_BUDGET_MIB,
  planMemory,
  type ReadText,
  readTextFile,
  resolveMemoryBudget,
} from './memory/memory-budget.js';

export { ConfigError, type LogLevel };

const MIB = 1024 * 1024;
const HTTP = ['http:', 'https:'] as const;

/**
 * The worker's environment, one field per variable: the first block is the
 * contract in docs/architecture.md, Environment (names kept from the original deployment), the rest
 * are tunables. Order is the check order and the README table's.
 */
export const workerEnvSchema = envSchema({
  port: port('PORT', { default: WORKER_PORT, description: 'listen port (`0` = ephemeral)' }),
  host: host('HOST', { default: '0.0.0.0', description: 'listen address' }),
  ingestionKeys: keyList('INGESTION_KEY', {
    required: true,
    description:
      'accepted key, or several comma-separated while rotating (`new,old`); each 8-256 characters',
  }),
  posthogApiKey: secret('POSTHOG_API_KEY', { required: true, description: 'PostHog project key' }),
  posthogHost: url('POSTHOG_HOST', {
    default: DEFAULT_POSTHOG_HOST,
    protocols: HTTP,
    trimTrailingSlash: true,
    description: 'PostHog capture host',
  }),
  gaMeasurementId: string('GA_MEASUREMENT_ID', {
    pattern: /^[A-Za-z0-9-]{1,40}$/,
    expected: 'a GA4 measurement id (letters, digits and dashes, at most 40)',
    description: 'GA4 measurement id; GA4 is on only when this and `GA_API_SECRET` are both set',
  }),
  gaApiSecret: secret('GA_API_SECRET', { description: 'GA4 Measurement Protocol secret' }),
  gaHost: url('GA_HOST', {
    default: DEFAULT_GA_HOST,
    protocols: HTTP,
    trimTrailingSlash: true,
    description: 'GA4 host',
  }),
  logLevel: logLevel('LOG_LEVEL', {
    default: 'info',
    description: 'pino level, any case: `fatal` `error` `warn` `info` `debug` `trace` `silent`',
  }),
  corsOrigins: custom(
    'CORS_ORIGINS',
    {
      default: [] as string[],
      show: () => 'unset (no CORS)',
      description:
        'exact browser origins, comma-separated (`https://runmat.com,http://localhost:5173`): CORS on `/ingest`, `/v1/t`; beacon keys only from these',
    },
    parseCorsOrigins,
  ),
  metricsPort: port('METRICS_PORT', {
    default: WORKER_METRICS_PORT,
    description:
      'port of the metrics listener (`GET /metrics` only; `0` = ephemeral); must differ from `PORT`. The public port answers 404 on `/metrics`',
  }),
  metricsHost: host('METRICS_HOST', {
    default: '127.0.0.1',
    description:
      'address of the metrics listener: loopback, so only the instance (on Cloud Run, the Managed Prometheus sidecar) reaches it',
  }),
  // Project ids (and the older domain-scoped "example.com:project" form).
  googleCloudProject: string('GOOGLE_CLOUD_PROJECT', {
    pattern: /^[a-z][a-z0-9.:-]{4,61}[a-z0-9]$/,
    expected: 'a Google Cloud project id',
    description:
      "project id for log lines' `logging.googleapis.com/trace` (`projects/<id>/traces/<trace>`); unset, the trace id alone",
  }),
  dedupeRedisUrl: url('DEDUPE_REDIS_URL', {
    protocols: ['redis:', 'rediss:'],
    secret: true,
    defaultText: 'unset (local window only)',
    description:
      '`redis://[:password@]host[:port][/db]` or `rediss://...` (TLS): dedupe shared by every instance; see [Shared dedupe](#shared-dedupe). It holds the AUTH password',
  }),
  memoryLimitMib: integer('MEMORY_LIMIT_MIB', {
    min: MIN_MEMORY_BUDGET_MIB,
    max: MAX_MEMORY_BUDGET_MIB,
    defaultText: 'the cgroup limit, else `512`',
    description:
      'the memory budget in MiB; see [Memory budget](#memory-budget). Terraform sets it to the Cloud Run limit',
  }),
  trustProxy: trustProxy('TRUST_PROXY', {
    default: false,
    description:
      "Fastify `trustProxy`: `true`, `false`, comma-separated addresses/CIDRs (checked with Fastify's own `@fastify/proxy-addr`), or a hop count `n`: the socket peer and the `n - 1` addresses before it in `X-Forwarded-For` are proxies (only where clients cannot reach the worker directly)",
  }),
  forwardClientIp: boolean('FORWARD_CLIENT_IP', {
    default: false,
    description:
      'forward the client IP to PostHog as `$ip` (GeoIP); off means it never leaves the worker',
  }),
  rateLimitMax: integer('RATE_LIMIT_MAX', {
    default: 1200,
    min: 0,
    max: 10_000_000,
    description:
      'single-event requests (`/ingest` and `/v1/t` together) per IP per window, counted before the key check; `0` disables',
  }),
  rateLimitWindowMs: durationMs('RATE_LIMIT_WINDOW_MS', {
    default: 60_000,
    min: 1000,
    max: 86_400_000,
    description: 'rate-limit window (both limits)',
  }),
  batchRateLimitMax: integer('BATCH_RATE_LIMIT_MAX', {
    default: 60_000,
    min: 0,
    max: 10_000_000,
    description:
      "`/v1/batch` requests per IP per window, a separate budget (the forwarder's route: all its traffic comes from a few addresses); `0` disables",
  }),
  requestTimeoutMs: durationMs('REQUEST_TIMEOUT_MS', {
    default: 10_000,
    min: 0,
    max: 600_000,
    check: (n) => (n !== 0 && n < 1000 ? `expected 0 (off) or 1000-600000, got "${n}"` : undefined),
    description:
      'longest a client may take to send a whole request, headers and body (408 and closed after); `0` disables, else at least 1000',
  }),
  keepAliveTimeoutMs: durationMs('KEEP_ALIVE_TIMEOUT_MS', {
    default: 65_000,
    min: 1000,
    max: 3_600_000,
    description:
      "idle keep-alive connections are closed after this; behind a proxy that reuses connections, keep it above the proxy's idle timeout",
  }),
  queueCapacity: integer('QUEUE_CAPACITY', {
    default: 100_000,
    min: 1000,
    max: 10_000_000,
    description: 'events held for forwarding per destination before 503 `queue_full`',
  }),
  queueMaxBytes: bytes('QUEUE_MAX_BYTES', {
    min: MIB,
    max: Number.MAX_SAFE_INTEGER,
    defaultText: 'from the budget',
    description:
      'bytes held for forwarding per destination (serialized events plus per-event overhead) before 503 `queue_full`; 12% of (budget - 96 MiB): 49.9 MiB at 512',
  }),
  dedupeWindowMs: durationMs('DEDUPE_WINDOW_MS', {
    default: 10 * 60_000,
    min: 0,
    max: 86_400_000,
    description: 'how long a uuid is remembered, locally and in Redis (`0` disables dedupe)',
  }),
  dedupeMaxEntries: integer('DEDUPE_MAX_ENTRIES', {
    min: 0,
    max: 10_000_000,
    defaultText: 'from the budget',
    description:
      'bound on uuids the local window remembers: 2% of the budget at 32 bytes each (335,544 at 512 MiB)',
  }),
  dedupeRedisCa: string('DEDUPE_REDIS_CA', {
    defaultText: "unset (Node's CAs)",
    description:
      "PEM CA certificate(s) the `rediss://` server's certificate must chain to, or the path of a file holding them (Memorystore: the instance's server CA)",
  }),
  dedupeRedisTimeoutMs: durationMs('DEDUPE_REDIS_TIMEOUT_MS', {
    default: 50,
    min: 1,
    max: 10_000,
    description:
      'longest a request waits on its claim; later, it goes on with the local window (fail open, `timeout`)',
  }),
  dedupeRedisBreakerFailures: integer('DEDUPE_REDIS_BREAKER_FAILURES', {
    default: 5,
    min: 1,
    max: 1000,
    description:
      'consecutive failed or timed-out claims that open the circuit (Redis skipped, `circuit_open`)',
  }),
  dedupeRedisBreakerCooldownMs: durationMs('DEDUPE_REDIS_BREAKER_COOLDOWN_MS', {
    default: 1000,
    min: 10,
    max: 600_000,
    description:
      'how long an open circuit skips Redis before the next claim is let through as a probe',
  }),
  dedupeRedisPrefix: string('DEDUPE_REDIS_PREFIX', {
    default: 'runmat:dedupe:',
    pattern: /^[\x21-\x7e]{1,64}$/,
    expected: '1-64 printable characters without spaces',
    description: 'key namespace (`<prefix><uuid>`)',
  }),
  singleBodyLimit: bytes('SINGLE_BODY_LIMIT_BYTES', {
    default: MAX_INGEST_EVENT_BYTES,
    min: 1024,
    max: MIB,
    description:
      'body limit of `/ingest`, `/v1/t` (413 above); 32 KiB: real Rust events reach 16.7 KB',
  }),
  batchBodyLimit: bytes('BATCH_BODY_LIMIT_BYTES', {
    default: MIB,
    min: 16 * 1024,
    max: 64 * MIB,
    description: 'body limit of `/v1/batch` (413 above)',
  }),
  posthogBatchSize: integer('POSTHOG_BATCH_SIZE', {
    default: 500,
    min: 1,
    max: 10_000,
    description: 'events per PostHog `/batch/` request',
  }),
  posthogFlushIntervalMs: durationMs('POSTHOG_FLUSH_INTERVAL_MS', {
    default: 500,
    min: 10,
    max: 60_000,
    description: 'longest wait before a partial batch is sent',
  }),
  posthogTimeoutMs: durationMs('POSTHOG_TIMEOUT_MS', {
    default: 5000,
    min: 100,
    max: 60_000,
    description: 'per-request timeout',
  }),
  posthogRetries: integer('POSTHOG_RETRIES', {
    default: 3,
    min: 0,
    max: 10,
    description: 'retries on 408/429/5xx/network errors',
  }),
  posthogRetryDelayMs: durationMs('POSTHOG_RETRY_DELAY_MS', {
    default: 500,
    min: 0,
    max: 60_000,
    description:
      'first backoff ceiling of the shared retry policy: full jitter, doubling per retry up to 32 times this; a `Retry-After` answer sets the wait instead',
  }),
  posthogGzip: boolean('POSTHOG_GZIP', {
    default: true,
    description:
      'gzip `/batch/` bodies (level 1: within a few percent of level 6 for batches of similar events, at half the CPU)',
  }),
  posthogConcurrency: integer('POSTHOG_CONCURRENCY', {
    default: 16,
    min: 1,
    max: 64,
    description:
      '`/batch/` requests in flight at once (one posthog-node client each). Under load each request waits on a busy event loop, so throughput to PostHog grows with this',
  }),
  ga4FlushIntervalMs: durationMs('GA4_FLUSH_INTERVAL_MS', {
    default: 1000,
    min: 10,
    max: 60_000,
    description: 'longest wait before a partial GA4 group is sent',
  }),
  ga4TimeoutMs: durationMs('GA4_TIMEOUT_MS', {
    default: 5000,
    min: 100,
    max: 60_000,
    description: 'per-request timeout',
  }),
  ga4Retries: integer('GA4_RETRIES', {
    default: 3,
    min: 0,
    max: 10,
    description: 'retries on 408/429/5xx/network errors',
  }),
  ga4RetryDelayMs: durationMs('GA4_RETRY_DELAY_MS', {
    default: 250,
    min: 0,
    max: 60_000,
    description:
      'first backoff ceiling of the shared retry policy: full jitter, doubling per retry up to 32 times this; a `Retry-After` answer sets the wait instead',
  }),
  ga4Concurrency: integer('GA4_CONCURRENCY', {
    default: 8,
    min: 1,
    max: 256,
    description: 'parallel GA4 requests',
  }),
  maxEventLoopDelayMs: durationMs('MAX_EVENT_LOOP_DELAY_MS', {
    default: 1000,
    min: 0,
    max: 60_000,
    description: 'shed load (503 `overloaded`) above this event-loop delay; `0` disables',
  }),
  maxHeapUsedBytes: bytes('MAX_HEAP_USED_BYTES', {
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    description:
      'shed load above this heap use; `0` disables (the memory budget sheds on its own lines regardless)',
  }),
  shutdownTimeoutMs: durationMs('SHUTDOWN_TIMEOUT_MS', {
    default: 9000,
    min: 100,
    max: 60_000,
    description: `drain budget at shutdown; above ${SHUTDOWN_GRACE_MS - 500} it is cut to ${SHUTDOWN_GRACE_MS - 500}, inside Cloud Run's ${SHUTDOWN_GRACE_MS / 1000} s grace`,
  }),
});

/** Config field -> environment variable (`WORKER_ENV.port === 'PORT'`). */
export const WORKER_ENV = envVariables(workerEnvSchema);

/** Variables whose values must never be logged (the Redis URL carries its AUTH password). */
export const WORKER_SECRET_ENV = [
  'INGESTION_KEY',
  'POSTHOG_API_KEY',
  'GA_API_SECRET',
  'DEDUPE_REDIS_URL',
] as const;

/** GA4 Measurement Protocol settings; present only when both id and secret are set. */
export interface Ga4Config {
  measurementId: string;
  apiSecret: string;
  host: string;
}

/** Shared dedupe across instances (DEDUPE_REDIS_URL is set). */
export interface SharedDedupeConfig {
  /** `redis://` or `rediss://` URL, with the AUTH password if any. Secret. */
  url: string;
  /** PEM CA bundle for `rediss://` (DEDUPE_REDIS_CA), else the system's CAs. */
  ca: string | undefined;
  /** Longest a claim may take before the intake goes on without it. */
  timeoutMs: number;
  /** Consecutive failures that open the circuit breaker. */
  breakerFailures: number;
  /** How long an open circuit skips Redis before one probe is let through. */
  breakerCooldownMs: number;
  /** Key namespace. */
  prefix: string;
}

/** Validated worker configuration. */
export interface WorkerConfig {
  port: number;
  host: string;
  /** Accepted ingestion keys; several while a key is being rotated. */
  ingestionKeys: string[];
  posthogApiKey: string;
  posthogHost: string;
  ga4: Ga4Config | null;
  logLevel: LogLevel;
  /**
   * Exact browser origins (`scheme://host[:port]`) answered with CORS on
   * `/ingest` and `/v1/t`, and the only origins a query-string key (`?k=`,
   * beacons) is accepted from. Empty: no CORS headers, no query keys.
   */
  corsOrigins: string[];
  /** Port of the metrics listener (`GET /metrics`); never the public port. */
  metricsPort: number;
  /** Address of the metrics listener: loopback by default, so only the instance reaches it. */
  metricsHost: string;
  /**
   * Google Cloud project id for log trace fields
   * (`projects/<id>/traces/<trace>`); unset, the trace id is written alone.
   */
  googleCloudProject: string | undefined;
  /** Fastify `trustProxy`: false, true, a hop count, or a list of addresses/CIDRs. */
  trustProxy: TrustProxy;
  forwardClientIp: boolean;
  /**
   * Single-event requests per IP per window, counted before the key check (so
   * failed key guesses count too); 0 disables the limit.
   */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** `/v1/batch` requests per IP per window (a separate, higher budget); 0 disables. */
  batchRateLimitMax: number;
  /** Longest a client may take to send a whole request (headers and body); 0 disables. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open. */
  keepAliveTimeoutMs: number;
  /** Events held for forwarding (per destination) before new requests get 503. */
  queueCapacity: number;
  /** Bytes held for forwarding (per destination) before new requests get 503; from the memory budget. */
  queueMaxBytes: number;
  dedupeWindowMs: number;
  /** Bound on the local window; from the memory budget unless DEDUPE_MAX_ENTRIES is set. */
  dedupeMaxEntries: number;
  /** Null: the in-process window alone. */
  sharedDedupe: SharedDedupeConfig | null;
  /** The memory budget and what it sizes (MEMORY_LIMIT_MIB, else the cgroup limit, else 512 MiB). */
  memory: MemoryPlan;
  singleBodyLimit: number;
  batchBodyLimit: number;
  posthogBatchSize: number;
  posthogFlushIntervalMs: number;
  posthogTimeoutMs: number;
  posthogRetries: number;
  posthogRetryDelayMs: number;
  posthogGzip: boolean;
  /** `/batch/` requests in flight at once (one posthog-node client each). */
  posthogConcurrency: number;
  ga4FlushIntervalMs: number;
  ga4TimeoutMs: number;
  ga4Retries: number;
  ga4RetryDelayMs: number;
  ga4Concurrency: number;
  /** Shed load (503 overloaded) above this event-loop delay; 0 disables. */
  maxEventLoopDelayMs: number;
  /** Shed load above this heap use; 0 disables. */
  maxHeapUsedBytes: number;
  /** Bound on the whole graceful shutdown (Cloud Run kills at 10 s). */
  shutdownTimeoutMs: number;
  /** Non-fatal remarks for the operator (e.g. GA4 half configured). */
  warnings: string[];
}

// Same rule as infra's `cors_origins` validation: lower-case http(s) scheme and
// DNS host, optional port, nothing after it (no path, query, fragment, slash).
const ORIGIN_PATTERN =
  /^https?:\/\/([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?$/;

function parseCorsOrigins(text: string, name: string): string[] {
  const list = text
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  for (const origin of list) {
    if (origin.includes('*')) {
      throw new ConfigError(
        name,
        `"${origin}" is refused: list exact origins such as https://runmat.com, never a wildcard`,
      );
    }
    const port = /:(\d+)$/.exec(origin)?.[1];
    if (
      !ORIGIN_PATTERN.test(origin) ||
      (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    ) {
      throw new ConfigError(
        name,
        `"${origin}" is not an origin: expected scheme://host[:port] (lower-case http or https, no path, query or trailing slash)`,
      );
    }
    // Browsers serialize an origin without its scheme's default port, so
    // "https://runmat.com:443" would never match the Origin header.
    if (
      (origin.startsWith('https:') && port === '443') ||
      (origin.startsWith('http:') && port === '80')
    ) {
      throw new ConfigError(
        name,
        `"${origin}" names its scheme's default port; browsers send the origin without it (${origin.replace(/:\d+$/, '')})`,
      );
    }
  }
  return [...new Set(list)];
}

type WorkerEnv = EnvValues<typeof workerEnvSchema>;

function sharedDedupe(values: WorkerEnv, read: ReadText): SharedDedupeConfig | null {
  const E = WORKER_ENV;
  const url = values.dedupeRedisUrl;
  const ca = values.dedupeRedisCa;
  if (url === undefined) {
    if (ca !== undefined)
      throw new ConfigError(E.dedupeRedisCa, `set only with ${E.dedupeRedisUrl}`);
    return null;
  }
  let caPem: string | undefined;
  if (ca !== undefined) {
    if (!url.startsWith('rediss:')) {
      throw new ConfigError(E.dedupeRedisCa, `it needs a rediss:// ${E.dedupeRedisUrl} (TLS)`);
    }
    caPem = ca.includes('-----BEGIN CERTIFICATE-----') ? ca : read(ca);
    if (caPem === undefined || !caPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        E.dedupeRedisCa,
        'expected PEM certificates, or the path of a readable file holding them',
      );
    }
  }
  return {
    url,
    ca: caPem,
    timeoutMs: values.dedupeRedisTimeoutMs,
    breakerFailures: values.dedupeRedisBreakerFailures,
    breakerCooldownMs: values.dedupeRedisBreakerCooldownMs,
    prefix: values.dedupeRedisPrefix,
  };
}

/** How the configuration reads the machine: files (cgroup limits, a CA path) and its RAM. */
export interface ConfigSystem {
  readText: ReadText;
  totalMemBytes: number;
}

const realSystem = (): ConfigSystem => ({ readText: readTextFile, totalMemBytes: totalmem() });

/**
 * Reads and validates the worker's configuration. No logging, no exit; the
 * only reads are the cgroup memory limit and a DEDUPE_REDIS_CA file (both
 * through `system`). Throws {@link ConfigError} naming the first bad variable.
 */
export function loadWorkerConfig(
  env: Env = process.env,
  system: ConfigSystem = realSystem(),
): WorkerConfig {
  const E = WORKER_ENV;
  const values = loadEnv(workerEnvSchema, env);
  if (values.metricsPort !== 0 && values.metricsPort === values.port) {
    throw new ConfigError(
      E.metricsPort,
      `${values.metricsPort} is the public PORT too; metrics need a port of their own`,
    );
  }
  const memory = planMemory(
    resolveMemoryBudget(values.memoryLimitMib, system.readText, system.totalMemBytes),
  );
  const warnings: string[] = [];
  const { gaMeasurementId: gaId, gaApiSecret: gaSecret } = values;
  if ((gaId === undefined) !== (gaSecret === undefined)) {
    warnings.push(
      'GA4 forwarding is off: set both GA_MEASUREMENT_ID and GA_API_SECRET to enable it',
    );
  }
  let shared = sharedDedupe(values, system.readText);
  if (shared !== null && values.dedupeWindowMs === 0) {
    warnings.push('DEDUPE_REDIS_URL is not used: DEDUPE_WINDOW_MS=0 turns dedupe off');
    shared = null;
  }
  const {
    gaMeasurementId: _id,
    gaApiSecret: _secret,
    gaHost,
    dedupeRedisUrl: _url,
    dedupeRedisCa: _ca,
    dedupeRedisTimeoutMs: _timeout,
    dedupeRedisBreakerFailures: _failures,
    dedupeRedisBreakerCooldownMs: _cooldown,
    dedupeRedisPrefix: _prefix,
    memoryLimitMib: _budget,
    queueMaxBytes,
    dedupeMaxEntries,
    ...rest
  } = values;
  return {
    ...rest,
    ga4:
      gaId !== undefined && gaSecret !== undefined
        ? { measurementId: gaId, apiSecret: gaSecret, host: gaHost }
        : null,
    queueMaxBytes: queueMaxBytes ?? memory.queueBytesPerDestination,
    dedupeMaxEntries: dedupeMaxEntries ?? memory.dedupeEntries,
    sharedDedupe: shared,
    memory,
    warnings,
  };
}
