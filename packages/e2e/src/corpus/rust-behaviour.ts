/**
 * Ports of the few RunMat functions that decide what lands in a payload, so the
 * corpus computes values the way the Rust hosts do instead of guessing them.
 */
import type {
  ProviderSnapshot,
  ProviderTelemetry,
  ProviderTelemetryV1,
  RuntimeExecutionCounters,
  RuntimeFinishedPayload,
} from './rust-shapes.js';

/**
 * crates/runmat-accelerate/src/backend/wgpu/provider/backend_shared.rs
 * `canonical_vendor_name`: known PCI ids map to a name; id 0 gives the first
 * word of the adapter name (or `unknown`); any other id gives
 * `<first word> (0x<id, at least 4 lower-case hex digits>)`.
 */
export function canonicalVendorName(adapterName: string, vendorId: number): string {
  const known: Record<number, string> = {
    4318: 'NVIDIA',
    4098: 'AMD',
    4130: 'AMD',
    32902: 'Intel',
    4203: 'Apple',
    5045: 'ARM',
    20803: 'Qualcomm',
    5140: 'Microsoft',
    6880: 'Google',
    7260: 'Huawei',
  };
  const named = known[vendorId];
  if (named !== undefined) return named;
  const firstWord = adapterName.split(/\s+/).find((w) => w.length > 0);
  if (vendorId === 0) return firstWord ?? 'unknown';
  return `${firstWord ?? 'vendor'} (0x${vendorId.toString(16).padStart(4, '0')})`;
}

/**
 * crates/runmat-core/src/error.rs `telemetry_component_for_identifier`: a
 * substring heuristic on the lower-cased identifier, first match wins. It is
 * lossy on purpose-built names (`FunctionArgument…` and `Acceleration…` contain
 * "io" and land in `io`), which is what real events carry.
 */
export function componentForIdentifier(identifier: string | undefined): string | undefined {
  if (identifier === undefined) return undefined;
  const lower = identifier.toLowerCase();
  const has = (...needles: string[]) => needles.some((n) => lower.includes(n));
  if (has('undefined', 'name', 'import')) return 'name_resolution';
  if (has('type', 'dimension', 'bounds')) return 'typecheck';
  if (has('cancel', 'interrupt')) return 'cancellation';
  if (has('io', 'filesystem')) return 'io';
  if (has('network', 'timeout')) return 'network';
  if (has('internal', 'panic')) return 'internal';
  return undefined;
}

/** crates/runmat-core/src/telemetry.rs `TelemetryFailureInfo`. */
export interface FailureInfo {
  stage: string;
  code: string;
  has_span: boolean;
  component?: string;
}

/** crates/runmat-core/src/telemetry.rs `TelemetryRunFinish` (duration already resolved). */
export interface RunFinish<T extends ProviderTelemetry | ProviderTelemetryV1 = ProviderTelemetry> {
  durationUs: number;
  success: boolean;
  jitEnabled: boolean;
  jitUsed: boolean;
  accelerateEnabled: boolean;
  timestampMs: number;
  error?: string;
  failure?: FailureInfo;
  host?: 'cli' | 'wasm' | 'kernel' | 'desktop';
  counters?: RuntimeExecutionCounters;
  provider?: ProviderSnapshot<T>;
}

export function gpuWallNs(t: ProviderTelemetry | ProviderTelemetryV1): number {
  return (
    t.fused_elementwise.total_wall_time_ns +
    t.fused_reduction.total_wall_time_ns +
    t.matmul.total_wall_time_ns
  );
}

/** crates/runmat-telemetry/src/lib.rs `ProviderSnapshot::gpu_dispatches`. */
export function gpuDispatches(t: ProviderTelemetry | ProviderTelemetryV1): number {
  return t.fused_elementwise.count + t.fused_reduction.count + t.matmul.count;
}

/**
 * Rust `String::truncate(256)` on the error: cuts at 256 bytes and panics when
 * that is inside a UTF-8 character, so no real event carries a cut character.
 */
export function truncateErrorLikeRust(error: string): string {
  const bytes = Buffer.from(error, 'utf8');
  if (bytes.length <= 256) return error;
  const cut = bytes.subarray(0, 256);
  const next = bytes[256];
  if (next !== undefined && (next & 0xc0) === 0x80) {
    throw new Error('String::truncate would panic: byte 256 is inside a character');
  }
  return cut.toString('utf8');
}

/**
 * crates/runmat-core/src/telemetry.rs `TelemetryRunGuard::finish`, key for key
 * and in serde's order. Absent options are left out.
 */
export function finishedPayload<T extends ProviderTelemetry | ProviderTelemetryV1>(
  f: RunFinish<T>,
): RuntimeFinishedPayload<T> {
  const snapshot = f.provider;
  const wall = snapshot ? gpuWallNs(snapshot.telemetry) : undefined;
  const gpuRatio =
    wall !== undefined && f.durationUs > 0
      ? Math.min(1, Math.max(0, wall / (f.durationUs * 1000)))
      : undefined;
  const hits = snapshot?.telemetry.fusion_cache_hits;
  const misses = snapshot?.telemetry.fusion_cache_misses;
  const hitRatio =
    hits !== undefined && misses !== undefined && hits + misses > 0
      ? hits / (hits + misses)
      : undefined;
  const error =
    f.error !== undefined ? truncateErrorLikeRust(f.error) : (f.failure?.code ?? undefined);

  const out: Record<string, unknown> = {
    duration_us: f.durationUs,
    success: f.success,
    jit_enabled: f.jitEnabled,
    jit_used: f.jitUsed,
    accelerate_enabled: f.accelerateEnabled,
    timestamp_ms: f.timestampMs,
    error,
    'runtime.failure.stage': f.failure?.stage,
    'runtime.failure.code': f.failure?.code,
    'runtime.failure.has_span': f.failure?.has_span,
    'runtime.failure.host': f.host,
    'runtime.failure.component': f.failure?.component,
    counters: f.counters,
    provider: snapshot,
    gpu_wall_ns: wall,
    gpu_ratio: gpuRatio,
    gpu_dispatches: snapshot ? gpuDispatches(snapshot.telemetry) : undefined,
    gpu_upload_bytes: snapshot?.telemetry.upload_bytes,
    gpu_download_bytes: snapshot?.telemetry.download_bytes,
    fusion_cache_hits: hits,
    fusion_cache_misses: misses,
    fusion_hit_ratio: hitRatio,
  };
  return dropUndefined(out) as unknown as RuntimeFinishedPayload<T>;
}

/** serde's `skip_serializing_if = "Option::is_none"`: keep order, drop absent keys. */
export function dropUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

/** The two `f64` fields of `RuntimeFinishedPayload`; every other number is a `u64`. */
const F64_KEYS = new Set(['gpu_ratio', 'fusion_hit_ratio']);

/**
 * An `f64` as serde_json writes it (the ryu crate's shortest form): integral
 * values keep `.0` (`1.0`, `0.0`) and values below 1e-5 switch to exponent
 * form one decade earlier than JavaScript (`4.8e-6` where JS writes
 * `0.0000048`). Both parse to the same number.
 */
export function ryuF64(n: number): string {
  if (!Number.isFinite(n)) throw new Error('serde_json never writes a non-finite f64');
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const sign = n < 0 ? '-' : '';
  const [mantissa = '', exp = '0'] = Math.abs(n).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const length = digits.length;
  const kk = Number(exp) + 1; // position of the decimal point relative to the digits
  const k = kk - length;
  let body: string;
  if (k >= 0 && kk <= 16) body = `${digits}${'0'.repeat(k)}.0`;
  else if (kk > 0 && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) body = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) body = `${digits}e${kk - 1}`;
  else body = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + body;
}

/**
 * Compact JSON exactly as serde_json would write a Rust-built body: keys in
 * insertion order, strings escaped like serde (same escapes as
 * `JSON.stringify`), the f64 fields in ryu form.
 */
export function serdeJson(value: unknown, key?: string): string {
  if (value === null) return 'null';
  if (typeof value === 'number') {
    return key !== undefined && F64_KEYS.has(key) ? ryuF64(value) : JSON.stringify(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => serdeJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${serdeJson(v, k)}`);
    return `{${fields.join(',')}}`;
  }
  throw new Error(`not serializable: ${typeof value}`);
}
