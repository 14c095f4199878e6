import { totalmem } from 'node:os';
import {
  DEFAULT_GA_HOST,
  DEFAULT_POSTHOG_HOST,
  MAX_INGEST_EVENT_BYTES,
  WORKER_METRICS_PORT,
  WORKER_PORT,
} from '@runmat-telemetry/schema';
import {
  MAX_MEMORY_BUDGET_MIB,
  type MemoryPlan,
  MIN_MEMORY_BUDGET_MIB,
  planMemory,
  type ReadText,
  readTextFile,
  resolveMemoryBudget,
} from './memory/memory-budget.js';

/**
 * Config field -> environment variable. The first block is the contract in
 * docs/architecture.md, Environment (names from the original deployment); the rest are tunables.
 */
export const WORKER_ENV = {
  port: 'PORT',
  host: 'HOST',
  ingestionKeys: 'INGESTION_KEY',
  posthogApiKey: 'POSTHOG_API_KEY',
  posthogHost: 'POSTHOG_HOST',
  gaMeasurementId: 'GA_MEASUREMENT_ID',
  gaApiSecret: 'GA_API_SECRET',
  gaHost: 'GA_HOST',
  logLevel: 'LOG_LEVEL',
  corsOrigins: 'CORS_ORIGINS',
  metricsPort: 'METRICS_PORT',
  metricsHost: 'METRICS_HOST',
  googleCloudProject: 'GOOGLE_CLOUD_PROJECT',
  dedupeRedisUrl: 'DEDUPE_REDIS_URL',
  memoryLimitMib: 'MEMORY_LIMIT_MIB',
  trustProxy: 'TRUST_PROXY',
  forwardClientIp: 'FORWARD_CLIENT_IP',
  rateLimitMax: 'RATE_LIMIT_MAX',
  rateLimitWindowMs: 'RATE_LIMIT_WINDOW_MS',
  batchRateLimitMax: 'BATCH_RATE_LIMIT_MAX',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  keepAliveTimeoutMs: 'KEEP_ALIVE_TIMEOUT_MS',
  queueCapacity: 'QUEUE_CAPACITY',
  queueMaxBytes: 'QUEUE_MAX_BYTES',
  dedupeWindowMs: 'DEDUPE_WINDOW_MS',
  dedupeMaxEntries: 'DEDUPE_MAX_ENTRIES',
  dedupeRedisCa: 'DEDUPE_REDIS_CA',
  dedupeRedisTimeoutMs: 'DEDUPE_REDIS_TIMEOUT_MS',
  dedupeRedisBreakerFailures: 'DEDUPE_REDIS_BREAKER_FAILURES',
  dedupeRedisBreakerCooldownMs: 'DEDUPE_REDIS_BREAKER_COOLDOWN_MS',
  dedupeRedisPrefix: 'DEDUPE_REDIS_PREFIX',
  singleBodyLimit: 'SINGLE_BODY_LIMIT_BYTES',
  batchBodyLimit: 'BATCH_BODY_LIMIT_BYTES',
  posthogBatchSize: 'POSTHOG_BATCH_SIZE',
  posthogFlushIntervalMs: 'POSTHOG_FLUSH_INTERVAL_MS',
  posthogTimeoutMs: 'POSTHOG_TIMEOUT_MS',
  posthogRetries: 'POSTHOG_RETRIES',
  posthogRetryDelayMs: 'POSTHOG_RETRY_DELAY_MS',
  posthogGzip: 'POSTHOG_GZIP',
  posthogConcurrency: 'POSTHOG_CONCURRENCY',
  ga4FlushIntervalMs: 'GA4_FLUSH_INTERVAL_MS',
  ga4TimeoutMs: 'GA4_TIMEOUT_MS',
  ga4Retries: 'GA4_RETRIES',
  ga4RetryDelayMs: 'GA4_RETRY_DELAY_MS',
  ga4Concurrency: 'GA4_CONCURRENCY',
  maxEventLoopDelayMs: 'MAX_EVENT_LOOP_DELAY_MS',
  maxHeapUsedBytes: 'MAX_HEAP_USED_BYTES',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
} as const;

/** Variables whose values must never be logged (the Redis URL carries its AUTH password). */
export const WORKER_SECRET_ENV = [
  'INGESTION_KEY',
  'POSTHOG_API_KEY',
  'GA_API_SECRET',
  'DEDUPE_REDIS_URL',
] as const;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

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
  trustProxy: boolean | number | string[];
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

/** A missing or malformed environment variable; `variable` names it. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function required(env: Env, name: string): string {
  const v = raw(env, name);
  if (v === undefined) throw new ConfigError(name, `missing ${name}: it is required`);
  return v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(name, `invalid ${name}: expected an integer ${min}-${max}, got "${v}"`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `invalid ${name}: expected true or false, got "${v}"`);
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const v = raw(env, name) ?? fallback;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(name, `invalid ${name}: expected an http(s) URL, got "${v}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `invalid ${name}: expected an http(s) URL, got "${v}"`);
  }
  return v.replace(/\/+$/, '');
}

function trustProxy(env: Env): WorkerConfig['trustProxy'] {
  const v = raw(env, WORKER_ENV.trustProxy);
  if (v === undefined || v === 'false' || v === '0') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const list = v.split(',').map((s) => s.trim());
  if (list.some((s) => !/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(s))) {
    throw new ConfigError(
      WORKER_ENV.trustProxy,
      `invalid TRUST_PROXY: expected true, false, a hop count or comma-separated addresses/CIDRs, got "${v}"`,
    );
  }
  return list;
}

function ingestionKeys(env: Env): string[] {
  const name = WORKER_ENV.ingestionKeys;
  const keys = required(env, name)
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  if (keys.length === 0) throw new ConfigError(name, `invalid ${name}: no key in the list`);
  if (keys.some((k) => k.length < 8 || k.length > 256 || /\s/.test(k))) {
    throw new ConfigError(
      name,
      `invalid ${name}: each key must be 8-256 characters without spaces`,
    );
  }
  return keys;
}

// Same rule as infra's `cors_origins` validation: lower-case http(s) scheme and
// DNS host, optional port, nothing after it (no path, query, fragment, slash).
const ORIGIN_PATTERN =
  /^https?:\/\/([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:[0-9]{1,5})?$/;

function corsOrigins(env: Env): string[] {
  const name = WORKER_ENV.corsOrigins;
  const v = raw(env, name);
  if (v === undefined) return [];
  const list = v
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  for (const origin of list) {
    if (origin.includes('*')) {
      throw new ConfigError(
        name,
        `invalid ${name}: "${origin}" is refused: list exact origins such as https://runmat.com, never a wildcard`,
      );
    }
    const port = /:(\d+)$/.exec(origin)?.[1];
    if (
      !ORIGIN_PATTERN.test(origin) ||
      (port !== undefined && (Number(port) < 1 || Number(port) > 65535))
    ) {
      throw new ConfigError(
        name,
        `invalid ${name}: "${origin}" is not an origin: expected scheme://host[:port] (lower-case http or https, no path, query or trailing slash)`,
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
        `invalid ${name}: "${origin}" names its scheme's default port; browsers send the origin without it (${origin.replace(/:\d+$/, '')})`,
      );
    }
  }
  return [...new Set(list)];
}

function metricsPort(env: Env, port: number): number {
  const name = WORKER_ENV.metricsPort;
  const n = int(env, name, WORKER_METRICS_PORT, 0, 65535);
  if (n !== 0 && n === port) {
    throw new ConfigError(
      name,
      `invalid ${name}: ${n} is the public PORT too; metrics need a port of their own`,
    );
  }
  return n;
}

// Project ids (and the older domain-scoped "example.com:project" form).
const PROJECT_ID_PATTERN = /^[a-z][a-z0-9.:-]{4,61}[a-z0-9]$/;

function googleCloudProject(env: Env): string | undefined {
  const name = WORKER_ENV.googleCloudProject;
  const v = raw(env, name);
  if (v !== undefined && !PROJECT_ID_PATTERN.test(v)) {
    throw new ConfigError(name, `invalid ${name}: expected a Google Cloud project id, got "${v}"`);
  }
  return v;
}

const KEY_PREFIX = /^[\x21-\x7e]{1,64}$/;

function sharedDedupe(env: Env, read: ReadText): SharedDedupeConfig | null {
  const E = WORKER_ENV;
  const v = raw(env, E.dedupeRedisUrl);
  const ca = raw(env, E.dedupeRedisCa);
  if (v === undefined) {
    if (ca !== undefined) {
      throw new ConfigError(
        E.dedupeRedisCa,
        'invalid DEDUPE_REDIS_CA: set only with DEDUPE_REDIS_URL',
      );
    }
    return null;
  }
  // The URL carries the AUTH password: no message ever repeats it.
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(
      E.dedupeRedisUrl,
      'invalid DEDUPE_REDIS_URL: expected redis://[:password@]host[:port][/db] or rediss://... (the value is not repeated: it may hold a password)',
    );
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
    throw new ConfigError(
      E.dedupeRedisUrl,
      `invalid DEDUPE_REDIS_URL: expected a redis:// or rediss:// URL with a host, got a ${url.protocol.replace(/:$/, '')}: URL`,
    );
  }
  let caPem: string | undefined;
  if (ca !== undefined) {
    if (url.protocol !== 'rediss:') {
      throw new ConfigError(
        E.dedupeRedisCa,
        'invalid DEDUPE_REDIS_CA: it needs a rediss:// DEDUPE_REDIS_URL (TLS)',
      );
    }
    caPem = ca.includes('-----BEGIN CERTIFICATE-----') ? ca : read(ca);
    if (caPem === undefined || !caPem.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        E.dedupeRedisCa,
        'invalid DEDUPE_REDIS_CA: expected PEM certificates, or the path of a readable file holding them',
      );
    }
  }
  const prefix = raw(env, E.dedupeRedisPrefix) ?? 'runmat:dedupe:';
  if (!KEY_PREFIX.test(prefix)) {
    throw new ConfigError(
      E.dedupeRedisPrefix,
      `invalid DEDUPE_REDIS_PREFIX: expected 1-64 printable characters without spaces, got "${prefix}"`,
    );
  }
  return {
    url: v,
    ca: caPem,
    timeoutMs: int(env, E.dedupeRedisTimeoutMs, 50, 1, 10_000),
    breakerFailures: int(env, E.dedupeRedisBreakerFailures, 5, 1, 1000),
    breakerCooldownMs: int(env, E.dedupeRedisBreakerCooldownMs, 1000, 10, 600_000),
    prefix,
  };
}

/** How the configuration reads the machine: files (cgroup limits, a CA path) and its RAM. */
export interface ConfigSystem {
  readText: ReadText;
  totalMemBytes: number;
}

const realSystem = (): ConfigSystem => ({ readText: readTextFile, totalMemBytes: totalmem() });

function requestTimeoutMs(env: Env): number {
  const name = WORKER_ENV.requestTimeoutMs;
  const n = int(env, name, 10_000, 0, 600_000);
  if (n !== 0 && n < 1000) {
    throw new ConfigError(name, `invalid ${name}: expected 0 (off) or 1000-600000, got "${n}"`);
  }
  return n;
}

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
  const explicitBudget = raw(env, E.memoryLimitMib);
  const memory = planMemory(
    resolveMemoryBudget(
      explicitBudget === undefined
        ? undefined
        : int(env, E.memoryLimitMib, 0, MIN_MEMORY_BUDGET_MIB, MAX_MEMORY_BUDGET_MIB),
      system.readText,
      system.totalMemBytes,
    ),
  );
  const warnings: string[] = [];
  const logLevel = (raw(env, E.logLevel) ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError(
      E.logLevel,
      `invalid LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`,
    );
  }
  const gaId = raw(env, E.gaMeasurementId);
  const gaSecret = raw(env, E.gaApiSecret);
  if (gaId !== undefined && !/^[A-Za-z0-9-]{1,40}$/.test(gaId)) {
    throw new ConfigError(E.gaMeasurementId, `invalid GA_MEASUREMENT_ID: got "${gaId}"`);
  }
  const gaHost = httpUrl(env, E.gaHost, DEFAULT_GA_HOST);
  if ((gaId === undefined) !== (gaSecret === undefined)) {
    warnings.push(
      'GA4 forwarding is off: set both GA_MEASUREMENT_ID and GA_API_SECRET to enable it',
    );
  }
  const posthogBatchSize = int(env, E.posthogBatchSize, 500, 1, 10_000);
  const port = int(env, E.port, WORKER_PORT, 0, 65535);
  const dedupeWindowMs = int(env, E.dedupeWindowMs, 10 * 60_000, 0, 86_400_000);
  let shared = sharedDedupe(env, system.readText);
  if (shared !== null && dedupeWindowMs === 0) {
    warnings.push('DEDUPE_REDIS_URL is not used: DEDUPE_WINDOW_MS=0 turns dedupe off');
    shared = null;
  }

  return {
    port,
    host: raw(env, E.host) ?? '0.0.0.0',
    ingestionKeys: ingestionKeys(env),
    posthogApiKey: required(env, E.posthogApiKey),
    posthogHost: httpUrl(env, E.posthogHost, DEFAULT_POSTHOG_HOST),
    ga4:
      gaId !== undefined && gaSecret !== undefined
        ? { measurementId: gaId, apiSecret: gaSecret, host: gaHost }
        : null,
    logLevel: logLevel as LogLevel,
    corsOrigins: corsOrigins(env),
    metricsPort: metricsPort(env, port),
    metricsHost: raw(env, E.metricsHost) ?? '127.0.0.1',
    googleCloudProject: googleCloudProject(env),
    trustProxy: trustProxy(env),
    forwardClientIp: bool(env, E.forwardClientIp, false),
    rateLimitMax: int(env, E.rateLimitMax, 1200, 0, 10_000_000),
    rateLimitWindowMs: int(env, E.rateLimitWindowMs, 60_000, 1000, 86_400_000),
    batchRateLimitMax: int(env, E.batchRateLimitMax, 60_000, 0, 10_000_000),
    requestTimeoutMs: requestTimeoutMs(env),
    keepAliveTimeoutMs: int(env, E.keepAliveTimeoutMs, 65_000, 1000, 3_600_000),
    queueCapacity: int(env, E.queueCapacity, 100_000, 1000, 10_000_000),
    queueMaxBytes: int(
      env,
      E.queueMaxBytes,
      memory.queueBytesPerDestination,
      1024 * 1024,
      Number.MAX_SAFE_INTEGER,
    ),
    dedupeWindowMs,
    dedupeMaxEntries: int(env, E.dedupeMaxEntries, memory.dedupeEntries, 0, 10_000_000),
    sharedDedupe: shared,
    memory,
    singleBodyLimit: int(env, E.singleBodyLimit, MAX_INGEST_EVENT_BYTES, 1024, 1024 * 1024),
    batchBodyLimit: int(env, E.batchBodyLimit, 1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
    posthogBatchSize,
    posthogFlushIntervalMs: int(env, E.posthogFlushIntervalMs, 500, 10, 60_000),
    posthogTimeoutMs: int(env, E.posthogTimeoutMs, 5000, 100, 60_000),
    posthogRetries: int(env, E.posthogRetries, 3, 0, 10),
    posthogRetryDelayMs: int(env, E.posthogRetryDelayMs, 500, 0, 60_000),
    posthogGzip: bool(env, E.posthogGzip, true),
    posthogConcurrency: int(env, E.posthogConcurrency, 16, 1, 64),
    ga4FlushIntervalMs: int(env, E.ga4FlushIntervalMs, 1000, 10, 60_000),
    ga4TimeoutMs: int(env, E.ga4TimeoutMs, 5000, 100, 60_000),
    ga4Retries: int(env, E.ga4Retries, 3, 0, 10),
    ga4RetryDelayMs: int(env, E.ga4RetryDelayMs, 250, 0, 60_000),
    ga4Concurrency: int(env, E.ga4Concurrency, 8, 1, 256),
    maxEventLoopDelayMs: int(env, E.maxEventLoopDelayMs, 1000, 0, 60_000),
    maxHeapUsedBytes: int(env, E.maxHeapUsedBytes, 0, 0, Number.MAX_SAFE_INTEGER),
    shutdownTimeoutMs: int(env, E.shutdownTimeoutMs, 9000, 100, 60_000),
    warnings,
  };
}
