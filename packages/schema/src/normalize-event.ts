import { TIMESTAMP_MAX_AGE_MS, TIMESTAMP_MAX_SKEW_MS } from './constants.js';
import type {
  CanonicalFinishedEvent,
  CanonicalStartedEvent,
  InstallEvent,
  InstallEventName,
  LegacyFinishedEvent,
  LegacyStartedEvent,
  TelemetryEvent,
  WireEventName,
} from './event-types.js';
import { isUuid } from './field-types.js';
import { deterministicUuid, distinctIdFromSession, installerUuid, tokenUuid } from './hash-id.js';
import { fusionHitRatio, gpuRatio } from './ratios.js';

/** Event names after normalization: legacy runtime names become the dotted canonical ones. */
export type CanonicalEventName = 'runtime.run.started' | 'runtime.run.finished' | InstallEventName;

/**
 * The only property keys that ever reach analytics. Everything a client sends
 * outside these is dropped and counted, whatever it is.
 */
export const ALLOWED_PROPERTIES = [
  'os',
  'arch',
  'release',
  'run_kind',
  'session_id',
  'platform',
  'method',
  'jit_enabled',
  'accelerate_enabled',
  'duration_us',
  'success',
  'jit_used',
  'error',
  'total_executions',
  'jit_compiled',
  'interpreter_fallback',
  'gpu_wall_ns',
  'gpu_ratio',
  'gpu_dispatches',
  'gpu_upload_bytes',
  'gpu_download_bytes',
  'fusion_cache_hits',
  'fusion_cache_misses',
  'fusion_hit_ratio',
  'gpu_matmul_dispatches',
  'gpu_fused_elementwise_dispatches',
  'gpu_fused_reduction_dispatches',
  'gpu_device_name',
  'gpu_device_vendor',
  'gpu_backend',
  'runtime.failure.stage',
  'runtime.failure.code',
  'runtime.failure.has_span',
  'runtime.failure.host',
  'runtime.failure.component',
] as const;
export type AllowedProperty = (typeof ALLOWED_PROPERTIES)[number];
export type PropertyValue = string | number | boolean;
export type EventProperties = Partial<Record<AllowedProperty, PropertyValue>>;

/** Largest magnitude of a JavaScript Date, in ms since the epoch. */
const MAX_DATE_MS = 8.64e15;

/** One event in the single internal shape the worker forwards from. */
export interface NormalizedEvent {
  event: CanonicalEventName;
  /** Name as it arrived on the wire (legacy or canonical). */
  wireName: WireEventName;
  uuid: string;
  distinct_id: string;
  /** Milliseconds since the epoch: the client's `timestamp_ms` when sane, else receipt time. */
  timestamp: number;
  properties: EventProperties;
}

export interface NormalizeOptions {
  /** Receipt time in ms since the epoch (defaults to now, as does a value no Date can hold). */
  receivedAt?: number;
}

function derivedUuid(event: TelemetryEvent, name: CanonicalEventName): string {
  if (event.session_id !== undefined) return deterministicUuid(event.session_id, name);
  // parseEvent refuses an installer event with neither a session id nor a cid or uuid.
  const install = event as InstallEvent;
  return installerUuid(install.cid as string, name, install);
}

function canonicalName(label: WireEventName): CanonicalEventName {
  if (label === 'runtime_started') return 'runtime.run.started';
  if (label === 'runtime_finished') return 'runtime.run.finished';
  return label;
}

function pickTimestamp(ts: number | undefined, receivedAt: number): number {
  if (ts === undefined) return receivedAt;
  if (ts < receivedAt - TIMESTAMP_MAX_AGE_MS || ts > receivedAt + TIMESTAMP_MAX_SKEW_MS) {
    return receivedAt;
  }
  return ts;
}

/**
 * Maps a parsed event (the output of `parseEvent`) to the one internal shape:
 * canonical name, distinct id (`cid`, else a one-way hash of `session_id`),
 * uuid (given, else deterministic, see `deterministicUuid` and
 * `installerUuid`), timestamp, and a flat set of allowlisted properties.
 */
export function normalizeEvent(
  event: TelemetryEvent,
  options: NormalizeOptions = {},
): NormalizedEvent {
  // The receipt time must be a representable date, or every timestamp derived
  // from it would be one that cannot be formatted.
  const given = options.receivedAt;
  const receivedAt =
    given !== undefined && Number.isFinite(given) && Math.abs(given) <= MAX_DATE_MS
      ? given
      : Date.now();
  const wireName = event.event_label;
  const name = canonicalName(wireName);
  const props: EventProperties = {};
  let timestampMs: number | undefined;

  // Properties are stored by name (`props.os = ...`), never through a helper
  // taking the key as an argument: V8 keeps an object built from named stores
  // in fast mode, while one built from ~30 keyed stores turns into a slow
  // dictionary that costs twice as much to copy or serialize downstream.
  if (event.os !== undefined) props.os = event.os;
  if (event.arch !== undefined) props.arch = event.arch;
  if (event.release !== undefined) props.release = event.release;
  if (event.session_id !== undefined) props.session_id = event.session_id;

  // Dispatch on the validated label, never on which keys happen to be present:
  // an installer event carrying a stray `payload` must not become a run.
  if (name !== 'runtime.run.started' && name !== 'runtime.run.finished') {
    const install = event as InstallEvent;
    props.run_kind = 'install';
    if (install.platform !== undefined) props.platform = install.platform;
    if (install.method !== undefined) props.method = install.method;
    timestampMs = install.timestamp_ms;
  } else if (name === 'runtime.run.started') {
    const run = event as CanonicalStartedEvent | LegacyStartedEvent;
    const p = run.payload;
    if (run.run_kind !== undefined) props.run_kind = run.run_kind;
    if (p.jit_enabled !== undefined) props.jit_enabled = p.jit_enabled;
    if (p.accelerate_enabled !== undefined) props.accelerate_enabled = p.accelerate_enabled;
    timestampMs = p.timestamp_ms;
  } else {
    const run = event as CanonicalFinishedEvent | LegacyFinishedEvent;
    const p = run.payload;
    timestampMs = p.timestamp_ms;

    if (run.run_kind !== undefined) props.run_kind = run.run_kind;
    if (p.duration_us !== undefined) props.duration_us = p.duration_us;
    if (p.success !== undefined) props.success = p.success;
    if (p.jit_enabled !== undefined) props.jit_enabled = p.jit_enabled;
    if (p.jit_used !== undefined) props.jit_used = p.jit_used;
    if (p.accelerate_enabled !== undefined) props.accelerate_enabled = p.accelerate_enabled;
    if (p.error !== undefined) props.error = p.error;
    const c = p.counters;
    if (c?.total_executions !== undefined) props.total_executions = c.total_executions;
    if (c?.jit_compiled !== undefined) props.jit_compiled = c.jit_compiled;
    if (c?.interpreter_fallback !== undefined) props.interpreter_fallback = c.interpreter_fallback;

    // parseEvent already moved the provider snapshot's counters to the flat figures.
    const wallNs = p.gpu_wall_ns;
    const dispatches = p.gpu_dispatches;
    const upload = p.gpu_upload_bytes;
    const download = p.gpu_download_bytes;
    const hits = p.fusion_cache_hits;
    const misses = p.fusion_cache_misses;
    const ratio = p.gpu_ratio ?? gpuRatio(wallNs, p.duration_us);
    const hitRatio = p.fusion_hit_ratio ?? fusionHitRatio(hits, misses);
    if (wallNs !== undefined) props.gpu_wall_ns = wallNs;
    if (dispatches !== undefined) props.gpu_dispatches = dispatches;
    if (upload !== undefined) props.gpu_upload_bytes = upload;
    if (download !== undefined) props.gpu_download_bytes = download;
    if (hits !== undefined) props.fusion_cache_hits = hits;
    if (misses !== undefined) props.fusion_cache_misses = misses;
    if (ratio !== undefined) props.gpu_ratio = ratio;
    if (hitRatio !== undefined) props.fusion_hit_ratio = hitRatio;
    if (p.gpu_matmul_dispatches !== undefined)
      props.gpu_matmul_dispatches = p.gpu_matmul_dispatches;
    if (p.gpu_fused_elementwise_dispatches !== undefined) {
      props.gpu_fused_elementwise_dispatches = p.gpu_fused_elementwise_dispatches;
    }
    if (p.gpu_fused_reduction_dispatches !== undefined) {
      props.gpu_fused_reduction_dispatches = p.gpu_fused_reduction_dispatches;
    }
    const device = p.provider?.device;
    if (device?.name !== undefined) props.gpu_device_name = device.name;
    if (device?.vendor !== undefined) props.gpu_device_vendor = device.vendor;
    if (device?.backend !== undefined) props.gpu_backend = device.backend;
    const stage = p['runtime.failure.stage'];
    const code = p['runtime.failure.code'];
    const hasSpan = p['runtime.failure.has_span'];
    const host = p['runtime.failure.host'];
    const component = p['runtime.failure.component'];
    if (stage !== undefined) props['runtime.failure.stage'] = stage;
    if (code !== undefined) props['runtime.failure.code'] = code;
    if (hasSpan !== undefined) props['runtime.failure.has_span'] = hasSpan;
    if (host !== undefined) props['runtime.failure.host'] = host;
    if (component !== undefined) props['runtime.failure.component'] = component;
  }

  return {
    event: name,
    wireName,
    uuid: (event.uuid === undefined
      ? derivedUuid(event, name)
      : isUuid(event.uuid)
        ? event.uuid
        : tokenUuid(event.uuid)
    ).toLowerCase(),
    distinct_id: event.cid ?? distinctIdFromSession(event.session_id ?? (event.uuid as string)),
    timestamp: pickTimestamp(timestampMs, receivedAt),
    properties: props,
  };
}
