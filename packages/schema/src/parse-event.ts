import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { MAX_EVENT_BYTES } from './constants.js';
import { EVENT_SCHEMAS, type TelemetryEvent, type WireEventName } from './event-schemas.js';

/** Stable rejection codes. Clients, the worker's 400 bodies and metrics all use these. */
export const REJECT_CODES = [
  'invalid_json',
  'too_large',
  'not_object',
  'unknown_event',
  'missing_field',
  'wrong_type',
  'out_of_range',
  'invalid_string',
  'invalid_value',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** Why an input is not an event: a stable code, the JSON pointer of the offending field, and a human sentence. */
export interface SchemaIssue {
  code: RejectCode;
  path: string;
  message: string;
}

export type ParseResult = { ok: true; event: TelemetryEvent } | { ok: false; error: SchemaIssue };

// Compiled once at load; a Map (not an object) so `__proto__` or `constructor`
// as an event label can never resolve to something inherited.
const CHECKERS = new Map<string, TypeCheck<TSchema>>(
  Object.entries(EVENT_SCHEMAS).map(([label, schema]) => [label, TypeCompiler.Compile(schema)]),
);

const fail = (code: RejectCode, path: string, message: string): ParseResult => ({
  ok: false,
  error: { code, path, message },
});

function codeFor(error: ValueError): RejectCode {
  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return 'missing_field';
    case ValueErrorType.StringMaxLength:
    case ValueErrorType.StringMinLength:
    case ValueErrorType.StringPattern:
      return 'invalid_string';
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMaximum:
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMaximum:
      return 'out_of_range';
    case ValueErrorType.Number:
    case ValueErrorType.Integer:
      // A number that is NaN, infinite or fractional where a count is expected
      // is out of range; anything that is not a number at all is the wrong type.
      return typeof error.value === 'number' ? 'out_of_range' : 'wrong_type';
    case ValueErrorType.Literal:
    case ValueErrorType.Union:
      return typeof error.value === 'string' ? 'invalid_value' : 'wrong_type';
    default:
      return 'wrong_type';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks an already-decoded value against the contract. Never throws: any
 * input, however hostile (wrong types, `__proto__` keys, deep nesting, huge
 * strings), yields either the typed event or a {@link SchemaIssue}.
 * Unknown extra fields are allowed here and dropped by `normalizeEvent`.
 */
export function parseEvent(input: unknown): ParseResult {
  try {
    if (!isRecord(input)) return fail('not_object', '', 'an event must be a JSON object');
    const label = input.event_label;
    if (label === undefined)
      return fail('missing_field', '/event_label', 'event_label is required');
    if (typeof label !== 'string') {
      return fail('wrong_type', '/event_label', 'event_label must be a string');
    }
    const checker = CHECKERS.get(label);
    if (!checker) return fail('unknown_event', '/event_label', 'event_label is not a known event');
    if (checker.Check(input)) return { ok: true, event: input as TelemetryEvent };
    const first = checker.Errors(input).First();
    if (!first) return fail('invalid_value', '', 'event does not match the contract');
    return fail(codeFor(first), first.path, first.message);
  } catch {
    // Only exotic inputs get here (proxies, throwing getters); JSON never does.
    return fail('invalid_value', '', 'event could not be inspected');
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

// Node's native byte count is ~20x faster than the portable loop; browsers get the loop.
const nodeBuffer = (globalThis as { Buffer?: { byteLength(s: string): number } }).Buffer;
const byteLength = nodeBuffer ? (s: string) => nodeBuffer.byteLength(s) : utf8ByteLength;

/**
 * Decodes one serialized event (a datagram or a request body): checks the
 * byte budget first, then UTF-8 and JSON, then {@link parseEvent}.
 */
export function parseEventJson(raw: string | Uint8Array, maxBytes = MAX_EVENT_BYTES): ParseResult {
  const size = typeof raw !== 'string' ? raw.byteLength : byteLength(raw);
  if (size > maxBytes) return fail('too_large', '', `event is ${size} bytes, limit ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : decoder.decode(raw));
  } catch {
    return fail('invalid_json', '', 'event is not valid UTF-8 JSON');
  }
  return parseEvent(value);
}

/** True when `label` is a wire name the contract accepts. */
export function isKnownEventLabel(label: string): label is WireEventName {
  return CHECKERS.has(label);
}

/** UTF-8 size of a string without allocating (works in browsers, where there is no Buffer). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
