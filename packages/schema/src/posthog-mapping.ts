import {
  ALLOWED_PROPERTIES,
  type EventProperties,
  type NormalizedEvent,
} from './normalize-event.js';

/** Library name the worker reports to PostHog as `$lib`. */
export const POSTHOG_LIB = 'runmat-telemetry-worker';

/** A PostHog capture event as `/batch/` receives it. */
export interface PostHogEvent {
  event: string;
  distinct_id: string;
  uuid: string;
  /** ISO 8601. */
  timestamp: string;
  properties: EventProperties & {
    $lib: string;
    $process_person_profile: false;
    $geoip_disable: boolean;
    $ip?: string;
  };
}

export interface PostHogMappingOptions {
  /** The sender's IP; only forwarded when an operator opts in. */
  clientIp?: string;
}

/**
 * PostHog capture event for a normalized event. Events are anonymous: no
 * person profile is created, and GeoIP is off unless the operator chose to
 * forward the client IP.
 */
export function toPostHogEvent(
  event: NormalizedEvent,
  options: PostHogMappingOptions = {},
): PostHogEvent {
  const properties: PostHogEvent['properties'] = {
    ...event.properties,
    $lib: POSTHOG_LIB,
    $process_person_profile: false,
    $geoip_disable: options.clientIp === undefined,
  };
  if (options.clientIp !== undefined) properties.$ip = options.clientIp;
  return {
    event: event.event,
    distinct_id: event.distinct_id,
    uuid: event.uuid,
    timestamp: new Date(event.timestamp).toISOString(),
    properties,
  };
}

/**
 * Properties merged over every event's own by {@link createPostHogEncoder},
 * e.g. the `$lib`, `$lib_version` and `$is_server` posthog-node adds to each
 * capture. Keys must start with `$` (so they can never collide with the
 * allowlist) and may not override the privacy keys the mapping controls.
 */
export type PostHogSuperProperties = Readonly<Record<string, string | number | boolean>>;

const PRIVACY_KEYS = new Set(['$ip', '$geoip_disable', '$process_person_profile']);
// Anything JSON.stringify would escape (or that is not well-formed UTF-16);
// strings without these are quoted as they are.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const QUOTED_KEYS = new Map<string, string>(ALLOWED_PROPERTIES.map((k) => [k, `${quote(k)}:`]));

function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function jsonValue(v: string | number | boolean): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number') return Number.isFinite(v) ? `${v}` : 'null';
  return v ? 'true' : 'false';
}

/**
 * Returns a function that serializes one normalized event straight to the
 * JSON of its PostHog capture event: what `JSON.stringify(toPostHogEvent(...))`
 * would give with `superProperties` merged into the properties, without
 * building the intermediate object. Keys outside the allowlist are never
 * written, even if a caller put them in `properties`. This is the worker's per-event hot path,
 * so the fixed tail of the property object is serialized once here.
 */
export function createPostHogEncoder(
  superProperties: PostHogSuperProperties = {},
): (event: NormalizedEvent, clientIp?: string) => string {
  for (const key of Object.keys(superProperties)) {
    if (!key.startsWith('$') || PRIVACY_KEYS.has(key)) {
      throw new Error(`PostHog super property ${JSON.stringify(key)} is not allowed`);
    }
  }
  const tail = (geoipDisable: boolean) => {
    const fixed: Record<string, string | number | boolean> = {
      $lib: POSTHOG_LIB,
      ...superProperties,
      $process_person_profile: false,
      $geoip_disable: geoipDisable,
    };
    return Object.entries(fixed)
      .map(([k, v]) => `${quote(k)}:${jsonValue(v)}`)
      .join(',');
  };
  const tailWithoutIp = tail(true);
  const tailWithIp = `${tail(false)},"$ip":`;

  return (event, clientIp) => {
    let props = '{';
    const source = event.properties as Record<string, string | number | boolean | undefined>;
    for (const key in source) {
      const value = source[key];
      // Only allowlisted keys are written, whatever the object holds.
      const quoted = QUOTED_KEYS.get(key);
      if (quoted === undefined || value === undefined) continue;
      props += `${quoted}${jsonValue(value)},`;
    }
    props += clientIp === undefined ? tailWithoutIp : `${tailWithIp}${quote(clientIp)}`;
    return (
      `{"event":${quote(event.event)},"distinct_id":${quote(event.distinct_id)},` +
      `"uuid":${quote(event.uuid)},"timestamp":"${new Date(event.timestamp).toISOString()}",` +
      `"properties":${props}}}`
    );
  };
}

/**
 * One event as posthog-node's `capture()` takes it (its `EventMessage`):
 * allowlisted properties only, whatever the object holds, no person profile,
 * and GeoIP off unless the operator chose to forward the client IP.
 * posthog-node adds its own `$lib`, `$lib_version` and `$geoip_disable`.
 */
export interface PostHogCapture {
  distinctId: string;
  event: string;
  uuid: string;
  timestamp: Date;
  disableGeoip: boolean;
  properties: Record<string, string | number | boolean>;
}

const ALLOWED_KEYS: ReadonlySet<string> = new Set(ALLOWED_PROPERTIES);

export function toPostHogCapture(event: NormalizedEvent, clientIp?: string): PostHogCapture {
  const properties: Record<string, string | number | boolean> = {};
  const source = event.properties as Record<string, string | number | boolean | undefined>;
  for (const key in source) {
    const value = source[key];
    if (value !== undefined && ALLOWED_KEYS.has(key)) properties[key] = value;
  }
  properties.$process_person_profile = false;
  if (clientIp !== undefined) {
    // posthog-node only ever adds `$geoip_disable: true`; say false outright.
    properties.$ip = clientIp;
    properties.$geoip_disable = false;
  }
  return {
    distinctId: event.distinct_id,
    event: event.event,
    uuid: event.uuid,
    timestamp: new Date(event.timestamp),
    disableGeoip: clientIp === undefined,
    properties,
  };
}
