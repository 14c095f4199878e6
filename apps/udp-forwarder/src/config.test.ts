import { describe, expect, it } from 'vitest';
import { ConfigError, FORWARDER_SECRET_ENV, loadForwarderConfig } from './config.js';

const required = {
  TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:8080/v1/batch',
  TELEMETRY_INGESTION_KEY: 'k',
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
  });
});
