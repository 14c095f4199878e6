import { describe, expect, it } from 'vitest';
import {
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from './examples.js';
import { type NormalizedEvent, normalizeEvent } from './normalize-event.js';
import { parseEvent } from './parse-event.js';
import { createPostHogEncoder, POSTHOG_LIB, toPostHogEvent } from './posthog-mapping.js';

const NOW = Date.parse('2026-05-17T06:40:00Z');
const normalized = (raw: unknown): NormalizedEvent => {
  const parsed = parseEvent(raw);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return normalizeEvent(parsed.event, { receivedAt: NOW });
};
const SUPER = { $lib: 'posthog-node', $lib_version: '5.70.0', $is_server: true };

describe('createPostHogEncoder', () => {
  const examples = [
    CANONICAL_FINISHED_EXAMPLE,
    CANONICAL_STARTED_EXAMPLE,
    LEGACY_FINISHED_EXAMPLE,
    INSTALL_COMPLETE_EXAMPLE,
  ].map(normalized);

  it('serializes exactly what toPostHogEvent builds, with super properties merged over it', () => {
    const encode = createPostHogEncoder(SUPER);
    for (const event of examples) {
      for (const clientIp of [undefined, '203.0.113.7', '2001:db8::1']) {
        const expected = toPostHogEvent(event, { clientIp });
        expect(JSON.parse(encode(event, clientIp))).toEqual({
          ...expected,
          properties: { ...expected.properties, ...SUPER },
        });
      }
    }
  });

  it('keeps the mapping $lib when no super properties are given', () => {
    const event = examples[0]!;
    const wire = JSON.parse(createPostHogEncoder()(event));
    expect(wire).toEqual(toPostHogEvent(event));
    expect(wire.properties.$lib).toBe(POSTHOG_LIB);
    expect(wire.properties.$geoip_disable).toBe(true);
    expect(wire.properties).not.toHaveProperty('$ip');
  });

  it('escapes strings the way JSON.stringify does, lone surrogates and separators included', () => {
    const event = examples[0]!;
    const odd = [
      'quote " and \\ back',
      'line\nbreak\u0001',
      'sep \u2028 \u2029',
      'lone \ud800 x',
      'é 中 😀',
    ];
    const encode = createPostHogEncoder();
    for (const s of odd) {
      const weird: NormalizedEvent = {
        ...event,
        distinct_id: s,
        properties: { ...event.properties, error: s, os: s },
      };
      const text = encode(weird);
      expect(JSON.parse(text)).toEqual(toPostHogEvent(weird));
      expect(text.includes(JSON.stringify(s))).toBe(true);
    }
  });

  it('writes only allowlisted property keys, whatever the properties object holds', () => {
    const event = examples[0]!;
    const tampered = {
      ...event,
      properties: { ...event.properties, source: 'A = secret', $ip: '198.51.100.1' },
    } as unknown as NormalizedEvent;
    const wire = JSON.parse(createPostHogEncoder()(tampered));
    expect(wire.properties).not.toHaveProperty('source');
    expect(wire.properties).not.toHaveProperty('$ip');
    expect(wire.properties.$geoip_disable).toBe(true);
  });

  it('writes non-finite numbers as null, like JSON.stringify', () => {
    const event = { ...examples[0]!, properties: { duration_us: Number.NaN, gpu_ratio: 0.5 } };
    expect(JSON.parse(createPostHogEncoder()(event)).properties).toMatchObject({
      duration_us: null,
      gpu_ratio: 0.5,
    });
  });

  it('refuses super properties that could collide with the allowlist or the privacy keys', () => {
    expect(() => createPostHogEncoder({ os: 'x' })).toThrow(/not allowed/);
    expect(() => createPostHogEncoder({ $ip: '1.2.3.4' })).toThrow(/not allowed/);
    expect(() => createPostHogEncoder({ $geoip_disable: false })).toThrow(/not allowed/);
    expect(() => createPostHogEncoder({ $process_person_profile: true })).toThrow(/not allowed/);
  });
});
