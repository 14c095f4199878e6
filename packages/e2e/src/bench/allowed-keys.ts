import { ALLOWED_PROPERTIES } from '@runmat-telemetry/schema';
import type { SinkEvent } from '../harness/index.js';

/** Properties the worker itself adds to every PostHog event (see posthog-mapping). */
const POSTHOG_OWN_KEYS = [
  '$lib',
  '$process_person_profile',
  '$geoip_disable',
  '$ip',
  // posthog-node stamps these on every event it sends.
  '$lib_version',
  '$is_server',
];

// GA4 parameter names are the allowlisted keys with non-word characters made
// underscores; GA4's own session and engagement fields may be added.
const GA4_OWN_KEYS = ['engagement_time_msec', 'session_id'];

const POSTHOG_KEYS = new Set<string>([...ALLOWED_PROPERTIES, ...POSTHOG_OWN_KEYS]);
const GA4_KEYS = new Set<string>([
  ...ALLOWED_PROPERTIES.map((k) => k.replace(/[^A-Za-z0-9_]/g, '_')),
  ...GA4_OWN_KEYS,
]);

/**
 * Every `destination:key` found at the sink that is not on the allowlist.
 * Empty means no field outside the contract reached analytics.
 */
export function keysOutsideAllowlist(events: readonly SinkEvent[]): string[] {
  const found = new Set<string>();
  for (const e of events) {
    const allowed = e.destination === 'posthog' ? POSTHOG_KEYS : GA4_KEYS;
    for (const key of Object.keys(e.properties)) {
      if (!allowed.has(key)) found.add(`${e.destination}:${key}`);
    }
  }
  return [...found].sort();
}
