/**
 * The shape of an event once `parseEvent` has accepted it: the canonical wire
 * shape, holding only contract fields, every one within its bound. Whatever
 * variant arrived (legacy names, the installer's camelCase envelope, the Rust
 * runtime's full provider snapshot), this is what comes out, and serializing
 * it gives an event any RunMat collector accepts.
 */
import type {
  FAILURE_COMPONENTS,
  FAILURE_HOSTS,
  FAILURE_STAGES,
  INSTALL_EVENTS,
  INSTALL_METHODS,
  RUN_KINDS,
} from './constants.js';

export type RunKind = (typeof RUN_KINDS)[number];
export type FailureStage = (typeof FAILURE_STAGES)[number];
export type FailureHost = (typeof FAILURE_HOSTS)[number];
export type FailureComponent = (typeof FAILURE_COMPONENTS)[number];
export type InstallMethod = (typeof INSTALL_METHODS)[number];
export type InstallEventName = (typeof INSTALL_EVENTS)[number];

export interface ExecutionCounters {
  total_executions?: number;
  jit_compiled?: number;
  interpreter_fallback?: number;
}

/** The device part of a provider snapshot that is kept: identity of the GPU, never its ids or sizes. */
export interface ProviderDevice {
  name?: string;
  vendor?: string;
  backend?: string;
}

/** What is kept of a provider snapshot: its device; its counters become flat payload figures. */
export interface ProviderSnapshot {
  device?: ProviderDevice;
}

export interface StartedPayload {
  jit_enabled: boolean;
  accelerate_enabled: boolean;
  timestamp_ms?: number;
}

export interface FinishedPayload {
  duration_us?: number;
  success: boolean;
  jit_enabled?: boolean;
  jit_used?: boolean;
  accelerate_enabled?: boolean;
  timestamp_ms?: number;
  error?: string;
  counters?: ExecutionCounters;
  gpu_wall_ns?: number;
  gpu_ratio?: number;
  gpu_dispatches?: number;
  gpu_upload_bytes?: number;
  gpu_download_bytes?: number;
  fusion_cache_hits?: number;
  fusion_cache_misses?: number;
  fusion_hit_ratio?: number;
  /** Per-category dispatch counts from the Rust provider snapshot. */
  gpu_matmul_dispatches?: number;
  gpu_fused_elementwise_dispatches?: number;
  gpu_fused_reduction_dispatches?: number;
  provider?: ProviderSnapshot;
  'runtime.failure.stage'?: FailureStage;
  'runtime.failure.code'?: string;
  'runtime.failure.has_span'?: boolean;
  'runtime.failure.host'?: FailureHost;
  'runtime.failure.component'?: FailureComponent;
}

interface RuntimeEnvelope<L extends string, P> {
  event_label: L;
  /** Required on the canonical names; legacy clients sent none (a deterministic one is derived). */
  uuid?: string;
  cid?: string;
  session_id: string;
  os?: string;
  arch?: string;
  release?: string;
  run_kind: RunKind;
  payload: P;
}

export type CanonicalStartedEvent = RuntimeEnvelope<'runtime.run.started', StartedPayload> & {
  uuid: string;
};
export type CanonicalFinishedEvent = RuntimeEnvelope<'runtime.run.finished', FinishedPayload> & {
  uuid: string;
};
export type LegacyStartedEvent = RuntimeEnvelope<'runtime_started', StartedPayload>;
export type LegacyFinishedEvent = RuntimeEnvelope<'runtime_finished', FinishedPayload>;

/** Installer events, whichever of the four real shapes they arrived in. */
export interface InstallEvent {
  event_label: InstallEventName;
  uuid?: string;
  cid?: string;
  /** The older page's shape and the flat `install.sh` sent none; `cid` identifies those. */
  session_id?: string;
  os?: string;
  arch?: string;
  platform?: string;
  release?: string;
  method?: InstallMethod;
  run_kind: 'install';
  timestamp_ms?: number;
}

/** Any event the contract accepts, in its canonical wire shape. */
export type TelemetryEvent =
  | CanonicalStartedEvent
  | CanonicalFinishedEvent
  | LegacyStartedEvent
  | LegacyFinishedEvent
  | InstallEvent;

/** The seven wire names a parsed event can carry. */
export type WireEventName = TelemetryEvent['event_label'];

/**
 * A provider snapshot as hosts send it (input to `parseEvent`): the older docs
 * page's nested counters, or the Rust runtime's full `ProviderSnapshot` with
 * its dispatch categories, caches and launch log. Only the device's name,
 * vendor and backend and the counters' flat figures are kept.
 */
export interface WireProviderSnapshot {
  device?: ProviderDevice & { device_id?: number; memory_bytes?: number | null };
  telemetry?: {
    gpu_dispatches?: number;
    gpu_wall_ns?: number;
    upload_bytes?: number;
    download_bytes?: number;
    fusion_cache_hits?: number;
    fusion_cache_misses?: number;
  } & Record<string, unknown>;
}
