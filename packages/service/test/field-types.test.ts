import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  boolean,
  bytes,
  ConfigError,
  custom,
  durationMs,
  envSchema,
  envVariables,
  host,
  integer,
  key,
  keyList,
  loadEnv,
  logLevel,
  oneOf,
  port,
  secret,
  secretVariables,
  string,
  trustProxy,
  url,
} from '../src/index.ts';

function errorOf(read: () => unknown): ConfigError {
  try {
    read();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('field types', () => {
  it('port and integer: bounds in the message, the variable named', () => {
    const p = port('PORT', { default: 8080, description: 'listen port' });
    expect(p.read(undefined)).toBe(8080);
    expect(p.read('0')).toBe(0);
    const err = errorOf(() => p.read('abc'));
    expect(err).toMatchObject({ code: 'invalid_config', variable: 'PORT' });
    expect(err.message).toBe('invalid PORT: expected an integer 0-65535, got "abc"');
    expect(errorOf(() => p.read('65536')).variable).toBe('PORT');
    expect(errorOf(() => p.read('-1')).message).toContain('got "-1"');
    expect(errorOf(() => p.read('1e3')).variable).toBe('PORT');
    const off = integer('REQUEST_TIMEOUT_MS', {
      default: 10_000,
      min: 0,
      max: 600_000,
      description: 'd',
      check: (n) =>
        n !== 0 && n < 1000 ? `expected 0 (off) or 1000-600000, got "${n}"` : undefined,
    });
    expect(off.read('0')).toBe(0);
    expect(errorOf(() => off.read('500')).message).toBe(
      'invalid REQUEST_TIMEOUT_MS: expected 0 (off) or 1000-600000, got "500"',
    );
  });

  it('durations and sizes say their unit in the docs', () => {
    expect(
      durationMs('W', { default: 600_000, min: 0, max: 1e9, description: 'd' }).defaultText,
    ).toBe('`600000` (10 min)');
    expect(durationMs('W', { default: 250, min: 0, max: 1e9, description: 'd' }).defaultText).toBe(
      '`250`',
    );
    expect(
      bytes('B', { default: 32 * 1024 * 1024, min: 0, max: 2 ** 40, description: 'd' }).defaultText,
    ).toBe('`33554432` (32 MiB)');
  });

  it('boolean takes the usual spellings, any case', () => {
    const b = boolean('POSTHOG_GZIP', { default: true, description: 'd' });
    expect(['1', 'TRUE', 'yes', 'On'].map((v) => b.read(v))).toEqual([true, true, true, true]);
    expect(['0', 'False', 'NO', 'off'].map((v) => b.read(v))).toEqual([false, false, false, false]);
    expect(errorOf(() => b.read('maybe')).message).toBe(
      'invalid POSTHOG_GZIP: expected true or false, got "maybe"',
    );
  });

  it('log level is case-insensitive and normalized to lower case', () => {
    const l = logLevel('LOG_LEVEL', { default: 'info', description: 'd' });
    expect(l.read('INFO')).toBe('info');
    expect(l.read('Warn')).toBe('warn');
    expect(l.read(undefined)).toBe('info');
    expect(errorOf(() => l.read('loud')).message).toBe(
      'invalid LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
    const strict = oneOf('MODE', ['a', 'b'] as const, { default: 'a', description: 'd' });
    expect(errorOf(() => strict.read('A')).variable).toBe('MODE');
  });

  it('url: allowed protocols only, and a secret URL is never repeated', () => {
    const u = url('POSTHOG_HOST', {
      default: 'https://us.i.posthog.com',
      protocols: ['http:', 'https:'],
      trimTrailingSlash: true,
      description: 'd',
    });
    expect(u.read('http://127.0.0.1:9/')).toBe('http://127.0.0.1:9');
    expect(errorOf(() => u.read('ftp://x')).message).toBe(
      'invalid POSTHOG_HOST: expected an http(s) URL, got "ftp://x"',
    );
    const r = url('REDIS_URL', {
      protocols: ['redis:', 'rediss:'],
      secret: true,
      description: 'd',
    });
    expect(r.read('rediss://:pw@h:6378')).toBe('rediss://:pw@h:6378');
    for (const bad of ['http://:secretpw@127.0.0.1:1', 'secretpw', 'redis://']) {
      const err = errorOf(() => r.read(bad));
      expect(err.variable).toBe('REDIS_URL');
      expect(err.message).toMatch(/^invalid REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
      expect(err.message).not.toContain('secretpw');
    }
  });

  it('string, host and secret', () => {
    const s = string('PROJECT', {
      pattern: /^[a-z][a-z0-9-]{4,61}$/,
      expected: 'a project id',
      description: 'd',
    });
    expect(s.read(undefined)).toBeUndefined();
    expect(errorOf(() => s.read('Not A Project')).message).toBe(
      'invalid PROJECT: expected a project id, got "Not A Project"',
    );
    const h = host('UDP_HOST', { default: '0.0.0.0', literal: true, description: 'd' });
    expect(h.read('::1')).toBe('::1');
    expect(errorOf(() => h.read('udp.example')).message).toBe(
      'invalid UDP_HOST: expected an IPv4 or IPv6 address, got "udp.example"',
    );
    const named = host('HOST', { default: '127.0.0.1', description: 'd' });
    expect(named.read('localhost')).toBe('localhost');
    expect(errorOf(() => named.read('a b')).variable).toBe('HOST');
    const k = secret('API_KEY', { required: true, description: 'd' });
    expect(k.secret).toBe(true);
    expect(errorOf(() => k.read(undefined)).message).toBe('missing API_KEY: it is required');
  });

  it('key list and key: at least 8 characters each, never repeated in a message', () => {
    const list = keyList('INGESTION_KEY', { required: true, description: 'd' });
    expect(list.read('new-key-1234, old-key-5678,new-key-1234')).toEqual([
      'new-key-1234',
      'old-key-5678',
    ]);
    expect(errorOf(() => list.read(' , ')).message).toBe(
      'invalid INGESTION_KEY: no key in the list',
    );
    const short = errorOf(() => list.read('good-key-1234,shorty'));
    expect(short.message).toBe(
      'invalid INGESTION_KEY: each key must be 8-256 characters without spaces',
    );
    expect(short.message).not.toContain('shorty');
    const one = key('TELEMETRY_INGESTION_KEY', { required: true, description: 'd' });
    expect(one.read('forwarder-key-1')).toBe('forwarder-key-1');
    for (const bad of ['short1', 'two-keys-1234,other-key-5678', 'has space in it']) {
      const err = errorOf(() => one.read(bad));
      expect(err.variable, bad).toBe('TELEMETRY_INGESTION_KEY');
      expect(err.message, bad).not.toContain(bad);
    }
  });

  it('trust proxy: the forms Fastify takes, a bad list refused naming the variable', () => {
    const t = trustProxy('TRUST_PROXY', { default: false, description: 'd' });
    expect(t.read(undefined)).toBe(false);
    expect(t.read('true')).toBe(true);
    expect(t.read('FALSE')).toBe(false);
    expect(t.read('0')).toBe(false);
    expect(t.read('2')).toBe(2);
    expect(t.read('10.0.0.0/8, ::1,loopback')).toEqual(['10.0.0.0/8', '::1', 'loopback']);
    const cidr = errorOf(() => t.read('1.2.3.4/99'));
    expect(cidr.variable).toBe('TRUST_PROXY');
    expect(cidr.message).toMatch(/^invalid TRUST_PROXY: /);
    expect(cidr.message).toContain('"1.2.3.4/99"');
    expect(cidr.message.split('\n')).toHaveLength(1);
    expect(errorOf(() => t.read('evil host')).variable).toBe('TRUST_PROXY');
    expect(errorOf(() => t.read('10.0.0.0/8,300.1.1.1')).variable).toBe('TRUST_PROXY');
  });

  it('custom: the app parses, the scaffolding names the variable', () => {
    const c = custom(
      'ORIGINS',
      { default: [] as string[], description: 'd', show: () => 'none' },
      (text, variable) => {
        if (text.includes('*')) throw new ConfigError(variable, 'no wildcard');
        return text.split(',');
      },
    );
    expect(c.read('a,b')).toEqual(['a', 'b']);
    expect(c.defaultText).toBe('none');
    expect(errorOf(() => c.read('*')).message).toBe('invalid ORIGINS: no wildcard');
  });
});

describe('a schema', () => {
  const schema = envSchema({
    port: port('PORT', { default: 8080, description: 'listen port' }),
    key: keyList('KEYS', { required: true, description: 'keys' }),
    project: string('PROJECT', { description: 'project' }),
    level: logLevel('LOG_LEVEL', { default: 'info', description: 'level' }),
  });

  it('loads typed values, blank as unset, the first bad variable in schema order', () => {
    const values = loadEnv(schema, { KEYS: 'a-key-12345', PROJECT: '  ', LOG_LEVEL: 'DEBUG' });
    expect(values).toEqual({
      port: 8080,
      key: ['a-key-12345'],
      project: undefined,
      level: 'debug',
    });
    expectTypeOf(values.port).toEqualTypeOf<number>();
    expectTypeOf(values.key).toEqualTypeOf<string[]>();
    expectTypeOf(values.project).toEqualTypeOf<string | undefined>();
    expectTypeOf(values.level).toEqualTypeOf<
      'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
    >();
    expect(errorOf(() => loadEnv(schema, { PORT: 'x', LOG_LEVEL: 'loud' })).variable).toBe('PORT');
    expect(errorOf(() => loadEnv(schema, { LOG_LEVEL: 'loud' })).variable).toBe('KEYS');
  });

  it('names its variables and its secrets', () => {
    const names = envVariables(schema);
    expect(names).toEqual({ port: 'PORT', key: 'KEYS', project: 'PROJECT', level: 'LOG_LEVEL' });
    expectTypeOf(names.port).toEqualTypeOf<'PORT'>();
    expect(secretVariables(schema)).toEqual(['KEYS']);
  });
});
