import { DEFAULT_MAX_EVENTS } from './event-store.js';

/** The sink process's settings, read from the environment. */
export interface SinkConfig {
  port: number;
  host: string;
  maxEvents: number;
  /** When set, the only PostHog project key accepted. */
  apiKey: string | undefined;
  /** When set, the only GA4 api_secret whose requests are kept. */
  gaApiSecret: string | undefined;
  logLevel: string;
}

/** Environment variable names for each setting. */
export const SINK_ENV = {
  port: 'PORT',
  host: 'HOST',
  maxEvents: 'SINK_MAX_EVENTS',
  apiKey: 'SINK_POSTHOG_API_KEY',
  gaApiSecret: 'SINK_GA_API_SECRET',
  logLevel: 'LOG_LEVEL',
} as const;

/** A setting the process cannot start with; `variable` names the culprit. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function intVar(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) {
    throw new ConfigError(
      name,
      `invalid ${name}: expected an integer ${min}-${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/** Reads and checks the sink's environment; throws `ConfigError` on a bad value. */
export function loadSinkConfig(env: NodeJS.ProcessEnv = process.env): SinkConfig {
  const host = env[SINK_ENV.host]?.trim() || '127.0.0.1';
  if (/[\s/]/.test(host)) {
    throw new ConfigError(
      SINK_ENV.host,
      `invalid HOST: expected a host name or IP address, got ${JSON.stringify(host)}`,
    );
  }
  const logLevel = env[SINK_ENV.logLevel]?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(
      SINK_ENV.logLevel,
      `invalid LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`,
    );
  }
  return {
    port: intVar(env, SINK_ENV.port, 8787, 0, 65535),
    host,
    maxEvents: intVar(env, SINK_ENV.maxEvents, DEFAULT_MAX_EVENTS, 1, 10_000_000),
    apiKey: env[SINK_ENV.apiKey]?.trim() || undefined,
    gaApiSecret: env[SINK_ENV.gaApiSecret]?.trim() || undefined,
    logLevel,
  };
}
