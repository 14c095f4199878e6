/** UDP port the forwarder listens on and clients send datagrams to. */
export const UDP_PORT = 7846;
/** Forwarder health port: TCP connect checks plus `GET /healthz`, `/readyz`, `/metrics`. */
export const HEALTH_PORT = 9000;
/** HTTP worker port. */
export const WORKER_PORT = 8080;
/** Fake analytics sink port for local runs. */
export const FAKE_SINK_PORT = 8787;

/** Header that carries the ingestion key on every HTTP request to the worker. */
export const INGESTION_KEY_HEADER = 'x-telemetry-key';

/** Worker routes. */
export const ROUTES = {
  ingest: '/ingest',
  ingestV1: '/v1/t',
  batch: '/v1/batch',
  healthz: '/healthz',
  readyz: '/readyz',
  metrics: '/metrics',
} as const;

/** Built-in HTTP endpoint used when `http_endpoint` is empty. */
export const DEFAULT_HTTP_ENDPOINT = 'https://api.runmat.com/v1/t';
/** Built-in UDP endpoint (`host:port`). */
export const DEFAULT_UDP_ENDPOINT = `udp.telemetry.runmat.com:${UDP_PORT}`;
/** Default PostHog capture host. */
export const DEFAULT_POSTHOG_HOST = 'https://us.i.posthog.com';
/** Default GA4 Measurement Protocol host. */
export const DEFAULT_GA_HOST = 'https://www.google-analytics.com';

/**
 * Largest serialized event, in bytes. 1500-byte Ethernet MTU minus the IPv6
 * (40) and UDP (8) headers: an event this size crosses the internet in one
 * unfragmented datagram, so UDP loss stays per-event.
 */
export const MAX_EVENT_BYTES = 1452;

/** Upper bound for identifier-like strings (os, arch, release, codes...). */
export const MAX_IDENTIFIER_LENGTH = 64;
/** Upper bound for the error class string. */
export const MAX_ERROR_CLASS_LENGTH = 256;
/** Upper bound for a GPU device name. */
export const MAX_DEVICE_NAME_LENGTH = 96;

/** Event names as the canonical contract spells them. */
export const CANONICAL_EVENTS = {
  runStarted: 'runtime.run.started',
  runFinished: 'runtime.run.finished',
} as const;

/** Legacy wire names for the runtime events, accepted and normalized. */
export const LEGACY_EVENTS = {
  runStarted: 'runtime_started',
  runFinished: 'runtime_finished',
} as const;

/** Installer events; they have no canonical dotted name. */
export const INSTALL_EVENTS = ['install_start', 'install_complete', 'install_failed'] as const;

export const RUN_KINDS = ['script', 'repl', 'benchmark', 'install', 'kernel'] as const;
export const FAILURE_STAGES = ['parser', 'hir', 'compile', 'runtime', 'unknown'] as const;
export const FAILURE_HOSTS = ['cli', 'wasm', 'kernel', 'desktop'] as const;
export const INSTALL_METHODS = ['shell', 'powershell'] as const;

/** GA4 Measurement Protocol limits the worker must respect (GA4 answers 2xx even when they are broken). */
export const GA4_LIMITS = {
  maxEventsPerRequest: 25,
  maxParamsPerEvent: 25,
  maxNameLength: 40,
  maxParamValueLength: 100,
} as const;

/**
 * How far from receipt a client `timestamp_ms` may be and still be trusted.
 * GA4 rejects events older than 72 hours; a clock a few minutes fast is common.
 */
export const TIMESTAMP_MAX_AGE_MS = 72 * 60 * 60 * 1000;
export const TIMESTAMP_MAX_SKEW_MS = 10 * 60 * 1000;
