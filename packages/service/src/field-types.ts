import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import { ConfigError } from './config-error.js';
import { defineField, type FieldOptions, type Parse, quote } from './env-field.js';

const MIB = 1024 * 1024;

/** Bounds of an integer field, and an optional extra rule (a message when broken). */
export interface IntegerOptions extends FieldOptions<number> {
  min: number;
  max: number;
  /** A rule the bounds cannot say (e.g. "0 or at least 1000"); returns what is wrong. */
  check?: (value: number) => string | undefined;
}

// For the docs: `range 1-256`, `at least 1048576` when only the floor matters.
function range({ min, max }: { min: number; max: number }): string | undefined {
  if (max < Number.MAX_SAFE_INTEGER) return `range ${min}-${max}`;
  return min > 0 ? `at least ${min}` : undefined;
}

function parseInteger({ min, max, check }: IntegerOptions): Parse<number> {
  return (text, variable) => {
    const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(variable, `expected an integer ${min}-${max}, ${quote(text)}`);
    }
    const problem = check?.(n);
    if (problem !== undefined) throw new ConfigError(variable, problem);
    return n;
  };
}

/** A non-negative integer within `min`-`max`. */
export function integer<const V extends string, const O extends IntegerOptions>(
  variable: V,
  options: O,
) {
  return defineField(variable, options, parseInteger(options), undefined, false, range(options));
}

/** A TCP or UDP port, 0-65535 (0: the system picks one). */
export function port<const V extends string, const O extends FieldOptions<number>>(
  variable: V,
  options: O,
) {
  return defineField(variable, options, parseInteger({ ...options, min: 0, max: 65535 }));
}

function humanDuration(ms: number): string {
  if (ms === 0) return '';
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return ` (${ms / size} ${unit})`;
  }
  return '';
}

/** A duration in milliseconds (an integer; the table shows `600000` (10 min)). */
export function durationMs<const V extends string, const O extends IntegerOptions>(
  variable: V,
  options: O,
) {
  return defineField(
    variable,
    options,
    parseInteger(options),
    (ms) => `\`${ms}\`${humanDuration(ms)}`,
    false,
    range(options),
  );
}

function humanBytes(n: number): string {
  if (n >= MIB && n % MIB === 0) return ` (${n / MIB} MiB)`;
  if (n >= 1024 && n % 1024 === 0) return ` (${n / 1024} KiB)`;
  return '';
}

/** A size in bytes (an integer; the table shows `33554432` (32 MiB)). */
export function bytes<const V extends string, const O extends IntegerOptions>(
  variable: V,
  options: O,
) {
  return defineField(
    variable,
    options,
    parseInteger(options),
    (n) => `\`${n}\`${humanBytes(n)}`,
    false,
    range(options),
  );
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`), any case. */
export function boolean<const V extends string, const O extends FieldOptions<boolean>>(
  variable: V,
  options: O,
) {
  return defineField(variable, options, (text, name) => {
    const v = text.toLowerCase();
    if (TRUE.includes(v)) return true;
    if (FALSE.includes(v)) return false;
    throw new ConfigError(name, `expected true or false, ${quote(text)}`);
  });
}

/** Options of an enum field. */
export interface OneOfOptions<T> extends FieldOptions<T> {
  /** Accept any case and return the listed spelling. */
  caseInsensitive?: boolean;
}

/** One of `values`. */
export function oneOf<
  const V extends string,
  const L extends readonly string[],
  const O extends OneOfOptions<L[number]>,
>(variable: V, values: L, options: O) {
  return defineField(variable, options, (text, name): L[number] => {
    const found = options.caseInsensitive
      ? values.find((v) => v.toLowerCase() === text.toLowerCase())
      : values.find((v) => v === text);
    if (found === undefined) {
      throw new ConfigError(name, `expected one of ${values.join(', ')}, ${quote(text)}`);
    }
    return found;
  });
}

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino level, any case (`INFO` reads as `info`): the same rule in every app. */
export function logLevel<const V extends string, const O extends FieldOptions<LogLevel>>(
  variable: V,
  options: O,
) {
  return oneOf(variable, LOG_LEVELS, { ...options, caseInsensitive: true } as O & {
    caseInsensitive: true;
  });
}

/** Options of a URL field. */
export interface UrlOptions extends FieldOptions<string> {
  /** Allowed schemes, with their colon: `['http:', 'https:']`. */
  protocols: readonly string[];
  /** The URL holds a password: no message repeats it. */
  secret?: boolean;
  /** Return the URL without trailing slashes (a base URL paths are appended to). */
  trimTrailingSlash?: boolean;
}

function expectedUrl(protocols: readonly string[]): string {
  if (protocols.length === 2 && protocols.includes('http:') && protocols.includes('https:')) {
    return 'an http(s) URL';
  }
  return `a ${protocols.map((p) => `${p}//`).join(' or ')} URL with a host`;
}

/** An absolute URL with one of `protocols` and a host, returned as written. */
export function url<const V extends string, const O extends UrlOptions>(variable: V, options: O) {
  const expected = expectedUrl(options.protocols);
  const secret = options.secret ?? false;
  return defineField(
    variable,
    options,
    (text, name) => {
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch (cause) {
        throw new ConfigError(
          name,
          secret
            ? `expected ${expected} (the value is not repeated: it may hold a password)`
            : `expected ${expected}, ${quote(text)}`,
          { cause },
        );
      }
      if (!options.protocols.includes(parsed.protocol) || parsed.hostname === '') {
        throw new ConfigError(
          name,
          secret
            ? `expected ${expected}, got a ${parsed.protocol.replace(/:$/, '')}: URL`
            : `expected ${expected}, ${quote(text)}`,
        );
      }
      return options.trimTrailingSlash ? text.replace(/\/+$/, '') : text;
    },
    undefined,
    secret,
  );
}

/** Options of a string field. */
export interface StringOptions extends FieldOptions<string> {
  /** The whole value must match. */
  pattern?: RegExp;
  /** What `pattern` means, for the message: "a Google Cloud project id". */
  expected?: string;
}

/** Free text, or text matching `pattern`. */
export function string<const V extends string, const O extends StringOptions>(
  variable: V,
  options: O,
) {
  return defineField(variable, options, (text, name) => {
    if (options.pattern !== undefined && !options.pattern.test(text)) {
      throw new ConfigError(
        name,
        `expected ${options.expected ?? options.pattern}, ${quote(text)}`,
      );
    }
    return text;
  });
}

/** Options of a host field. */
export interface HostOptions extends FieldOptions<string> {
  /** Only an IP literal (or `localhost`): sockets that bind addresses, not names. */
  literal?: boolean;
}

/** A bind address: an IP literal, `localhost`, or (unless `literal`) a host name. */
export function host<const V extends string, const O extends HostOptions>(variable: V, options: O) {
  return defineField(variable, options, (text, name) => {
    if (options.literal) {
      if (isIP(text) === 0 && text !== 'localhost') {
        throw new ConfigError(name, `expected an IPv4 or IPv6 address, ${quote(text)}`);
      }
    } else if (/[\s/]/.test(text)) {
      throw new ConfigError(name, `expected a host name or IP address, ${quote(text)}`);
    }
    return text;
  });
}

/** A credential: any text, never printed (not in errors, not in the docs table). */
export function secret<const V extends string, const O extends FieldOptions<string>>(
  variable: V,
  options: O,
) {
  return defineField(variable, options, (text) => text, undefined, true);
}

/** Length bounds of each ingestion key. */
export interface KeyRuleOptions {
  /** Shortest key accepted (8: the worker's rule). */
  minLength?: number;
  maxLength?: number;
}

/** The key rule the worker has always applied: 8-256 characters, no spaces, no commas. */
export const KEY_MIN_LENGTH = 8;
export const KEY_MAX_LENGTH = 256;

function keyRule(options: KeyRuleOptions) {
  const min = options.minLength ?? KEY_MIN_LENGTH;
  const max = options.maxLength ?? KEY_MAX_LENGTH;
  return {
    ok: (k: string) => k.length >= min && k.length <= max && !/[\s,]/.test(k),
    text: `${min}-${max} characters without spaces`,
  };
}

/**
 * Comma-separated keys (several while one is rotated), each within the key
 * rule. A secret: messages never repeat a key.
 */
export function keyList<
  const V extends string,
  const O extends FieldOptions<string[]> & KeyRuleOptions,
>(variable: V, options: O) {
  const rule = keyRule(options);
  return defineField(
    variable,
    options,
    (text, name) => {
      const keys = text
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k.length > 0);
      if (keys.length === 0) throw new ConfigError(name, 'no key in the list');
      if (!keys.every(rule.ok)) {
        throw new ConfigError(name, `each key must be ${rule.text}`);
      }
      return [...new Set(keys)];
    },
    undefined,
    true,
  );
}

/** One key under the same rule as {@link keyList} (what a sender presents). A secret. */
export function key<const V extends string, const O extends FieldOptions<string> & KeyRuleOptions>(
  variable: V,
  options: O,
) {
  const rule = keyRule(options);
  return defineField(
    variable,
    options,
    (text, name) => {
      if (!rule.ok(text)) {
        throw new ConfigError(
          name,
          `expected one key of ${rule.text} or commas (the value is not repeated: it is a secret)`,
        );
      }
      return text;
    },
    undefined,
    true,
  );
}

/** Fastify's `trustProxy`: off, on, a hop count, or the proxies' addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

const TRUST_PROXY_FORMS = 'true, false, a hop count, or comma-separated addresses/CIDRs';

/**
 * Fastify's `trustProxy` from text: `true`, `false`, a hop count, or
 * comma-separated addresses, CIDRs and proxy-addr's names (`loopback`,
 * `linklocal`, `uniquelocal`). A list is compiled by `@fastify/proxy-addr`,
 * the library Fastify compiles it with, so what passes here cannot fail in
 * `buildApp`.
 */
export function trustProxy<const V extends string, const O extends FieldOptions<TrustProxy>>(
  variable: V,
  options: O,
) {
  return defineField(
    variable,
    options,
    (text, name): TrustProxy => {
      const v = text.toLowerCase();
      if (v === 'true') return true;
      if (v === 'false' || v === '0') return false;
      if (/^\d+$/.test(v)) {
        const hops = Number(v);
        if (!Number.isSafeInteger(hops)) {
          throw new ConfigError(name, `expected ${TRUST_PROXY_FORMS}, ${quote(text)}`);
        }
        return hops;
      }
      const list = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      try {
        proxyAddr.compile(list);
      } catch (cause) {
        const why = cause instanceof Error ? cause.message : String(cause);
        throw new ConfigError(name, `${why} (expected ${TRUST_PROXY_FORMS}), ${quote(text)}`, {
          cause,
        });
      }
      return list;
    },
    (value) => `\`${Array.isArray(value) ? value.join(',') : String(value)}\``,
  );
}

/** Options of a field with its own parser. */
export interface CustomOptions<T> extends FieldOptions<T> {
  /** Never printed: the parser must not quote the value either. */
  secret?: boolean;
  /** The docs' default cell for a set default. */
  show?: (value: T) => string;
}

/** A field with an app's own rule (e.g. CORS origins); `parse` throws `ConfigError`. */
export function custom<T, const V extends string, const O extends CustomOptions<T>>(
  variable: V,
  options: O,
  parse: Parse<T>,
) {
  return defineField<T, V, O>(variable, options, parse, options.show, options.secret ?? false);
}
