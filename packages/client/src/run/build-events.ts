import {
  type ExecutionCounters,
  errorClass,
  type FailureHost,
  type FailureStage,
  type FinishedPayload,
  fusionHitRatio,
  gpuRatio,
  type InstallEventName,
  type InstallMethod,
  type RunKind,
  type WireProviderSnapshot,
} from '@runmat-telemetry/schema/browser';

/** Envelope fields shared by every event one telemetry instance emits. */
export interface EnvelopeContext {
  os: string;
  arch: string;
  release?: string;
  cid?: string;
  session_id: string;
}

/** What a host knows when a run starts. */
export interface StartRunOptions {
  kind: RunKind;
  jitEnabled?: boolean;
  accelerateEnabled?: boolean;
}

/** The failure buckets RunMat reports for a failed run. */
export interface FailureBuckets {
  stage?: FailureStage;
  /** Stable diagnostic or runtime error identifier, e.g. `RunMat:IndexOutOfBounds`. */
  code?: string;
  hasSpan?: boolean;
  component?: string;
}

/** What a host knows when a run finishes. */
export interface FinishRunOptions {
  success: boolean;
  jitUsed?: boolean;
  /** A short error class such as `RuntimeError`; never a message. Anything with spaces or paths is left out. */
  error?: string;
  failure?: FailureBuckets;
  /** Which RunMat host ran it: `cli`, `wasm`, `kernel`, `desktop`. */
  host?: FailureHost;
  counters?: ExecutionCounters;
  /** Accelerator snapshot: device identity and GPU counters. */
  provider?: WireProviderSnapshot;
}

/** GPU figures derived from a provider snapshot. */
export interface GpuSummary {
  wallNs?: number;
  ratio?: number;
  dispatches?: number;
  uploadBytes?: number;
  downloadBytes?: number;
  fusionCacheHits?: number;
  fusionCacheMisses?: number;
  fusionHitRatio?: number;
  device?: { name?: string; vendor?: string; backend?: string };
}

/** The local profiling summary a finished run returns to its host, sent or not. */
export interface RunSummary {
  kind: RunKind;
  durationUs: number;
  success: boolean;
  jitUsed: boolean;
  counters?: ExecutionCounters;
  gpu?: GpuSummary;
  /** True when the finished event was accepted for delivery. */
  emitted: boolean;
}

/** The `runtime.run.started` event. */
export function buildStartedEvent(
  ctx: EnvelopeContext,
  uuid: string,
  run: StartRunOptions,
  timestampMs: number,
): Record<string, unknown> {
  return {
    event_label: 'runtime.run.started',
    uuid,
    ...envelope(ctx),
    run_kind: run.kind,
    payload: {
      jit_enabled: run.jitEnabled ?? false,
      accelerate_enabled: run.accelerateEnabled ?? false,
      timestamp_ms: Math.floor(timestampMs),
    },
  };
}

/** Derives the GPU figures; ratios are clamped to [0, 1] as the docs describe. */
export function summarizeGpu(
  provider: WireProviderSnapshot | undefined,
  durationUs: number,
): GpuSummary | undefined {
  const t = provider?.telemetry;
  if (!provider || (!t && !provider.device)) return undefined;
  const gpu: GpuSummary = {};
  if (t) {
    gpu.wallNs = t.gpu_wall_ns;
    gpu.ratio = gpuRatio(t.gpu_wall_ns, durationUs);
    gpu.dispatches = t.gpu_dispatches;
    gpu.uploadBytes = t.upload_bytes;
    gpu.downloadBytes = t.download_bytes;
    gpu.fusionCacheHits = t.fusion_cache_hits;
    gpu.fusionCacheMisses = t.fusion_cache_misses;
    gpu.fusionHitRatio = fusionHitRatio(t.fusion_cache_hits, t.fusion_cache_misses);
  }
  if (provider.device) gpu.device = { ...provider.device };
  return gpu;
}

/** The `runtime.run.finished` event: flat GPU figures plus the provider's device identity. */
export function buildFinishedEvent(
  ctx: EnvelopeContext,
  uuid: string,
  run: StartRunOptions,
  finish: FinishRunOptions,
  durationUs: number,
  timestampMs: number,
  gpu: GpuSummary | undefined,
): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    duration_us: durationUs,
    success: finish.success,
    jit_enabled: run.jitEnabled ?? false,
    jit_used: finish.jitUsed ?? false,
    accelerate_enabled: run.accelerateEnabled ?? false,
    timestamp_ms: Math.floor(timestampMs),
  } satisfies Partial<FinishedPayload>;
  // Privacy: an error "class" with spaces or slashes is a message or a path; drop it rather than send it.
  if (finish.error !== undefined && errorClass.check(finish.error).ok) payload.error = finish.error;
  if (finish.counters) payload.counters = { ...finish.counters };
  if (gpu) {
    setDefined(payload, 'gpu_wall_ns', gpu.wallNs);
    setDefined(payload, 'gpu_ratio', gpu.ratio === undefined ? undefined : round4(gpu.ratio));
    setDefined(payload, 'gpu_dispatches', gpu.dispatches);
    setDefined(payload, 'gpu_upload_bytes', gpu.uploadBytes);
    setDefined(payload, 'gpu_download_bytes', gpu.downloadBytes);
    setDefined(payload, 'fusion_cache_hits', gpu.fusionCacheHits);
    setDefined(payload, 'fusion_cache_misses', gpu.fusionCacheMisses);
    setDefined(
      payload,
      'fusion_hit_ratio',
      gpu.fusionHitRatio === undefined ? undefined : round4(gpu.fusionHitRatio),
    );
    if (gpu.device) payload.provider = { device: gpu.device };
  }
  const f = finish.failure;
  if (f || finish.host) {
    setDefined(payload, 'runtime.failure.stage', f?.stage);
    setDefined(payload, 'runtime.failure.code', f?.code);
    setDefined(payload, 'runtime.failure.has_span', f?.hasSpan);
    setDefined(payload, 'runtime.failure.host', finish.host);
    setDefined(payload, 'runtime.failure.component', f?.component);
  }
  return {
    event_label: 'runtime.run.finished',
    uuid,
    ...envelope(ctx),
    run_kind: run.kind,
    payload,
  };
}

/** What an installer knows about itself. */
export interface InstallerInfo {
  method: InstallMethod;
  /** e.g. `macos-aarch64`; defaults to `<os>-<arch>`. */
  platform?: string;
}

/** An installer event (`install_start` / `install_complete` / `install_failed`). */
export function buildInstallEvent(
  ctx: EnvelopeContext,
  uuid: string,
  name: InstallEventName,
  info: InstallerInfo,
): Record<string, unknown> {
  return {
    event_label: name,
    uuid,
    ...envelope(ctx),
    platform: info.platform ?? `${ctx.os}-${ctx.arch}`,
    method: info.method,
    run_kind: 'install',
  };
}

function envelope(ctx: EnvelopeContext): Record<string, unknown> {
  const out: Record<string, unknown> = { session_id: ctx.session_id, os: ctx.os, arch: ctx.arch };
  if (ctx.cid !== undefined) out.cid = ctx.cid;
  if (ctx.release !== undefined) out.release = ctx.release;
  return out;
}

function setDefined(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
