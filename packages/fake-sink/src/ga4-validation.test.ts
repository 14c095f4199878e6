import { describe, expect, it } from 'vitest';
import { type Ga4RequestContext, validateGa4Request } from './ga4-validation.js';

const ctx = { measurementId: 'G-TEST' };

function codes(body: unknown, context: Ga4RequestContext = ctx) {
  return validateGa4Request(body, context).all.map((m) => [m.fieldPath, m.validationCode]);
}

function params(n: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, i]));
}

describe('validateGa4Request', () => {
  it('finds nothing wrong with a valid request', () => {
    const body = {
      client_id: '123.456',
      timestamp_micros: 1_700_000_000_000_000,
      events: [
        { name: 'runtime_run_finished', params: { ...params(24), label: 'x'.repeat(100) } },
        { name: 'install_complete' },
      ],
    };
    expect(validateGa4Request(body, ctx)).toEqual({ request: [], events: [[], []], all: [] });
  });

  it('checks an event-level timestamp_micros like the request-level one', () => {
    const ok = {
      client_id: '1.2',
      events: [{ name: 'a_b', timestamp_micros: 1_700_000_000_000_000 }],
    };
    expect(validateGa4Request(ok, ctx).all).toEqual([]);
    const bad = { client_id: '1.2', events: [{ name: 'a_b', timestamp_micros: '1700' }] };
    expect(validateGa4Request(bad, ctx).events[0]).toMatchObject([
      { fieldPath: 'events.timestamp_micros', validationCode: 'VALUE_INVALID' },
    ]);
  });

  it('requires a client_id (VALUE_REQUIRED) and flags a non-string one (VALUE_INVALID)', () => {
    expect(codes({ events: [{ name: 'a' }] })).toEqual([['client_id', 'VALUE_REQUIRED']]);
    expect(codes({ client_id: '', events: [{ name: 'a' }] })).toEqual([
      ['client_id', 'VALUE_REQUIRED'],
    ]);
    expect(codes({ client_id: 42, events: [{ name: 'a' }] })).toEqual([
      ['client_id', 'VALUE_INVALID'],
    ]);
    expect(validateGa4Request({ events: [{ name: 'a' }] }, ctx).all[0]?.description).toBe(
      'Measurement requires a client_id.',
    );
  });

  it('accepts app_instance_id in place of client_id, as Firebase streams do', () => {
    expect(codes({ app_instance_id: 'abc', events: [{ name: 'a' }] })).toEqual([]);
  });

  it('requires at least one event and the measurement id', () => {
    expect(codes({ client_id: 'c' })).toEqual([['events', 'VALUE_REQUIRED']]);
    expect(codes({ client_id: 'c', events: [] })).toEqual([['events', 'VALUE_REQUIRED']]);
    expect(codes({ client_id: 'c', events: [{ name: 'a' }] }, {})).toEqual([
      ['measurement_id', 'VALUE_REQUIRED'],
    ]);
  });

  it('flags a body that is not an object', () => {
    expect(codes([1, 2])).toEqual([['', 'VALUE_INVALID']]);
    expect(codes(undefined)).toEqual([['', 'VALUE_INVALID']]);
  });

  it('allows 25 events and flags 26 with EXCEEDED_MAX_ENTITIES', () => {
    const event = { name: 'a' };
    expect(codes({ client_id: 'c', events: Array(25).fill(event) })).toEqual([]);
    expect(codes({ client_id: 'c', events: Array(26).fill(event) })).toEqual([
      ['events', 'EXCEEDED_MAX_ENTITIES'],
    ]);
  });

  it.each([
    ['_badEventName', 'must start with an alphabetic character'],
    ['1st_event', 'must start with an alphabetic character'],
    ['runtime.run.finished', 'Only alphanumeric characters and underscores'],
    ['has-dash', 'Only alphanumeric characters and underscores'],
    ['a'.repeat(41), '40 characters or fewer'],
  ])('flags event name %s as NAME_INVALID', (name, why) => {
    const [m] = validateGa4Request({ client_id: 'c', events: [{ name }] }, ctx).all;
    expect(m).toEqual({
      fieldPath: 'events',
      validationCode: 'NAME_INVALID',
      description: expect.stringContaining(why),
    });
    expect(m?.description).toContain(`Event at index: [0] has invalid name [${name}]`);
  });

  it('accepts a 40-character event name', () => {
    expect(codes({ client_id: 'c', events: [{ name: `a${'b'.repeat(39)}` }] })).toEqual([]);
  });

  it.each([
    'session_start',
    'first_visit',
    'error',
    'user_engagement',
    'ga_run',
    'google_x',
    'firebase_y',
  ])('flags reserved event name %s as NAME_RESERVED', (name) => {
    expect(codes({ client_id: 'c', events: [{ name }] })).toEqual([['events', 'NAME_RESERVED']]);
  });

  it('flags a missing event name as VALUE_REQUIRED and reports the event index', () => {
    const v = validateGa4Request({ client_id: 'c', events: [{ name: 'ok' }, { params: {} }] }, ctx);
    expect(v.events[0]).toEqual([]);
    expect(v.events[1]).toEqual([
      {
        fieldPath: 'events',
        validationCode: 'VALUE_REQUIRED',
        description: 'Event at index: [1] is missing a name.',
      },
    ]);
  });

  it('flags bad and reserved param names', () => {
    const body = {
      client_id: 'c',
      events: [
        {
          name: 'a',
          params: { _x: 1, 'a.b': 2, ga_session: 3, firebase_conversion: 4, ok_name: 5 },
        },
      ],
    };
    expect(codes(body)).toEqual([
      ['events.params', 'NAME_INVALID'],
      ['events.params', 'NAME_INVALID'],
      ['events.params', 'NAME_RESERVED'],
      ['events.params', 'NAME_RESERVED'],
    ]);
  });

  it('allows 25 params and flags 26 with EXCEEDED_MAX_ENTITIES', () => {
    expect(codes({ client_id: 'c', events: [{ name: 'a', params: params(25) }] })).toEqual([]);
    expect(codes({ client_id: 'c', events: [{ name: 'a', params: params(26) }] })).toEqual([
      ['events.params', 'EXCEEDED_MAX_ENTITIES'],
    ]);
  });

  it('flags a string value over 100 characters as VALUE_OUT_OF_BOUNDS', () => {
    expect(
      codes({ client_id: 'c', events: [{ name: 'a', params: { s: 'x'.repeat(101) } }] }),
    ).toEqual([['events.params', 'VALUE_OUT_OF_BOUNDS']]);
  });

  it('flags object values as VALUE_INVALID except the items array', () => {
    expect(
      codes({
        client_id: 'c',
        events: [{ name: 'a', params: { o: { x: 1 }, n: null, items: [{ item_id: 'i' }] } }],
      }),
    ).toEqual([
      ['events.params', 'VALUE_INVALID'],
      ['events.params', 'VALUE_INVALID'],
    ]);
  });

  it('checks user properties: count, names and value length', () => {
    const many = Object.fromEntries(
      Array.from({ length: 26 }, (_, i) => [`u${i}`, { value: 'v' }]),
    );
    expect(codes({ client_id: 'c', events: [{ name: 'a' }], user_properties: many })).toEqual([
      ['user_properties', 'EXCEEDED_MAX_ENTITIES'],
    ]);
    expect(
      codes({
        client_id: 'c',
        events: [{ name: 'a' }],
        user_properties: {
          user_id: { value: 'x' },
          'bad name': { value: 'y' },
          long: { value: 'z'.repeat(37) },
        },
      }),
    ).toEqual([
      ['user_properties', 'NAME_RESERVED'],
      ['user_properties', 'NAME_INVALID'],
      ['user_properties', 'VALUE_OUT_OF_BOUNDS'],
    ]);
  });

  it('keeps request-level and per-event findings apart', () => {
    const v = validateGa4Request({ events: [{ name: 'ok' }, { name: 'error' }] }, ctx);
    expect(v.request.map((m) => m.validationCode)).toEqual(['VALUE_REQUIRED']);
    expect(v.events.map((list) => list.map((m) => m.validationCode))).toEqual([
      [],
      ['NAME_RESERVED'],
    ]);
    expect(v.all).toHaveLength(2);
  });
});
