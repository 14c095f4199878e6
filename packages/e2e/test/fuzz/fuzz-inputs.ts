import { CANONICAL_FINISHED_EXAMPLE, LEGACY_FINISHED_EXAMPLE } from '@runmat-telemetry/schema';
import fc from 'fast-check';
import { buildCorpus } from '../../src/corpus/index.js';

/** Where one fuzz input goes. */
export type FuzzTarget = 'ingest' | 'v1t' | 'batch' | 'udp';

/** One generated request or datagram. */
export interface FuzzInput {
  target: FuzzTarget;
  body: Uint8Array;
  /** Content-Type header; undefined sends none. */
  contentType: string | undefined;
  /** 'good' sends the real key, 'none' omits the header, anything else is sent as the key. */
  key: 'good' | 'none' | string;
}

// Keys a prototype-pollution or allowlist-bypass attempt would use.
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '$set',
  '$ip',
  'properties',
  'api_key',
  'token',
  'distinct_id',
];

const key = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
);
const value = fc.jsonValue({ maxDepth: 3 });

// Real hosts' shapes (Rust provider snapshots, installer envelopes, legacy
// nulls): the bases the mutations start from, beside the docs' examples.
const REAL_SHAPES = buildCorpus().map((c) => c.body);

/** A real example with fields replaced, removed or added (hostile keys included). */
const mutatedEvent = fc
  .record({
    legacy: fc.boolean(),
    real: fc.option(fc.constantFrom(...REAL_SHAPES), { freq: 2 }),
    top: fc.dictionary(key, value, { maxKeys: 4 }),
    payload: fc.dictionary(key, value, { maxKeys: 4 }),
    remove: fc.option(fc.constantFrom('event_label', 'cid', 'uuid', 'payload', 'os', 'release')),
  })
  .map(({ legacy, real, top, payload, remove }) => {
    const event = structuredClone(
      real ?? (legacy ? LEGACY_FINISHED_EXAMPLE : CANONICAL_FINISHED_EXAMPLE),
    ) as unknown as Record<string, unknown>;
    event.uuid = legacy && real === null ? undefined : crypto.randomUUID();
    event.cid = crypto.randomUUID();
    event.session_id = crypto.randomUUID();
    Object.assign(event, top);
    if (typeof event.payload === 'object' && event.payload !== null) {
      Object.assign(event.payload, payload);
    }
    if (remove) delete event[remove];
    return event;
  });

// JSON.stringify drops `__proto__` set through Object.assign, so hostile keys
// are spliced into the text as well, where a parser would meet them.
const withProtoText = mutatedEvent.map((e) =>
  JSON.stringify(e).replace(
    /^\{/,
    '{"__proto__":{"polluted":"FUZZ"},"constructor":{"prototype":{"x":1}},',
  ),
);

const text = fc.oneof(
  { weight: 4, arbitrary: mutatedEvent.map((e) => JSON.stringify(e)) },
  { weight: 2, arbitrary: withProtoText },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: mutatedEvent.map((e) => JSON.stringify(e).slice(0, -3)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
);

const batchText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: mutatedEvent.map((event) => ({ event })) },
      {
        weight: 1,
        arbitrary: fc.record({
          event: mutatedEvent,
          client_ip: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })),
          received_at: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 8 })),
        }),
      },
      { weight: 1, arbitrary: value },
    ),
    { maxLength: 12 },
  )
  .map((events) => JSON.stringify({ events }));

const bytes = fc.uint8Array({ maxLength: 1600 });
const utf8 = (s: string) => new TextEncoder().encode(s);

const bodyFor = (target: FuzzTarget) =>
  fc.oneof(
    { weight: 6, arbitrary: (target === 'batch' ? batchText : text).map(utf8) },
    { weight: 2, arbitrary: bytes },
  );

const contentType = fc.oneof(
  { weight: 18, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      'application/JSON',
      'multipart/form-data; boundary=x',
    ),
  },
);

const ingestionKey = fc.oneof(
  { weight: 18, arbitrary: fc.constant('good') },
  { weight: 1, arbitrary: fc.constant('none') },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme-ascii' }) },
);

/** Any input for any target, weighted towards plausible-but-wrong events. */
export const fuzzInput: fc.Arbitrary<FuzzInput> = fc
  .constantFrom<FuzzTarget>('ingest', 'v1t', 'batch', 'udp')
  .chain((target) =>
    fc.record({
      target: fc.constant(target),
      body: bodyFor(target),
      contentType,
      key: ingestionKey,
    }),
  );
