import { readFileSync } from 'node:fs';
import { envTableOf, renderEnvTable, secretVariables, tableCells } from '@runmat-telemetry/service';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type ConfigSystem,
  loadWorkerConfig,
  WORKER_ENV,
  WORKER_SECRET_ENV,
  workerEnvSchema,
} from '../src/config.js';

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

  it('refuses a trust-proxy list Fastify would refuse, in one line naming TRUST_PROXY', () => {
    for (const bad of ['1.2.3.4/99', '10.0.0.0/8,300.1.1.1', '::1/129', 'proxy.internal']) {
      const err = configError({ ...base, TRUST_PROXY: bad });
      expect(err.variable, bad).toBe('TRUST_PROXY');
      expect(err.code).toBe('invalid_config');
      expect(err.message, bad).toMatch(/^invalid TRUST_PROXY: .+/);
      expect(err.message, bad).toContain(JSON.stringify(bad));
      expect(err.message.split('\n'), bad).toHaveLength(1);
      // What the worker would have hit in buildApp without the check.
      expect(() => Fastify({ trustProxy: bad.split(',') }), bad).toThrow();
    }
    // And what passes builds.
    const ok = loadWorkerConfig({ ...base, TRUST_PROXY: 'loopback,10.0.0.0/8' }).trustProxy;
    expect(() => Fastify({ trustProxy: ok as string[] })).not.toThrow();
  });

  it('reads LOG_LEVEL in any case', () => {
    expect(loadWorkerConfig({ ...base, LOG_LEVEL: 'INFO' }).logLevel).toBe('info');
    expect(loadWorkerConfig({ ...base, LOG_LEVEL: 'Trace' }).logLevel).toBe('trace');
  });

  it('refuses a short or spaced ingestion key without repeating it', () => {
    for (const bad of ['short12', 'good-key-1234,tiny', 'has a space 1234']) {
      const err = configError({ ...base, INGESTION_KEY: bad });
      expect(err.message, bad).toBe(
        'invalid INGESTION_KEY: each key must be 8-256 characters without spaces',
      );
    }
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
      'DEDUPE_REDIS_URL',
      'MEMORY_LIMIT_MIB',
    ]) {
      expect(Object.values(WORKER_ENV)).toContain(name);
    }
    // The Redis URL carries the AUTH password.
    expect(WORKER_SECRET_ENV).toEqual([
      'INGESTION_KEY',
      'POSTHOG_API_KEY',
      'GA_API_SECRET',
      'DEDUPE_REDIS_URL',
    ]);
    expect(secretVariables(workerEnvSchema)).toEqual([...WORKER_SECRET_ENV]);
  });
});

describe('the README env table', () => {
  it('is generated from the schema', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(
      tableCells(envTableOf(readme)),
      'stale: run `pnpm --filter @runmat-telemetry/worker docs:env`',
    ).toEqual(tableCells(renderEnvTable(workerEnvSchema)));
  });
});

const MIB = 1024 * 1024;
/** A machine with 8 GiB of RAM whose files are `files` (cgroup limits, a CA). */
const machine = (files: Record<string, string> = {}): ConfigSystem => ({
  readText: (path) => files[path],
  totalMemBytes: 8 * 1024 * MIB,
});

describe('the memory budget', () => {
  it('comes from MEMORY_LIMIT_MIB first, then cgroup v2, then v1, else 512 MiB', () => {
    const v2 = { '/sys/fs/cgroup/memory.max': `${1024 * MIB}\n` };
    const v1 = { '/sys/fs/cgroup/memory/memory.limit_in_bytes': `${768 * MIB}\n` };
    expect(
      loadWorkerConfig({ ...base, MEMORY_LIMIT_MIB: '256' }, machine(v2)).memory,
    ).toMatchObject({ budgetBytes: 256 * MIB, source: 'MEMORY_LIMIT_MIB' });
    expect(loadWorkerConfig(base, machine({ ...v2, ...v1 })).memory).toMatchObject({
      budgetBytes: 1024 * MIB,
      source: 'cgroup v2',
    });
    expect(loadWorkerConfig(base, machine(v1)).memory).toMatchObject({
      budgetBytes: 768 * MIB,
      source: 'cgroup v1',
    });
    // "max" (v2) and v1's page-rounded 2^63-1 both mean no limit.
    const none = machine({
      '/sys/fs/cgroup/memory.max': 'max\n',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    });
    expect(loadWorkerConfig(base, none).memory).toMatchObject({
      budgetBytes: 512 * MIB,
      source: 'default',
    });
    expect(loadWorkerConfig(base, machine()).memory.source).toBe('default');
  });

  it('sizes the queues in bytes, the dedupe window and the heap from the budget', () => {
    const c = loadWorkerConfig({ ...base, MEMORY_LIMIT_MIB: '512' }, machine());
    expect(c.memory).toMatchObject({
      oldSpaceMiB: 256,
      notReadyRssBytes: Math.floor(512 * MIB * 0.6),
      shedRssBytes: Math.floor(512 * MIB * 0.7),
    });
    // Each queue gets 12% of what the worker's idle 96 MiB leaves.
    expect(c.queueMaxBytes).toBe(Math.floor((512 - 96) * MIB * 0.12));
    expect(c.dedupeMaxEntries).toBe(Math.floor((512 * MIB * 0.02) / 32));
    const twice = loadWorkerConfig({ ...base, MEMORY_LIMIT_MIB: '1024' }, machine());
    expect(twice.queueMaxBytes).toBe(Math.floor((1024 - 96) * MIB * 0.12));
    expect(twice.memory.oldSpaceMiB).toBe(512);
    expect(twice.memory.maxSemiSpaceMiB).toBe(32);
    expect(loadWorkerConfig({ ...base, MEMORY_LIMIT_MIB: '256' }, machine()).memory).toMatchObject({
      oldSpaceMiB: 128,
      maxSemiSpaceMiB: 16,
    });
    // Explicit settings win over the budget's.
    const set = loadWorkerConfig(
      { ...base, MEMORY_LIMIT_MIB: '512', QUEUE_MAX_BYTES: '2097152', DEDUPE_MAX_ENTRIES: '1000' },
      machine(),
    );
    expect(set.queueMaxBytes).toBe(2 * MIB);
    expect(set.dedupeMaxEntries).toBe(1000);
  });

  it('refuses a budget Node cannot run in, naming MEMORY_LIMIT_MIB', () => {
    const err = configError({ ...base, MEMORY_LIMIT_MIB: '64' });
    expect(err.variable).toBe('MEMORY_LIMIT_MIB');
    expect(err.message).toBe('invalid MEMORY_LIMIT_MIB: expected an integer 128-1048576, got "64"');
    expect(configError({ ...base, MEMORY_LIMIT_MIB: '1Gi' }).variable).toBe('MEMORY_LIMIT_MIB');
    expect(configError({ ...base, QUEUE_MAX_BYTES: '10' }).variable).toBe('QUEUE_MAX_BYTES');
  });
});

describe('shared dedupe settings', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('is off without DEDUPE_REDIS_URL, and on with the documented defaults with it', () => {
    expect(loadWorkerConfig(base).sharedDedupe).toBeNull();
    expect(
      loadWorkerConfig({ ...base, DEDUPE_REDIS_URL: 'redis://:pw@10.0.0.3:6379' }).sharedDedupe,
    ).toEqual({
      url: 'redis://:pw@10.0.0.3:6379',
      ca: undefined,
      timeoutMs: 50,
      breakerFailures: 5,
      breakerCooldownMs: 1000,
      prefix: 'runmat:dedupe:',
    });
  });

  it('takes the CA as PEM or as a file path, for rediss:// only', () => {
    const url = 'rediss://:pw@10.0.0.3:6378';
    expect(
      loadWorkerConfig({ ...base, DEDUPE_REDIS_URL: url, DEDUPE_REDIS_CA: PEM }).sharedDedupe?.ca,
    ).toBe(PEM.trim());
    const fromFile = loadWorkerConfig(
      { ...base, DEDUPE_REDIS_URL: url, DEDUPE_REDIS_CA: '/etc/redis-ca.pem' },
      machine({ '/etc/redis-ca.pem': PEM }),
    );
    expect(fromFile.sharedDedupe?.ca).toBe(PEM);
    const missing = (() => {
      try {
        loadWorkerConfig(
          { ...base, DEDUPE_REDIS_URL: url, DEDUPE_REDIS_CA: '/nope.pem' },
          machine(),
        );
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(missing?.variable).toBe('DEDUPE_REDIS_CA');
    expect(
      configError({ ...base, DEDUPE_REDIS_URL: 'redis://10.0.0.3', DEDUPE_REDIS_CA: PEM }).variable,
    ).toBe('DEDUPE_REDIS_CA');
    expect(configError({ ...base, DEDUPE_REDIS_CA: PEM }).variable).toBe('DEDUPE_REDIS_CA');
  });

  it('refuses other URLs without repeating them (they may hold a password)', () => {
    for (const bad of ['http://:secretpw@127.0.0.1:1', 'secretpw', 'redis://']) {
      const err = configError({ ...base, DEDUPE_REDIS_URL: bad });
      expect(err.variable).toBe('DEDUPE_REDIS_URL');
      expect(err.message).not.toContain('secretpw');
    }
    expect(
      configError({ ...base, DEDUPE_REDIS_URL: 'redis://h', DEDUPE_REDIS_TIMEOUT_MS: '0' })
        .variable,
    ).toBe('DEDUPE_REDIS_TIMEOUT_MS');
    expect(
      configError({ ...base, DEDUPE_REDIS_URL: 'redis://h', DEDUPE_REDIS_PREFIX: 'a b' }).variable,
    ).toBe('DEDUPE_REDIS_PREFIX');
  });

  it('is not used when DEDUPE_WINDOW_MS=0 turns dedupe off, and says so', () => {
    const c = loadWorkerConfig({ ...base, DEDUPE_REDIS_URL: 'redis://h', DEDUPE_WINDOW_MS: '0' });
    expect(c.sharedDedupe).toBeNull();
    expect(c.warnings.join(' ')).toContain('DEDUPE_REDIS_URL is not used');
  });
});
