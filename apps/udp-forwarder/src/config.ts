import { isIP } from 'node:net';
import { HEALTH_PORT, UDP_PORT } from '@runmat-telemetry/schema';

/** Environment variable behind each forwarder setting. */
export const FORWARDER_ENV = {
  udpPort: 'UDP_PORT',
  udpHost: 'UDP_HOST',
  healthPort: 'HEALTH_PORT',
  healthHost: 'HEALTH_HOST',
  endpoint: 'TELEMETRY_HTTP_ENDPOINT',
  ingestionKey: 'TELEMETRY_INGESTION_KEY',
  concurrency: 'FORWARDER_CONCURRENCY',
  logLevel: 'LOG_LEVEL',
  recvBufferBytes: 'UDP_RECV_BUFFER_BYTES',
  queueMaxEvents: 'QUEUE_MAX_EVENTS',
  queueMaxBytes: 'QUEUE_MAX_BYTES',
  batchMaxEvents: 'BATCH_MAX_EVENTS',
  batchMaxBytes: 'BATCH_MAX_BYTES',
  batchMaxWaitMs: 'BATCH_MAX_WAIT_MS',
  requestTimeoutMs: 'REQUEST_TIMEOUT_MS',
  retryBaseMs: 'RETRY_BASE_MS',
  retryMaxMs: 'RETRY_MAX_MS',
  retryMaxElapsedMs: 'RETRY_MAX_ELAPSED_MS',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
} as const;

/** Variables whose values must never be logged. */
export const FORWARDER_SECRET_ENV = ['TELEMETRY_INGESTION_KEY'] as const;

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

/** Typed, validated forwarder settings. */
export interface ForwarderConfig {
  udpPort: number;
  udpHost: string;
  healthPort: number;
  healthHost: string;
  /** Full URL of the worker's `POST /v1/batch`. */
  endpoint: URL;
  ingestionKey: string;
  /** Most batch requests in flight at once. */
  concurrency: number;
  logLevel: LogLevel;
  /** Requested SO_RCVBUF; the kernel may cap it (see `net.core.rmem_max`). */
  recvBufferBytes: number;
  queueMaxEvents: number;
  queueMaxBytes: number;
  batchMaxEvents: number;
  batchMaxBytes: number;
  batchMaxWaitMs: number;
  requestTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** How long one batch keeps being retried before its events count as failed. */
  retryMaxElapsedMs: number;
  /** Bound on the flush at shutdown. */
  shutdownTimeoutMs: number;
}

/** A bad or missing setting; `variable` names the environment variable. */
export class ConfigError extends Error {
  readonly code = 'invalid_config';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`invalid ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function readInt(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(
      variable,
      `expected an integer ${min}-${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function readHost(env: Env, variable: string, fallback: string): string {
  const raw = env[variable]?.trim();
  if (!raw) return fallback;
  // dgram binds to addresses, not names, so a typo surfaces here instead of at bind time.
  if (isIP(raw) === 0 && raw !== 'localhost') {
    throw new ConfigError(variable, `expected an IPv4 or IPv6 address, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function readEndpoint(env: Env): URL {
  const variable = FORWARDER_ENV.endpoint;
  const raw = env[variable]?.trim();
  if (!raw) throw new ConfigError(variable, 'required (full URL of the worker POST /v1/batch)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `expected an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `expected an http(s) URL, got ${JSON.stringify(raw)}`);
  }
  return url;
}

const MIB = 1024 * 1024;

/**
 * Reads and validates the forwarder settings. Throws {@link ConfigError} naming
 * the first bad variable; has no side effects.
 */
export function loadForwarderConfig(env: Env = process.env): ForwarderConfig {
  const E = FORWARDER_ENV;
  const ingestionKey = env[E.ingestionKey]?.trim();
  if (!ingestionKey) throw new ConfigError(E.ingestionKey, 'required (the worker key)');

  const logLevel = (env[E.logLevel]?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      E.logLevel,
      `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(env[E.logLevel])}`,
    );
  }

  const config: ForwarderConfig = {
    udpPort: readInt(env, E.udpPort, UDP_PORT, 0, 65535),
    udpHost: readHost(env, E.udpHost, '0.0.0.0'),
    healthPort: readInt(env, E.healthPort, HEALTH_PORT, 0, 65535),
    healthHost: readHost(env, E.healthHost, '0.0.0.0'),
    endpoint: readEndpoint(env),
    ingestionKey,
    concurrency: readInt(env, E.concurrency, 8, 1, 256),
    logLevel,
    recvBufferBytes: readInt(env, E.recvBufferBytes, 32 * MIB, 64 * 1024, 1024 * MIB),
    queueMaxEvents: readInt(env, E.queueMaxEvents, 100_000, 1, 10_000_000),
    queueMaxBytes: readInt(env, E.queueMaxBytes, 64 * MIB, 4096, 4096 * MIB),
    // The worker's batch route takes at most 1000 items.
    batchMaxEvents: readInt(env, E.batchMaxEvents, 500, 1, 1000),
    // Stays under a 1 MiB request body limit on the worker.
    batchMaxBytes: readInt(env, E.batchMaxBytes, 768 * 1024, 4096, 64 * MIB),
    batchMaxWaitMs: readInt(env, E.batchMaxWaitMs, 20, 0, 60_000),
    requestTimeoutMs: readInt(env, E.requestTimeoutMs, 10_000, 100, 600_000),
    retryBaseMs: readInt(env, E.retryBaseMs, 100, 1, 60_000),
    retryMaxMs: readInt(env, E.retryMaxMs, 10_000, 1, 600_000),
    retryMaxElapsedMs: readInt(env, E.retryMaxElapsedMs, 300_000, 0, 86_400_000),
    shutdownTimeoutMs: readInt(env, E.shutdownTimeoutMs, 10_000, 0, 600_000),
  };
  if (config.retryMaxMs < config.retryBaseMs) {
    throw new ConfigError(E.retryMaxMs, `must be >= ${E.retryBaseMs} (${config.retryBaseMs})`);
  }
  return config;
}
