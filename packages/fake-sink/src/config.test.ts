import { readFileSync } from 'node:fs';
import { envTableOf, renderEnvTable, tableCells } from '@runmat-telemetry/service';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadSinkConfig, sinkEnvSchema } from './config.js';

describe('loadSinkConfig', () => {
  it('defaults to 127.0.0.1:8787', () => {
    expect(loadSinkConfig({})).toEqual({
      port: 8787,
      host: '127.0.0.1',
      maxEvents: 10_000,
      apiKey: undefined,
      gaApiSecret: undefined,
      logLevel: 'info',
    });
  });

  it('accepts PORT=0 for an ephemeral port, and the other variables', () => {
    expect(
      loadSinkConfig({
        PORT: '0',
        HOST: '::1',
        SINK_MAX_EVENTS: '5',
        SINK_POSTHOG_API_KEY: 'k',
        LOG_LEVEL: 'warn',
      }),
    ).toEqual({ port: 0, host: '::1', maxEvents: 5, apiKey: 'k', logLevel: 'warn' });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'invalid PORT: expected an integer 0-65535, got "abc"'],
    [{ PORT: '65536' }, 'PORT', 'invalid PORT: expected an integer 0-65535, got "65536"'],
    [{ PORT: '-1' }, 'PORT', 'invalid PORT: expected an integer 0-65535, got "-1"'],
    [
      { SINK_MAX_EVENTS: '0' },
      'SINK_MAX_EVENTS',
      'invalid SINK_MAX_EVENTS: expected an integer 1-10000000, got "0"',
    ],
    [{ HOST: 'a b' }, 'HOST', 'invalid HOST: expected a host name or IP address, got "a b"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /invalid LOG_LEVEL: expected one of .*got "loud"/],
    [{ HOST: 'a/b' }, 'HOST', 'invalid HOST: expected a host name or IP address, got "a/b"'],
  ])('rejects %j naming the variable', (env, variable, message) => {
    let caught: unknown;
    try {
      loadSinkConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(message);
  });

  it('reads LOG_LEVEL in any case, as the worker and the forwarder do', () => {
    expect(loadSinkConfig({ LOG_LEVEL: 'WARN' }).logLevel).toBe('warn');
  });

  it('is the same ConfigError as every app: stable code, variable named', () => {
    let caught: unknown;
    try {
      loadSinkConfig({ PORT: 'x' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'invalid_config', variable: 'PORT' });
  });
});

describe('the README env table', () => {
  it('is generated from the schema', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(
      tableCells(envTableOf(readme)),
      'stale: run `pnpm --filter @runmat-telemetry/fake-sink docs:env`',
    ).toEqual(tableCells(renderEnvTable(sinkEnvSchema)));
  });
});
