import {
  CANONICAL_FINISHED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
  normalizeEvent,
  parseEvent,
  type TelemetryEvent,
  toPostHogEvent,
} from '@runmat-telemetry/schema';
import { describe, expect, it } from 'vitest';
import { posthogProperties } from './posthog-forwarder.js';

describe('posthogProperties', () => {
  it.each([CANONICAL_FINISHED_EXAMPLE, LEGACY_FINISHED_EXAMPLE, INSTALL_COMPLETE_EXAMPLE])(
    'matches the schema mapping for $event_label',
    (example) => {
      const parsed = parseEvent(example);
      if (!parsed.ok) throw new Error(parsed.error.message);
      const n = normalizeEvent(parsed.event as TelemetryEvent, { receivedAt: 1779000000000 });
      expect(posthogProperties(n, undefined)).toEqual(toPostHogEvent(n).properties);
      expect(posthogProperties(n, '203.0.113.9')).toEqual(
        toPostHogEvent(n, { clientIp: '203.0.113.9' }).properties,
      );
    },
  );
});
