import type { EventProperties, NormalizedEvent } from './normalize-event.js';

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
