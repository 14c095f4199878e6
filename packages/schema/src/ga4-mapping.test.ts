import { describe, expect, it } from 'vitest';
import { CANONICAL_FINISHED_EXAMPLE, CANONICAL_STARTED_EXAMPLE } from './examples.js';
import { ga4EventProblems, isValidGa4Name, toGa4Event } from './ga4-mapping.js';
import { normalizeEvent } from './normalize-event.js';
import { parseEvent } from './parse-event.js';

describe('GA4 naming rules', () => {
  it('accepts letters, digits and underscores starting with a letter, up to 40 chars', () => {
    expect(isValidGa4Name('runtime_run_finished', 'event')).toBe(true);
    expect(isValidGa4Name('a'.repeat(40))).toBe(true);
    expect(isValidGa4Name('a'.repeat(41))).toBe(false);
    expect(isValidGa4Name('1run')).toBe(false);
    expect(isValidGa4Name('runtime.run')).toBe(false);
  });

  it('rejects reserved names and prefixes', () => {
    expect(isValidGa4Name('session_start', 'event')).toBe(false);
    expect(isValidGa4Name('session_start', 'param')).toBe(true);
    expect(isValidGa4Name('ga_thing')).toBe(false);
    expect(isValidGa4Name('firebase_x')).toBe(false);
  });

  it('reports oversize values and too many params', () => {
    const params: Record<string, string> = {};
    for (let i = 0; i < 26; i++) params[`p${i}`] = 'x';
    params.long = 'y'.repeat(101);
    const problems = ga4EventProblems({ name: 'ok_name', params });
    expect(problems).toContain('27 params exceed 25');
    expect(problems).toContain('param long value exceeds 100 characters');
  });
});

describe('GA4 time and engagement', () => {
  const RECEIVED_AT = 1_779_000_000_000;
  const mapped = (event: unknown) => {
    const parsed = parseEvent(structuredClone(event));
    if (!parsed.ok) throw new Error(parsed.error.code);
    return toGa4Event(normalizeEvent(parsed.event, { receivedAt: RECEIVED_AT }));
  };

  it("keeps the client's time inside GA4's 72 h window, in microseconds", () => {
    const oneHourAgo = RECEIVED_AT - 3_600_000;
    const event = mapped({
      ...CANONICAL_FINISHED_EXAMPLE,
      payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, timestamp_ms: oneHourAgo },
    });
    expect(event.timestamp_micros).toBe(oneHourAgo * 1000);
    const stale = mapped({
      ...CANONICAL_FINISHED_EXAMPLE,
      payload: {
        ...CANONICAL_FINISHED_EXAMPLE.payload,
        timestamp_ms: RECEIVED_AT - 73 * 3_600_000,
      },
    });
    expect(stale.timestamp_micros).toBe(RECEIVED_AT * 1000);
    expect(ga4EventProblems(event)).toEqual([]);
  });

  it('sends engagement_time_msec: the run duration, at least 1 ms', () => {
    expect(mapped(CANONICAL_FINISHED_EXAMPLE).params.engagement_time_msec).toBe(4);
    expect(mapped(CANONICAL_STARTED_EXAMPLE).params.engagement_time_msec).toBe(1);
    const many = mapped(CANONICAL_FINISHED_EXAMPLE);
    expect(Object.keys(many.params).length).toBeLessThanOrEqual(25);
  });
});
