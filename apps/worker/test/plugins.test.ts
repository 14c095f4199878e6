import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from '../src/metrics.js';
import { buildMetricsApp } from '../src/metrics-app.js';
import { batchRoutesPlugin } from '../src/plugins/batch-routes.js';
import { metricsPlugin } from '../src/plugins/metrics.js';
import { probeRoutesPlugin } from '../src/plugins/probe-routes.js';
import { captureApp } from './helpers.js';

describe('worker plugins', () => {
  it('decorates the app with what buildApp returns', async () => {
    const w = captureApp();
    await w.app.ready();
    expect(w.app.metrics).toBe(w.metrics);
    expect(w.app.memory).toBe(w.memory);
    expect(w.app.forwarding.queue).toBe(w.queue);
    expect(w.app.forwarding.shared).toBe(w.shared);
    expect(w.app.lifecycle.closing).toBe(false);
    await w.app.close();
    expect(w.app.lifecycle.closing).toBe(true);
  });

  it('refuses a plugin registered without the plugins it depends on', async () => {
    const app = Fastify({ logger: false });
    app.register(probeRoutesPlugin);
    await expect(app.ready()).rejects.toMatchObject({
      code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED',
      message: expect.stringContaining('worker-forwarding'),
    });
  });

  it('names the missing one when only some are registered', async () => {
    const metrics = new WorkerMetrics();
    const metricsApp = buildMetricsApp(metrics, Fastify({ logger: false }).log);
    const app = Fastify({ logger: false });
    app.register(metricsPlugin, { metrics, metricsApp });
    app.register(batchRoutesPlugin, { batchRateLimitMax: 0, queueCapacity: 10, batchBodyLimit: 1 });
    await expect(app.ready()).rejects.toMatchObject({
      code: 'FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED',
      message: expect.stringContaining('worker-forwarding'),
    });
    await metricsApp.close();
  });
});
