/**
 * The telemetry shapes RunMat's public hosts put on the wire, field for field,
 * as serde and the installer scripts serialize them (runmat-org/runmat).
 *
 * Conventions: a Rust `Option<T>` with `skip_serializing_if = "Option::is_none"`
 * is an optional key (`key?: T`: absent, never `null`); an `Option<T>` without
 * that attribute is always present and may be `null` (`key: T | null`). Field
 * order in each interface is the struct's declaration order, which is the order
 * serde_json writes. `u64` is `number` here; serde writes it as a bare integer.
 *
 * HEAD below is 220976472 (v0.6.1, "stabilize Windows release builds").
 */

// ---------------------------------------------------------------------------
// runmat-accelerate-api
// ---------------------------------------------------------------------------

/**
 * crates/runmat-accelerate-api/src/lib.rs `ApiDeviceInfo` (HEAD; unchanged
 * since at least 7170595ba). No serde attributes: `memory_bytes` and `backend`
 * are always present and `null` when `None`.
 * - wgpu provider (backend/wgpu/provider/ops/io.rs `device_info_struct_exec`):
 *   `name` = adapter name verbatim, `vendor` = `canonical_vendor_name`,
 *   `memory_bytes` = adapter `max_buffer_size` (not VRAM), `backend` =
 *   lower-cased `Debug` of `wgpu::Backend` (`vulkan`, `metal`, `dx12`, `gl`,
 *   `browserwebgpu`).
 * - in-process provider (simple_provider.rs): `{name:"InProcess",
 *   vendor:"RunMat", memory_bytes:null, backend:"inprocess"}`.
 * - trait default (`AccelProvider::device_info_struct`): `device_id:0`,
 *   `vendor:""`, `memory_bytes:null`, `backend:null` (no shipped provider uses it).
 */
export interface ApiDeviceInfo {
  device_id: number;
  name: string;
  vendor: string;
  memory_bytes: number | null;
  backend: string | null;
}

/** crates/runmat-accelerate-api/src/lib.rs `ProviderDispatchStats`. */
export interface ProviderDispatchStats {
  count: number;
  total_wall_time_ns: number;
}

/**
 * crates/runmat-accelerate-api/src/lib.rs `ProviderFallbackStat`. Real reasons
 * (record_solve_fallback call sites): `linsolve:host_reupload`,
 * `mldivide:host_reupload`, `mrdivide:host_reupload`; sorted by reason.
 */
export interface ProviderFallbackStat {
  reason: string;
  count: number;
}

/**
 * crates/runmat-accelerate-api/src/lib.rs `BindGroupLayoutTelemetry`. `tag` is
 * the layout cache key (`runmat-fusion-layout-2`, `runmat-reduction-p1-bgl`, ...)
 * or `layout_ptr_0x…` (a heap address) for layouts built without a tag
 * (backend/wgpu/provider/ops/telemetry.rs `telemetry_snapshot_exec`).
 */
export interface BindGroupLayoutTelemetry {
  tag: string;
  hits: number;
  misses: number;
}

/** crates/runmat-accelerate-api/src/lib.rs `KernelAttrTelemetry`. */
export interface KernelAttrTelemetry {
  key: string;
  value: number;
}

/**
 * crates/runmat-accelerate-api/src/lib.rs `KernelLaunchTelemetry`. `precision`
 * is `Option<String>` without skip: always present; the wgpu provider always
 * writes `"f32"` or `"f64"`, so `null` would only come from another provider.
 */
export interface KernelLaunchTelemetry {
  kernel: string;
  precision: string | null;
  shape: KernelAttrTelemetry[];
  tuning: KernelAttrTelemetry[];
}

/**
 * crates/runmat-accelerate-api/src/lib.rs `ProviderTelemetry` at HEAD (the
 * `linsolve`, `mldivide`, `mrdivide` and `solve_fallbacks` fields arrived in
 * ea523783b, 2026-04-03). `bind_group_cache_by_layout` has no skip: `null` from
 * the in-process provider, an array (possibly `[]`) from wgpu.
 * `kernel_launches` is the bounded log (crates/runmat-accelerate/src/telemetry.rs
 * `MAX_KERNEL_LAUNCH_EVENTS = 64`, oldest dropped first, newest last).
 */
export interface ProviderTelemetry {
  fused_elementwise: ProviderDispatchStats;
  fused_reduction: ProviderDispatchStats;
  matmul: ProviderDispatchStats;
  linsolve: ProviderDispatchStats;
  mldivide: ProviderDispatchStats;
  mrdivide: ProviderDispatchStats;
  upload_bytes: number;
  download_bytes: number;
  solve_fallbacks: ProviderFallbackStat[];
  fusion_cache_hits: number;
  fusion_cache_misses: number;
  bind_group_cache_hits: number;
  bind_group_cache_misses: number;
  bind_group_cache_by_layout: BindGroupLayoutTelemetry[] | null;
  kernel_launches: KernelLaunchTelemetry[];
}

/**
 * `ProviderTelemetry` before ea523783b (7170595ba … e0d3c3342 and up to
 * 2026-04-03): no solve categories, no `solve_fallbacks`.
 */
export interface ProviderTelemetryV1 {
  fused_elementwise: ProviderDispatchStats;
  fused_reduction: ProviderDispatchStats;
  matmul: ProviderDispatchStats;
  upload_bytes: number;
  download_bytes: number;
  fusion_cache_hits: number;
  fusion_cache_misses: number;
  bind_group_cache_hits: number;
  bind_group_cache_misses: number;
  bind_group_cache_by_layout: BindGroupLayoutTelemetry[] | null;
  kernel_launches: KernelLaunchTelemetry[];
}

// ---------------------------------------------------------------------------
// runmat-telemetry (canonical runtime events, e0d3c3342 and later)
// ---------------------------------------------------------------------------

/**
 * crates/runmat-telemetry/src/lib.rs `ProviderSnapshot`. `gpu_dispatches()` =
 * fused_elementwise + fused_reduction + matmul counts; `gpu_wall_ns()` = the
 * same three wall times (solve categories are not included).
 */
export interface ProviderSnapshot<T = ProviderTelemetry> {
  device: ApiDeviceInfo;
  telemetry: T;
}

/**
 * crates/runmat-telemetry/src/lib.rs `RuntimeTelemetryEnvelope<P>`. `uuid` is
 * new in e0d3c3342. `cid`, `os`, `arch`, `release` skip when `None` (core
 * always fills os/arch/release; cid is absent without a home directory on the
 * CLI, or without `telemetryId` in the browser host).
 */
export interface RuntimeTelemetryEnvelope<P> {
  event_label: string;
  uuid: string;
  cid?: string;
  session_id: string;
  os?: string;
  arch?: string;
  release?: string;
  run_kind: string;
  payload: P;
}

/** crates/runmat-telemetry/src/lib.rs `RuntimeStartedPayload`. */
export interface RuntimeStartedPayload {
  jit_enabled: boolean;
  accelerate_enabled: boolean;
  timestamp_ms?: number;
}

/** crates/runmat-telemetry/src/lib.rs `RuntimeExecutionCounters`. */
export interface RuntimeExecutionCounters {
  total_executions: number;
  jit_compiled: number;
  interpreter_fallback: number;
}

/**
 * crates/runmat-telemetry/src/lib.rs `RuntimeFinishedPayload`. Every `Option`
 * skips when `None`. The failure fields are renamed to dotted keys. Filled by
 * crates/runmat-core/src/telemetry.rs `TelemetryRunGuard::finish`: `error` is
 * truncated to 256 bytes (the failure code is not); without an explicit error
 * it falls back to the failure code; `runtime.failure.host` is set whenever the
 * host passes one, i.e. on every CLI and wasm finished event, successes included.
 */
export interface RuntimeFinishedPayload<T = ProviderTelemetry> {
  duration_us?: number;
  success: boolean;
  jit_enabled: boolean;
  jit_used: boolean;
  accelerate_enabled: boolean;
  timestamp_ms?: number;
  error?: string;
  'runtime.failure.stage'?: string;
  'runtime.failure.code'?: string;
  'runtime.failure.has_span'?: boolean;
  'runtime.failure.host'?: string;
  'runtime.failure.component'?: string;
  counters?: RuntimeExecutionCounters;
  provider?: ProviderSnapshot<T>;
  gpu_wall_ns?: number;
  gpu_ratio?: number;
  gpu_dispatches?: number;
  gpu_upload_bytes?: number;
  gpu_download_bytes?: number;
  fusion_cache_hits?: number;
  fusion_cache_misses?: number;
  fusion_hit_ratio?: number;
}

export type RuntimeStartedEnvelope = RuntimeTelemetryEnvelope<RuntimeStartedPayload>;
export type RuntimeFinishedEnvelope<T = ProviderTelemetry> = RuntimeTelemetryEnvelope<
  RuntimeFinishedPayload<T>
>;

// ---------------------------------------------------------------------------
// Legacy runtime events (event_label runtime_started / runtime_finished)
// ---------------------------------------------------------------------------

/**
 * crates/runmat-cli/src/telemetry.rs at 7170595ba (2025-12-05, CLI 0.2.7)
 * `SessionStartEnvelope`: no uuid; no serde skip anywhere, so `cid` is `null`
 * when there is no home directory; `timestamp_ms` always present.
 */
export interface LegacyCliStartedEnvelopeV0 {
  event_label: 'runtime_started';
  cid: string | null;
  session_id: string;
  os: string;
  arch: string;
  release: string;
  run_kind: string;
  payload: { jit_enabled: boolean; accelerate_enabled: boolean; timestamp_ms: number };
}

/**
 * crates/runmat-cli/src/telemetry.rs at 7170595ba `RuntimeValueEnvelope` /
 * `RuntimeValuePayload`: every `Option` is written as `null` (no skip).
 */
export interface LegacyCliFinishedEnvelopeV0 {
  event_label: 'runtime_finished';
  cid: string | null;
  session_id: string;
  os: string;
  arch: string;
  release: string;
  run_kind: string;
  payload: {
    duration_us: number | null;
    success: boolean;
    jit_enabled: boolean;
    jit_used: boolean;
    accelerate_enabled: boolean;
    timestamp_ms: number;
    error: string | null;
    counters: RuntimeExecutionCounters | null;
    provider: ProviderSnapshot<ProviderTelemetryV1> | null;
    gpu_wall_ns: number | null;
    gpu_ratio: number | null;
    gpu_dispatches: number | null;
    gpu_upload_bytes: number | null;
    gpu_download_bytes: number | null;
    fusion_cache_hits: number | null;
    fusion_cache_misses: number | null;
    fusion_hit_ratio: number | null;
  };
}

/**
 * crates/runmat-telemetry/src/lib.rs at 9b59d6ffa (2026-02-03, 0.2.8) up to
 * e0d3c3342^: the canonical struct minus `uuid` and the failure fields, with
 * legacy labels; options skip when `None`.
 */
export interface LegacyEnvelopeV1<P> {
  event_label: 'runtime_started' | 'runtime_finished';
  cid?: string;
  session_id: string;
  os?: string;
  arch?: string;
  release?: string;
  run_kind: string;
  payload: P;
}

/**
 * The older public telemetry page (/work/shared/seeds/001_…): the documented
 * example. Its provider is a summary (`device {name, vendor, backend}`,
 * `telemetry {gpu_dispatches, …}`), not what any Rust version serialized.
 */
export interface SeedPageLegacyFinished {
  event_label: 'runtime_finished';
  cid: string;
  session_id: string;
  run_kind: string;
  os: string;
  arch: string;
  release?: string;
  payload: {
    duration_us: number;
    success: boolean;
    jit_enabled: boolean;
    jit_used: boolean;
    accelerate_enabled: boolean;
    error?: string;
    provider?: {
      device: { name: string; vendor: string; backend: string };
      telemetry: {
        gpu_dispatches: number;
        gpu_wall_ns: number;
        upload_bytes: number;
        download_bytes: number;
        fusion_cache_hits: number;
        fusion_cache_misses: number;
      };
    };
  };
}

// ---------------------------------------------------------------------------
// Installer events (website/public/install.sh and install.ps1)
// ---------------------------------------------------------------------------

/**
 * install.sh and install.ps1 a93480c55 … 58dcbcbac (2025-08-08 … 08-19): the
 * flat shape, POSTed to https://runmat.org/api/telemetry.
 * Events `install_start`, `install_complete`, `install_failed` (sh only).
 */
export interface InstallerFlatV0 {
  event: 'install_start' | 'install_complete' | 'install_failed';
  os: string;
  arch: string;
  platform: string;
  release: string;
  method: 'shell' | 'powershell';
  cid: string;
}

/**
 * install.sh and install.ps1 444faf203 … 54d7b3611 (2025-08-20 … 12-02):
 * `event` renamed to `event_label`; the older page's field list. No session
 * id, no uuid. Endpoint runmat.org/api/telemetry, briefly (19a46851d)
 * https://telemetry.runmat.org/ingest.
 */
export interface InstallerEventLabelV1 {
  event_label: 'install_start' | 'install_complete' | 'install_failed';
  os: string;
  arch: string;
  platform: string;
  release: string;
  method: 'shell' | 'powershell';
  cid: string;
}

/** install.sh / install.ps1 eb4f54a8c … 7a40f7337 (Dec 2025 – Mar 2026): V1 plus session. */
export interface InstallerEventLabelV2 extends InstallerEventLabelV1 {
  session_id: string;
  run_kind: 'install';
}

/**
 * install.sh / install.ps1 e0d3c3342 … d7c322797 (2026-03-14 → removed in
 * 86f188387): the camelCase envelope POSTed to https://api.runmat.com/v1/t with
 * no `x-telemetry-key`. Events `install.start`, `install.completed`,
 * `install.failed` (sh only: its ERR trap; install.ps1 has no failure event).
 * install.sh writes keys in this order; install.ps1 builds a PowerShell
 * hashtable, whose key order in `ConvertTo-Json` output is unspecified.
 * `distinctId` from install.ps1 can be `null` (empty telemetry_id file) or
 * `anon-<n>`; from install.sh it can be `""` or `<epoch>-<n>`.
 */
export interface InstallerCamelV3 {
  event: 'install.start' | 'install.completed' | 'install.failed';
  eventLabel: 'install.start' | 'install.completed' | 'install.failed';
  distinctId: string | null;
  uuid: string;
  sessionId: string;
  runKind: 'install';
  os: string;
  arch: string;
  release: string;
  method: 'shell' | 'powershell';
  source: 'website-install-script';
  payload: { platform: string };
  properties: Record<string, never>;
  context: Record<string, never>;
}
