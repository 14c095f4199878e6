import { readFileSync } from 'node:fs';
import { envTableOf, renderEnvTable, secretVariables, tableCells } from '@runmat-telemetry/service';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  FORWARDER_ENV,
  FORWARDER_SECRET_ENV,
  forwarderEnvSchema,
  loadForwarderConfig,
} from './config.js';

const required = {
  TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:8080/v1/batch',
  TELEMETRY_INGESTION_KEY: 'forwarder-key-1',
};

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadForwarderConfig({ ...required, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadForwarderConfig', () => {
  it('applies the defaults docs/architecture.md lists', () => {
    const config = loadForwarderConfig(required);
    expect(config).toMatchObject({
      udpPort: 7846,
      udpHost: '0.0.0.0',
      healthPort: 9000,
      concurrency: 8,
      logLevel: 'info',
      recvBufferBytes: 32 * 1024 * 1024,
      batchMaxEvents: 500,
      batchMaxWaitMs: 20,
    });
    expect(config.endpoint.href).toBe('http://127.0.0.1:8080/v1/batch');
  });

  it('accepts port 0 and IPv6 hosts', () => {
    const config = loadForwarderConfig({
      ...required,
      UDP_PORT: '0',
      HEALTH_PORT: '0',
      UDP_HOST: '::1',
    });
    expect(config).toMatchObject({ udpPort: 0, healthPort: 0, udpHost: '::1' });
  });

  it('names the bad variable in a one-line message', () => {
    expect(errorFor({ UDP_PORT: 'abc' }).message).toBe(
      'invalid UDP_PORT: expected an integer 0-65535, got "abc"',
    );
    expect(errorFor({ HEALTH_PORT: '70000' }).variable).toBe('HEALTH_PORT');
    expect(errorFor({ FORWARDER_CONCURRENCY: '0' }).variable).toBe('FORWARDER_CONCURRENCY');
    expect(errorFor({ BATCH_MAX_EVENTS: '1001' }).variable).toBe('BATCH_MAX_EVENTS');
    expect(errorFor({ UDP_HOST: 'udp.example' }).variable).toBe('UDP_HOST');
    expect(errorFor({ LOG_LEVEL: 'loud' }).variable).toBe('LOG_LEVEL');
    expect(errorFor({ TELEMETRY_HTTP_ENDPOINT: 'ftp://x/v1/batch' }).variable).toBe(
      'TELEMETRY_HTTP_ENDPOINT',
    );
    expect(errorFor({ TELEMETRY_INGESTION_KEY: '' }).variable).toBe('TELEMETRY_INGESTION_KEY');
    expect(errorFor({ RETRY_BASE_MS: '500', RETRY_MAX_MS: '100' }).variable).toBe('RETRY_MAX_MS');
  });

  it('never puts the key into an error message', () => {
    const secret = 'super-secret-key';
    const err = errorFor({ TELEMETRY_INGESTION_KEY: secret, UDP_PORT: 'x' });
    expect(err.message).not.toContain(secret);
    expect(FORWARDER_SECRET_ENV).toEqual(['TELEMETRY_INGESTION_KEY']);
    expect(secretVariables(forwarderEnvSchema)).toEqual([...FORWARDER_SECRET_ENV]);
  });

  it('reads LOG_LEVEL in any case, as the worker does', () => {
    expect(loadForwarderConfig({ ...required, LOG_LEVEL: 'INFO' }).logLevel).toBe('info');
    expect(loadForwarderConfig({ ...required, LOG_LEVEL: 'Debug' }).logLevel).toBe('debug');
  });

  it("checks the key by the worker's rule, never repeating it", () => {
    for (const bad of ['kq', 'short12', 'two-keys-1234,other-key-5678', 'with space 1234']) {
      const err = errorFor({ TELEMETRY_INGESTION_KEY: bad });
      expect(err.variable, bad).toBe('TELEMETRY_INGESTION_KEY');
      expect(err.code).toBe('invalid_config');
      expect(err.message, bad).toMatch(
        /^invalid TELEMETRY_INGESTION_KEY: expected one key of 8-256/,
      );
      expect(err.message, bad).not.toContain(bad);
    }
    expect(
      loadForwarderConfig({ ...required, TELEMETRY_INGESTION_KEY: '12345678' }).ingestionKey,
    ).toBe('12345678');
  });

  it('names every variable of the contract', () => {
    expect(FORWARDER_ENV).toMatchObject({
      udpPort: 'UDP_PORT',
      udpHost: 'UDP_HOST',
      healthPort: 'HEALTH_PORT',
      endpoint: 'TELEMETRY_HTTP_ENDPOINT',
      ingestionKey: 'TELEMETRY_INGESTION_KEY',
      concurrency: 'FORWARDER_CONCURRENCY',
      logLevel: 'LOG_LEVEL',
    });
  });
});

describe('the README env table', () => {
  it('is generated from the schema', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(
      tableCells(envTableOf(readme)),
      'stale: run `pnpm --filter @runmat-telemetry/udp-forwarder docs:env`',
    ).toEqual(tableCells(renderEnvTable(forwarderEnvSchema)));
  });
});
