import { DEFAULT_HTTP_ENDPOINT, DEFAULT_UDP_ENDPOINT } from '@runmat-telemetry/schema/browser';

/** How `shutdown()` treats events still queued or in flight. */
export type DrainMode = 'all' | 'none';

/** The `[runtime.telemetry]` keys, with the types RunMat's docs give them. */
export interface TelemetryConfig {
  enabled: boolean;
  show_payloads: boolean;
  /** "" means the built-in endpoint. */
  http_endpoint: string;
  /** `host:port`; "" disables UDP. */
  udp_endpoint: string;
  queue_size: number;
  sync_mode: boolean;
  drain_mode: DrainMode;
  drain_timeout_ms: number;
  require_ingestion_key: boolean;
}

export type TelemetryConfigKey = keyof TelemetryConfig;

/** Defaults from RunMat's public telemetry docs. */
export const DEFAULT_CONFIG: Readonly<TelemetryConfig> = Object.freeze({
  enabled: true,
  show_payloads: false,
  http_endpoint: '',
  udp_endpoint: DEFAULT_UDP_ENDPOINT,
  queue_size: 256,
  sync_mode: false,
  drain_mode: 'all',
  drain_timeout_ms: 50,
  require_ingestion_key: true,
});

/** Smallest queue the client will run with; smaller settings are raised to it. */
export const MIN_QUEUE_SIZE = 8;
/** Largest drain wait: telemetry must never hold a process's exit longer than this. */
export const MAX_DRAIN_TIMEOUT_MS = 5000;

export const CONFIG_KEYS = Object.keys(DEFAULT_CONFIG) as TelemetryConfigKey[];

type KeyKind = 'boolean' | 'string' | 'integer' | 'drain_mode';

/** Expected kind of each key, used to name the problem when a file has the wrong type. */
export const CONFIG_KEY_KINDS: Readonly<Record<TelemetryConfigKey, KeyKind>> = {
  enabled: 'boolean',
  show_payloads: 'boolean',
  http_endpoint: 'string',
  udp_endpoint: 'string',
  queue_size: 'integer',
  sync_mode: 'boolean',
  drain_mode: 'drain_mode',
  drain_timeout_ms: 'integer',
  require_ingestion_key: 'boolean',
};

/** The HTTP endpoint events go to once "" has been replaced by the built-in one. */
export function effectiveHttpEndpoint(config: Pick<TelemetryConfig, 'http_endpoint'>): string {
  return config.http_endpoint === '' ? DEFAULT_HTTP_ENDPOINT : config.http_endpoint;
}
