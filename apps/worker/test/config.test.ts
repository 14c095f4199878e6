import { describe, expect, it } from 'vitest';
import { ConfigError, loadWorkerConfig, WORKER_ENV, WORKER_SECRET_ENV } from '../src/config.js';

const base = { INGESTION_KEY: 'k-123456789', POSTHOG_API_KEY: 'phc_x' };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadWorkerConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadWorkerConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadWorkerConfig(base);
    expect(c).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      ingestionKeys: ['k-123456789'],
      posthogHost: 'https://us.i.posthog.com',
      ga4: null,
      logLevel: 'info',
      forwardClientIp: false,
      trustProxy: false,
    });
  });

  it('puts metrics on their own loopback port and reads the project for log traces', () => {
    expect(loadWorkerConfig(base)).toMatchObject({
      metricsPort: 9464,
      metricsHost: '127.0.0.1',
      googleCloudProject: undefined,
    });
    expect(
      loadWorkerConfig({
        ...base,
        METRICS_PORT: '0',
        PORT: '0',
        METRICS_HOST: '0.0.0.0',
        GOOGLE_CLOUD_PROJECT: 'runmat-telemetry-prod',
      }),
    ).toMatchObject({
      metricsPort: 0,
      metricsHost: '0.0.0.0',
      googleCloudProject: 'runmat-telemetry-prod',
    });
    expect(configError({ ...base, METRICS_PORT: '8080' }).variable).toBe('METRICS_PORT');
    expect(configError({ ...base, PORT: '9000', METRICS_PORT: '9000' }).message).toBe(
      'invalid METRICS_PORT: 9000 is the public PORT too; metrics need a port of their own',
    );
    expect(configError({ ...base, METRICS_PORT: '70000' }).variable).toBe('METRICS_PORT');
    expect(configError({ ...base, GOOGLE_CLOUD_PROJECT: 'Not A Project' }).variable).toBe(
      'GOOGLE_CLOUD_PROJECT',
    );
  });

  it('names the missing or bad variable', () => {
    expect(configError({ POSTHOG_API_KEY: 'x' }).variable).toBe('INGESTION_KEY');
    expect(configError({ INGESTION_KEY: 'k-123456789' }).variable).toBe('POSTHOG_API_KEY');
    const port = configError({ ...base, PORT: 'abc' });
    expect(port.variable).toBe('PORT');
    expect(port.message).toBe('invalid PORT: expected an integer 0-65535, got "abc"');
    expect(configError({ ...base, PORT: '70000' }).variable).toBe('PORT');
    expect(configError({ ...base, POSTHOG_HOST: 'ftp://x' }).variable).toBe('POSTHOG_HOST');
    expect(configError({ ...base, LOG_LEVEL: 'loud' }).variable).toBe('LOG_LEVEL');
    expect(configError({ ...base, FORWARD_CLIENT_IP: 'maybe' }).variable).toBe('FORWARD_CLIENT_IP');
    expect(configError({ ...base, INGESTION_KEY: ' , ' }).variable).toBe('INGESTION_KEY');
    expect(configError({ ...base, RATE_LIMIT_MAX: '-1' }).variable).toBe('RATE_LIMIT_MAX');
  });

  it('reads the batch rate limit and the connection timeouts', () => {
    expect(loadWorkerConfig(base)).toMatchObject({
      rateLimitMax: 1200,
      batchRateLimitMax: 60_000,
      requestTimeoutMs: 10_000,
      keepAliveTimeoutMs: 65_000,
    });
    const c = loadWorkerConfig({
      ...base,
      BATCH_RATE_LIMIT_MAX: '0',
      REQUEST_TIMEOUT_MS: '0',
      KEEP_ALIVE_TIMEOUT_MS: '620000',
    });
    expect(c).toMatchObject({
      batchRateLimitMax: 0,
      requestTimeoutMs: 0,
      keepAliveTimeoutMs: 620_000,
    });
    expect(configError({ ...base, BATCH_RATE_LIMIT_MAX: 'x' }).variable).toBe(
      'BATCH_RATE_LIMIT_MAX',
    );
    expect(configError({ ...base, REQUEST_TIMEOUT_MS: '500' }).variable).toBe('REQUEST_TIMEOUT_MS');
    expect(configError({ ...base, KEEP_ALIVE_TIMEOUT_MS: '0' }).variable).toBe(
      'KEEP_ALIVE_TIMEOUT_MS',
    );
  });

  it('accepts port 0 and several comma-separated ingestion keys', () => {
    const c = loadWorkerConfig({ ...base, PORT: '0', INGESTION_KEY: 'new-key-1234, old-key-5678' });
    expect(c.port).toBe(0);
    expect(c.ingestionKeys).toEqual(['new-key-1234', 'old-key-5678']);
  });

  it('enables GA4 only when both id and secret are set', () => {
    const half = loadWorkerConfig({ ...base, GA_MEASUREMENT_ID: 'G-ABC123' });
    expect(half.ga4).toBeNull();
    expect(half.warnings).toHaveLength(1);
    const full = loadWorkerConfig({ ...base, GA_MEASUREMENT_ID: 'G-ABC123', GA_API_SECRET: 's' });
    expect(full.ga4).toEqual({
      measurementId: 'G-ABC123',
      apiSecret: 's',
      host: 'https://www.google-analytics.com',
    });
  });

  it('parses trust proxy forms', () => {
    expect(loadWorkerConfig({ ...base, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadWorkerConfig({ ...base, TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadWorkerConfig({ ...base, TRUST_PROXY: '10.0.0.0/8,::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
    expect(configError({ ...base, TRUST_PROXY: 'evil host' }).variable).toBe('TRUST_PROXY');
  });

  it('reads CORS_ORIGINS as exact origins, none by default', () => {
    expect(loadWorkerConfig(base).corsOrigins).toEqual([]);
    expect(loadWorkerConfig({ ...base, CORS_ORIGINS: '' }).corsOrigins).toEqual([]);
    const c = loadWorkerConfig({
      ...base,
      CORS_ORIGINS:
        ' https://runmat.com, http://localhost:5173,https://x-1.example.org:8443,https://runmat.com,',
    });
    expect(c.corsOrigins).toEqual([
      'https://runmat.com',
      'http://localhost:5173',
      'https://x-1.example.org:8443',
    ]);
  });

  it('refuses "*" and anything but an exact origin, naming CORS_ORIGINS', () => {
    const star = configError({ ...base, CORS_ORIGINS: '*' });
    expect(star.variable).toBe('CORS_ORIGINS');
    expect(star.message).toBe(
      'invalid CORS_ORIGINS: "*" is refused: list exact origins such as https://runmat.com, never a wildcard',
    );
    expect(configError({ ...base, CORS_ORIGINS: 'https://runmat.com,*' }).message).toContain(
      '"*" is refused',
    );
    for (const bad of [
      'https://*.runmat.com',
      'https://runmat.com/',
      'https://runmat.com/app',
      'https://runmat.com?x=1',
      'https://runmat.com#x',
      'runmat.com',
      'ftp://runmat.com',
      'null',
      'HTTPS://RunMat.com',
      'https://RunMat.com',
      'https://user@runmat.com',
      'https://runmat.com:',
      'https://runmat.com:0',
      'https://runmat.com:70000',
      'https://runmat.com:443',
      'http://localhost:80',
      'http://[::1]:5173',
    ]) {
      const err = configError({ ...base, CORS_ORIGINS: `https://ok.runmat.com,${bad}` });
      expect(err.variable, bad).toBe('CORS_ORIGINS');
      expect(err.message, bad).toMatch(/^invalid CORS_ORIGINS: "/);
      expect(err.message, bad).toContain(`"${bad}"`);
    }
  });

  it('lists the contract variables and secrets', () => {
    for (const name of ['PORT', 'HOST', 'INGESTION_KEY', 'POSTHOG_API_KEY', 'POSTHOG_HOST']) {
      expect(Object.values(WORKER_ENV)).toContain(name);
    }
    for (const name of [
      'GA_MEASUREMENT_ID',
      'GA_API_SECRET',
      'GA_HOST',
      'LOG_LEVEL',
      'CORS_ORIGINS',
    ]) {
      expect(Object.values(WORKER_ENV)).toContain(name);
    }
    expect(WORKER_SECRET_ENV).toEqual(['INGESTION_KEY', 'POSTHOG_API_KEY', 'GA_API_SECRET']);
  });
});
