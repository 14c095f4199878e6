import {
  ConfigError,
  type Env,
  envSchema,
  envVariables,
  host,
  integer,
  type LogLevel,
  loadEnv,
  logLevel,
  port,
  secret,
} from '@runmat-telemetry/service';
import { DEFAULT_MAX_EVENTS } from './event-store.js';

export { ConfigError };

/** The sink process's environment; the README table is generated from it. */
export const sinkEnvSchema = envSchema({
  port: port('PORT', { default: 8787, description: 'listen port (`0` picks a free one)' }),
  host: host('HOST', { default: '127.0.0.1', description: 'interface to bind' }),
  maxEvents: integer('SINK_MAX_EVENTS', {
    default: DEFAULT_MAX_EVENTS,
    min: 1,
    max: 10_000_000,
    description: 'events kept before the oldest are evicted',
  }),
  apiKey: secret('SINK_POSTHOG_API_KEY', {
    defaultText: 'unset (any key)',
    description: 'the only PostHog project key accepted',
  }),
  gaApiSecret: secret('SINK_GA_API_SECRET', {
    defaultText: 'unset (any secret)',
    description: 'the only GA4 `api_secret` whose requests are kept',
  }),
  logLevel: logLevel('LOG_LEVEL', {
    default: 'info',
    description: 'pino level, any case; above `info` hides the `listening` line',
  }),
});

/** The sink process's settings, read from the environment. */
export interface SinkConfig {
  port: number;
  host: string;
  maxEvents: number;
  /** When set, the only PostHog project key accepted. */
  apiKey: string | undefined;
  /** When set, the only GA4 api_secret whose requests are kept. */
  gaApiSecret: string | undefined;
  logLevel: LogLevel;
}

/** Environment variable names for each setting. */
export const SINK_ENV = envVariables(sinkEnvSchema);

/** Reads and checks the sink's environment; throws `ConfigError` on a bad value. */
export function loadSinkConfig(env: Env = process.env): SinkConfig {
  return loadEnv(sinkEnvSchema, env);
}
