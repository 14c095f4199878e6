import { describe, expect, it } from 'vitest';
import { MAX_EVENT_BYTES } from './constants.js';
import {
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from './examples.js';
import {
  parseEvent,
  parseEventJson,
  REJECT_CODES,
  type RejectCode,
  utf8ByteLength,
} from './parse-event.js';

const finished = (payload: Record<string, unknown>) => ({
  ...CANONICAL_FINISHED_EXAMPLE,
  payload: { ...CANONICAL_FINISHED_EXAMPLE.payload, ...payload },
});

function accepted(input: unknown) {
  const result = parseEvent(input);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.error)}`);
  return result;
}

function rejection(input: unknown) {
  const result = parseEvent(input);
  if (result.ok) throw new Error('expected a rejection');
  return result.error;
}

describe('parseEvent', () => {
  it.each([
    ['canonical finished', CANONICAL_FINISHED_EXAMPLE],
    ['canonical started', CANONICAL_STARTED_EXAMPLE],
    ['legacy finished', LEGACY_FINISHED_EXAMPLE],
    ['installer', INSTALL_COMPLETE_EXAMPLE],
  ])('accepts the %s example', (_name, event) => {
    const result = parseEvent(structuredClone(event));
    expect(result.ok).toBe(true);
  });

  // One case per code, so every stable code is proven reachable.
  const cases: Array<[RejectCode, unknown, string]> = [
    ['not_object', [CANONICAL_STARTED_EXAMPLE], ''],
    [
      'missing_field',
      (({ session_id: _s, ...rest }) => rest)(CANONICAL_STARTED_EXAMPLE),
      '/session_id',
    ],
    [
      'unknown_event',
      { ...CANONICAL_STARTED_EXAMPLE, event_label: 'runtime.run.paused' },
      '/event_label',
    ],
    ['wrong_type', finished({ success: 'yes' }), '/payload/success'],
    ['invalid_string', { ...CANONICAL_STARTED_EXAMPLE, session_id: '/home/alice' }, '/session_id'],
    ['invalid_value', { ...CANONICAL_STARTED_EXAMPLE, run_kind: 'notebook' }, '/run_kind'],
  ];
  it.each(cases)('rejects with %s', (code, input, path) => {
    const error = rejection(input);
    expect(error).toMatchObject({ code, path });
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('reaches invalid_json and too_large through parseEventJson', () => {
    const bad = parseEventJson('{"event_label": ');
    expect(bad.ok || bad.error.code).toBe('invalid_json');
    const big = parseEventJson(JSON.stringify(finished({ error: 'E'.repeat(MAX_EVENT_BYTES) })));
    expect(MAX_EVENT_BYTES).toBe(16 * 1024);
    expect(big.ok || big.error.code).toBe('too_large');
    const badUtf8 = parseEventJson(new Uint8Array([0x7b, 0xff, 0x7d]));
    expect(badUtf8.ok || badUtf8.error.code).toBe('invalid_json');
  });

  it('covers every rejection code in this file', () => {
    const reached = new Set([...cases.map(([code]) => code), 'invalid_json', 'too_large']);
    expect([...reached].sort()).toEqual([...REJECT_CODES].sort());
  });

  it('drops negative, fractional and non-finite counts and keeps the event', () => {
    for (const value of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const r = accepted(finished({ duration_us: value }));
      expect(
        (r.event as unknown as { payload: Record<string, unknown> }).payload.duration_us,
      ).toBeUndefined();
      expect(r.fixes).toContainEqual({ field: 'payload.duration_us', reason: 'out_of_range' });
    }
    const r = accepted(finished({ gpu_ratio: 1.5, gpu_dispatches: '12' }));
    expect(r.fixes).toEqual(
      expect.arrayContaining([
        { field: 'payload.gpu_ratio', reason: 'out_of_range' },
        { field: 'payload.gpu_dispatches', reason: 'wrong_type' },
      ]),
    );
  });

  it('keeps an error class and drops free text, never cutting a message down', () => {
    expect(accepted(finished({ error: 'E'.repeat(256) })).fixes).toEqual([]);
    for (const error of ['E'.repeat(257), 'File not found: /etc/passwd', '', 'x y']) {
      const r = accepted(finished({ error }));
      expect(
        (r.event as unknown as { payload: Record<string, unknown> }).payload.error,
      ).toBeUndefined();
      expect(r.fixes).toContainEqual({ field: 'payload.error', reason: 'invalid_string' });
    }
  });

  it('requires a well-formed uuid on canonical events but not on legacy ones', () => {
    expect(rejection({ ...CANONICAL_STARTED_EXAMPLE, uuid: 'not-a-uuid' }).code).toBe(
      'invalid_string',
    );
    expect(parseEvent({ ...LEGACY_FINISHED_EXAMPLE }).ok).toBe(true);
  });

  it('does not resolve inherited names as event labels', () => {
    for (const label of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(rejection({ ...CANONICAL_STARTED_EXAMPLE, event_label: label }).code).toBe(
        'unknown_event',
      );
    }
  });

  it('survives hostile shapes without throwing', () => {
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 10_000; i++) {
      const next: Record<string, unknown> = {};
      cursor.x = next;
      cursor = next;
    }
    const hostile = [
      null,
      undefined,
      42,
      'runtime.run.started',
      { ...CANONICAL_STARTED_EXAMPLE, payload: deep },
      JSON.parse('{"__proto__": {"polluted": true}, "event_label": "runtime.run.started"}'),
      { ...CANONICAL_STARTED_EXAMPLE, session_id: 'x'.repeat(5_000_000) },
      new Proxy(
        {},
        {
          get: () => {
            throw new Error('boom');
          },
          ownKeys: () => {
            throw new Error('boom');
          },
        },
      ),
    ];
    for (const input of hostile) expect(parseEvent(input).ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parseEventJson(`${'['.repeat(200_000)}${']'.repeat(200_000)}`, 10_000_000).ok).toBe(
      false,
    );
  });
});

describe('utf8ByteLength', () => {
  it('matches Buffer.byteLength for mixed scripts and surrogate pairs', () => {
    for (const s of ['', 'abc', 'é', '日本語', '😀x', 'a\u0800b']) {
      expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s));
    }
  });
});
