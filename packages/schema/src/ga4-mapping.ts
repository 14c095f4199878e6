import { GA4_LIMITS } from './constants.js';
import type { AllowedProperty, NormalizedEvent } from './normalize-event.js';

/** One GA4 Measurement Protocol event. */
export interface Ga4Event {
  name: string;
  params: Record<string, string | number>;
  /** When the event happened (microseconds since the epoch), so a delayed or retried event keeps its time. */
  timestamp_micros?: number;
}

/** A GA4 `/mp/collect` body: every event of one `client_id`. */
export interface Ga4Request {
  client_id: string;
  timestamp_micros?: number;
  non_personalized_ads?: boolean;
  events: Ga4Event[];
}

// GA4 keeps these event names for itself and silently discards them.
const RESERVED_EVENT_NAMES = new Set([
  'ad_activeview',
  'ad_click',
  'ad_exposure',
  'ad_query',
  'ad_reward',
  'adunit_exposure',
  'app_background',
  'app_clear_data',
  'app_exception',
  'app_install',
  'app_remove',
  'app_store_refund',
  'app_store_subscription_cancel',
  'app_store_subscription_convert',
  'app_store_subscription_renew',
  'app_update',
  'app_upgrade',
  'dynamic_link_app_open',
  'dynamic_link_app_update',
  'dynamic_link_first_open',
  'error',
  'first_open',
  'first_visit',
  'in_app_purchase',
  'notification_dismiss',
  'notification_foreground',
  'notification_open',
  'notification_receive',
  'os_update',
  'session_start',
  'session_start_with_rollout',
  'user_engagement',
]);
const RESERVED_PREFIXES = ['_', 'firebase_', 'ga_', 'google_', 'gtag.'];
const NAME_RE = /^[A-Za-z][A-Za-z0-9_]*$/;

/** True when `name` is a legal GA4 event or parameter name. */
export function isValidGa4Name(name: string, kind: 'event' | 'param' = 'param'): boolean {
  if (name.length > GA4_LIMITS.maxNameLength || !NAME_RE.test(name)) return false;
  if (RESERVED_PREFIXES.some((p) => name.startsWith(p))) return false;
  return kind === 'param' || !RESERVED_EVENT_NAMES.has(name);
}

/**
 * Parameters in order of analytic value: when an event has more than GA4's 25,
 * the tail (raw byte and cache counts, whose ratios are kept) is left out.
 */
export const GA4_PARAM_ORDER: readonly AllowedProperty[] = [
  'run_kind',
  'os',
  'arch',
  'release',
  'platform',
  'method',
  'success',
  'duration_us',
  'jit_enabled',
  'jit_used',
  'accelerate_enabled',
  'error',
  'runtime.failure.stage',
  'runtime.failure.code',
  'runtime.failure.host',
  'runtime.failure.has_span',
  'runtime.failure.component',
  'gpu_backend',
  'gpu_device_vendor',
  'gpu_device_name',
  'gpu_ratio',
  'fusion_hit_ratio',
  'gpu_dispatches',
  'gpu_matmul_dispatches',
  'gpu_fused_elementwise_dispatches',
  'gpu_fused_reduction_dispatches',
  'total_executions',
  'jit_compiled',
  'interpreter_fallback',
  'session_id',
  'gpu_wall_ns',
  'gpu_upload_bytes',
  'gpu_download_bytes',
  'fusion_cache_hits',
  'fusion_cache_misses',
];

/** GA4 spelling of a property or event name: anything but letters, digits and `_` becomes `_`. */
export const ga4Name = (key: string): string => key.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * GA4 event for a normalized event. Names use underscores (`runtime_run_finished`,
 * `runtime_failure_stage`), booleans become 0/1, strings are cut to 100
 * characters, and at most 25 parameters are kept (`engagement_time_msec`
 * first), so the result always passes GA4's validation. `timestamp_micros`
 * is the event's own time, which `normalizeEvent` keeps only within 72 hours.
 */
export function toGa4Event(event: NormalizedEvent): Ga4Event {
  // GA4's reports (realtime, engagement) count an event only with an
  // engagement time: a finished run's duration, else the 1 ms minimum.
  const durationUs = event.properties.duration_us;
  const params: Record<string, string | number> = {
    engagement_time_msec:
      typeof durationUs === 'number' ? Math.max(1, Math.round(durationUs / 1000)) : 1,
  };
  let count = 1;
  for (const key of GA4_PARAM_ORDER) {
    const value = event.properties[key];
    if (value === undefined) continue;
    if (count === GA4_LIMITS.maxParamsPerEvent) break;
    params[ga4Name(key)] =
      typeof value === 'boolean'
        ? Number(value)
        : typeof value === 'string'
          ? value.slice(0, GA4_LIMITS.maxParamValueLength)
          : value;
    count++;
  }
  // The normalized timestamp is the client's own only inside GA4's 72 h window.
  return {
    name: ga4Name(event.event),
    params,
    timestamp_micros: Math.trunc(event.timestamp) * 1000,
  };
}

/** Problems GA4's validation server would report for one event (empty when valid). */
export function ga4EventProblems(event: Ga4Event): string[] {
  const problems: string[] = [];
  if (!isValidGa4Name(event.name, 'event')) problems.push(`event name ${event.name} is invalid`);
  if (event.timestamp_micros !== undefined && !Number.isSafeInteger(event.timestamp_micros)) {
    problems.push('timestamp_micros is not an integer');
  }
  const keys = Object.keys(event.params);
  if (keys.length > GA4_LIMITS.maxParamsPerEvent) problems.push(`${keys.length} params exceed 25`);
  for (const key of keys) {
    if (!isValidGa4Name(key)) problems.push(`param name ${key} is invalid`);
    const v = event.params[key];
    if (typeof v === 'string' && v.length > GA4_LIMITS.maxParamValueLength) {
      problems.push(`param ${key} value exceeds 100 characters`);
    }
    if (typeof v === 'number' && !Number.isFinite(v)) problems.push(`param ${key} is not finite`);
  }
  return problems;
}
