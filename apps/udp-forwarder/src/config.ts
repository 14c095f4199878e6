import { HEALTH_PORT, UDP_PORT } from '@runmat-telemetry/schema';
import {
  bytes,
  ConfigError,
  durationMs,
  type Env,
  envSchema,
  envVariables,
  host,
  integer,
  key,
  type LogLevel,
  loadEnv,
  logLevel,
  port,
  SHUTDOWN_GRACE_MS,
  url,
} from '@runmat-telemetry/service';

export { ConfigError, type LogLevel };

const MIB = 1024 * 1024;

/**
 * The forwarder's environment: one field per setting, in the order they are
 * checked and documented (the README table is generated from it).
 */
export const forwarderEnvSchema = envSchema({
  udpPort: port('UDP_PORT', { default: UDP_PORT, description: 'UDP port (`0` = ephemeral)' }),
  udpHost: host('UDP_HOST', {
    default: '0.0.0.0',
    literal: true,
    description: 'UDP bind address (an IPv4 or IPv6 literal: a typo fails here, not at bind time)',
  }),
  healthPort: port('HEALTH_PORT', {
    default: HEALTH_PORT,
    description: 'health and metrics port (`0` = ephemeral)',
  }),
  healthHost: host('HEALTH_HOST', {
    default: '0.0.0.0',
    literal: true,
    description: 'health bind address',
  }),
  endpoint: url('TELEMETRY_HTTP_ENDPOINT', {
    required: true,
    protocols: ['http:', 'https:'],
    description: "full URL of the worker's `POST /v1/batch`",
  }),
  ingestionKey: key('TELEMETRY_INGESTION_KEY', {
    required: true,
    description:
      "sent as `x-telemetry-key`: one of the worker's `INGESTION_KEY`s (8-256 characters, the worker's rule)",
  }),
  concurrency: integer('FORWARDER_CONCURRENCY', {
    default: 8,
    min: 1,
    max: 256,
    description: "most batch requests in flight (also the pool's connection count)",
  }),
  logLevel: logLevel('LOG_LEVEL', {
    default: 'info',
    description: 'pino level, any case: `fatal` `error` `warn` `info` `debug` `trace` `silent`',
  }),
  recvBufferBytes: bytes('UDP_RECV_BUFFER_BYTES', {
    default: 32 * MIB,
    min: 64 * 1024,
    max: 1024 * MIB,
    description:
      'SO_RCVBUF: 32 MiB holds ~1000 fragmented 16 KiB datagrams; capped at `rmem_max` (warned)',
  }),
  queueMaxEvents: integer('QUEUE_MAX_EVENTS', {
    default: 100_000,
    min: 1,
    max: 10_000_000,
    description: 'queue bound in events',
  }),
  queueMaxBytes: bytes('QUEUE_MAX_BYTES', {
    default: 64 * MIB,
    min: 4096,
    max: 4096 * MIB,
    description: 'queue bound in bytes (of batch items)',
  }),
  // The worker's batch route takes at most 1000 items.
  batchMaxEvents: integer('BATCH_MAX_EVENTS', {
    default: 500,
    min: 1,
    max: 1000,
    description: "events per request (at most 1000, the worker's limit)",
  }),
  // Stays under a 1 MiB request body limit on the worker.
  batchMaxBytes: bytes('BATCH_MAX_BYTES', {
    default: 768 * 1024,
    min: 4096,
    max: 64 * MIB,
    description: "bytes per request (under the worker's 1 MiB body limit)",
  }),
  batchMaxWaitMs: durationMs('BATCH_MAX_WAIT_MS', {
    default: 20,
    min: 0,
    max: 60_000,
    description: "oldest event's longest wait before a partial batch is sent",
  }),
  requestTimeoutMs: durationMs('REQUEST_TIMEOUT_MS', {
    default: 10_000,
    min: 100,
    max: 600_000,
    description: 'headers/body timeout per request',
  }),
  retryBaseMs: durationMs('RETRY_BASE_MS', {
    default: 100,
    min: 1,
    max: 60_000,
    description:
      'first backoff ceiling of the shared retry policy (full jitter, doubling per retry); a `Retry-After` answer sets the wait instead',
  }),
  retryMaxMs: durationMs('RETRY_MAX_MS', {
    default: 10_000,
    min: 1,
    max: 600_000,
    description: 'backoff ceiling (at least `RETRY_BASE_MS`)',
  }),
  retryMaxElapsedMs: durationMs('RETRY_MAX_ELAPSED_MS', {
    default: 300_000,
    min: 0,
    max: 86_400_000,
    description: 'how long one batch is retried before its events count as failed',
  }),
  shutdownTimeoutMs: durationMs('SHUTDOWN_TIMEOUT_MS', {
    default: 10_000,
    min: 0,
    max: 600_000,
    description: `bound on the flush at SIGTERM/SIGINT; the process runs at most ${SHUTDOWN_GRACE_MS / 1000} s after the signal, so above ${SHUTDOWN_GRACE_MS - 500} it is cut to ${SHUTDOWN_GRACE_MS - 500}`,
  }),
});

/** Environment variable behind each forwarder setting. */
export const FORWARDER_ENV = envVariables(forwarderEnvSchema);

/** Variables whose values must never be logged. */
export const FORWARDER_SECRET_ENV = ['TELEMETRY_INGESTION_KEY'] as const;

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

/**
 * Reads and validates the forwarder settings. Throws {@link ConfigError} naming
 * the first bad variable; has no side effects.
 */
export function loadForwarderConfig(env: Env = process.env): ForwarderConfig {
  const values = loadEnv(forwarderEnvSchema, env);
  if (values.retryMaxMs < values.retryBaseMs) {
    throw new ConfigError(
      FORWARDER_ENV.retryMaxMs,
      `must be >= ${FORWARDER_ENV.retryBaseMs} (${values.retryBaseMs})`,
    );
  }
  return { ...values, endpoint: new URL(values.endpoint) };
}
