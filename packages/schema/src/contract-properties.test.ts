import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FAILURE_HOSTS,
  FAILURE_STAGES,
  INSTALL_EVENTS,
  INSTALL_METHODS,
  RUN_KINDS,
} from './constants.js';
import { FIELD_POLICY } from './field-policy.js';
import { ga4EventProblems, toGa4Event } from './ga4-mapping.js';
import { ALLOWED_PROPERTIES, normalizeEvent } from './normalize-event.js';
import { parseEvent, parseEventJson } from './parse-event.js';
import { createPostHogEncoder, toPostHogEvent } from './posthog-mapping.js';

// Generators for valid events, built from the same constants as the schema.
const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+:-]{0,20}$/);
const anonId = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,30}$/));
const count = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const ratio = fc.double({ min: 0, max: 1, noNaN: true });
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const compact = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const envelope = fc.record({
  uuid: fc.uuid(),
  cid: opt(anonId),
  session_id: anonId,
  os: token,
  arch: token,
  release: opt(token),
  run_kind: fc.constantFrom(...RUN_KINDS),
});

const finishedPayload = fc
  .record({
    duration_us: opt(count),
    success: fc.boolean(),
    jit_enabled: opt(fc.boolean()),
    jit_used: opt(fc.boolean()),
    accelerate_enabled: opt(fc.boolean()),
    error: opt(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,256}$/)),
    counters: opt(
      fc.record({ total_executions: count, jit_compiled: count, interpreter_fallback: count }),
    ),
    gpu_wall_ns: opt(count),
    gpu_ratio: opt(ratio),
    gpu_dispatches: opt(count),
    fusion_cache_hits: opt(count),
    fusion_cache_misses: opt(count),
    fusion_hit_ratio: opt(ratio),
    provider: opt(
      fc.record({
        device: fc.record({
          name: fc.constantFrom('NVIDIA RTX 4090', 'Apple M2 Max'),
          vendor: token,
          backend: token,
        }),
        telemetry: fc.record({ gpu_dispatches: count, upload_bytes: count, download_bytes: count }),
      }),
    ),
    'runtime.failure.stage': opt(fc.constantFrom(...FAILURE_STAGES)),
    'runtime.failure.code': opt(token),
    'runtime.failure.has_span': opt(fc.boolean()),
    'runtime.failure.host': opt(fc.constantFrom(...FAILURE_HOSTS)),
    'runtime.failure.component': opt(token),
  })
  .map(compact);

const validEvent = fc.oneof(
  fc
    .tuple(envelope, fc.constantFrom('runtime.run.finished', 'runtime_finished'), finishedPayload)
    .map(([e, event_label, payload]) => compact({ ...e, event_label, payload })),
  fc
    .tuple(
      envelope,
      fc.constantFrom('runtime.run.started', 'runtime_started'),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([e, event_label, jit_enabled, accelerate_enabled]) =>
      compact({ ...e, event_label, payload: { jit_enabled, accelerate_enabled } }),
    ),
  fc
    .tuple(envelope, fc.constantFrom(...INSTALL_EVENTS), fc.constantFrom(...INSTALL_METHODS), token)
    .map(([e, event_label, method, platform]) =>
      compact({ ...e, event_label, method, platform, run_kind: 'install' }),
    ),
);

// Keys the contract defines are typed; an extra field is anything else.
const CONTRACT_KEYS = new Set([
  'payload',
  'event',
  'eventLabel',
  ...FIELD_POLICY.map((p) => p.field.replace(/^payload\./, '')),
  ...FIELD_POLICY.map((p) => p.field.split('.')[0] as string),
]);

// Extra fields anywhere a client could put them, with arbitrary JSON values.
const extras = fc.dictionary(
  fc
    .oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom('__proto__', 'constructor', 'source', '$ip'),
    )
    .filter((key) => !CONTRACT_KEYS.has(key)),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 5 },
);

const allowed = new Set<string>(ALLOWED_PROPERTIES);

describe('contract properties', () => {
  it("names no allowlisted property uuid (the worker finds a PostHog batch's events by that key)", () => {
    expect(allowed.has('uuid')).toBe(false);
  });

  it('parse never throws on arbitrary JSON values or bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(typeof parseEvent(value).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(typeof parseEventJson(bytes).ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('valid events with arbitrary extra fields normalize to allowlisted keys only, GA4-valid', () => {
    fc.assert(
      fc.property(validEvent, extras, extras, (event, top, inner) => {
        const withExtras: Record<string, unknown> = { ...top, ...event };
        if ('payload' in event) withExtras.payload = { ...inner, ...(event.payload as object) };
        const parsed = parseEvent(JSON.parse(JSON.stringify(withExtras)));
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const n = normalizeEvent(parsed.event, { receivedAt: 1_779_000_000_000 });
        for (const key of Object.keys(n.properties)) expect(allowed.has(key)).toBe(true);
        const ga = toGa4Event(n);
        expect(ga4EventProblems(ga)).toEqual([]);
      }),
      { numRuns: 1500 },
    );
  });

  it('the PostHog wire encoder agrees with toPostHogEvent on every valid event', () => {
    const superProperties = { $lib: 'posthog-node', $lib_version: '9.9.9', $is_server: true };
    const encode = createPostHogEncoder(superProperties);
    const ip = fc.option(fc.oneof(fc.ipV4(), fc.ipV6()), { nil: undefined });
    fc.assert(
      fc.property(validEvent, ip, (event, clientIp) => {
        const parsed = parseEvent(event);
        expect(parsed.ok).toBe(true);
        if (!parsed.ok) return;
        const n = normalizeEvent(parsed.event, { receivedAt: 1_779_000_000_000 });
        const expected = toPostHogEvent(n, { clientIp });
        expect(JSON.parse(encode(n, clientIp))).toEqual({
          ...expected,
          properties: { ...expected.properties, ...superProperties },
        });
      }),
      { numRuns: 1500 },
    );
  });
});
