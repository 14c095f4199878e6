/** UDP port the forwarder listens on and clients send datagrams to. */
export const UDP_PORT = 7846;
/** Forwarder health port: TCP connect checks plus `GET /healthz`, `/readyz`, `/metrics`. */
export const HEALTH_PORT = 9000;
/** HTTP worker port. */
export const WORKER_PORT = 8080;
/**
 * Worker metrics port (`GET /metrics`), bound to loopback by default: the
 * public port never serves metrics. 9464 is the port OpenTelemetry's
 * Prometheus exporter uses.
 */
export const WORKER_METRICS_PORT = 9464;
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
 * Largest serialized event, in bytes, over HTTP and over UDP. RunMat's Rust
 * runtime attaches its whole provider snapshot (device, six dispatch
 * categories, a launch log of up to 64 kernels) to every finished event, so a
 * GPU run's event is 2.4-12 KB and travels as one fragmented IPv4 datagram.
 */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * Largest single event a collector takes, in one datagram or one HTTP body.
 * Above `MAX_EVENT_BYTES` on purpose: the Rust runtime does not bound its
 * snapshot (`bind_group_cache_by_layout` grows with a long REPL session; a
 * real one measured 16.7 KB), and only the small projection is kept anyway.
 * Twice that real maximum; still well under a UDP datagram's 65,507 bytes, so
 * an oversize datagram is caught and counted before it is decoded.
 */
export const MAX_INGEST_EVENT_BYTES = 32 * 1024;

/** Upper bound for identifier-like strings (os, arch, release, codes...). */
export const MAX_IDENTIFIER_LENGTH = 64;
/** Upper bound for the error class string. */
export const MAX_ERROR_CLASS_LENGTH = 256;
/** Upper bound for a GPU device name. */
export const MAX_DEVICE_NAME_LENGTH = 96;
/** Upper bound for a GPU vendor name. */
export const MAX_VENDOR_LENGTH = 64;

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

/**
 * Other spellings real installers have sent, mapped to the installer event:
 * the camelCase envelope of `install.sh` / `install.ps1` uses dotted names.
 */
export const INSTALL_EVENT_ALIASES: Readonly<Record<string, (typeof INSTALL_EVENTS)[number]>> = {
  'install.start': 'install_start',
  'install.started': 'install_start',
  'install.complete': 'install_complete',
  'install.completed': 'install_complete',
  'install.failed': 'install_failed',
  'install.failure': 'install_failed',
  install_completed: 'install_complete',
};

/** `os` spellings mapped to the runtime's vocabulary (Rust's `std::env::consts::OS`). */
export const OS_ALIASES: Readonly<Record<string, string>> = {
  darwin: 'macos',
  mac: 'macos',
  macosx: 'macos',
  osx: 'macos',
  win32: 'windows',
  win64: 'windows',
  windows_nt: 'windows',
  mingw: 'windows',
  msys: 'windows',
  cygwin: 'windows',
};

/** `arch` spellings mapped to the runtime's vocabulary (Rust's `std::env::consts::ARCH`). */
export const ARCH_ALIASES: Readonly<Record<string, string>> = {
  arm64: 'aarch64',
  armv8: 'aarch64',
  amd64: 'x86_64',
  x64: 'x86_64',
  'x86-64': 'x86_64',
  i386: 'x86',
  i686: 'x86',
  ia32: 'x86',
};

export const RUN_KINDS = ['script', 'repl', 'benchmark', 'install', 'kernel'] as const;
export const FAILURE_STAGES = ['parser', 'hir', 'compile', 'runtime', 'unknown'] as const;
export const FAILURE_HOSTS = ['cli', 'wasm', 'kernel', 'desktop'] as const;
/**
 * Failure component buckets: what `runmat-core` derives from an error
 * identifier (`name_resolution`, `typecheck`, `cancellation`, `io`, `network`,
 * `internal`, and `unknown` for syntax errors), plus the acceleration buckets
 * the product questions ask about (`gpu`, `fusion`, `jit`).
 */
export const FAILURE_COMPONENTS = [
  'unknown',
  'name_resolution',
  'typecheck',
  'cancellation',
  'io',
  'network',
  'internal',
  'gpu',
  'fusion',
  'jit',
] as const;
export const INSTALL_METHODS = ['shell', 'powershell'] as const;

/** GA4 Measurement Protocol limits the worker must respect (GA4 answers 2xx even when they are broken). */
export const GA4_LIMITS = {
  maxEventsPerRequest: 25,
  maxParamsPerEvent: 25,
  maxNameLength: 40,
  maxParamValueLength: 100,
  /** GA4 refuses a request body of 130 kB or more. */
  maxPayloadBytes: 130_000,
} as const;

/**
 * How far from receipt a client `timestamp_ms` may be and still be trusted.
 * GA4 rejects events older than 72 hours; a clock a few minutes fast is common.
 */
export const TIMESTAMP_MAX_AGE_MS = 72 * 60 * 60 * 1000;
export const TIMESTAMP_MAX_SKEW_MS = 10 * 60 * 1000;
