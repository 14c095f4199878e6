import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkerMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's prom-client registry and instruments. */
    metrics: WorkerMetrics;
  }
}

/** Options of {@link metricsPlugin}. */
export interface MetricsPluginOptions {
  metrics: WorkerMetrics;
  /** The metrics listener (`metrics-app.ts`), closed with the app. */
  metricsApp: FastifyInstance;
}

const plugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, { metrics, metricsApp }) => {
  app.decorate('metrics', metrics);
  // Registered first, so (onClose runs in reverse order of registration) it
  // closes last: the drain's final counts can still be scraped while it runs.
  app.addHook('onClose', async () => {
    await metricsApp.close();
  });
};

/** Decorates `app.metrics`; closes the metrics listener after everything else. */
export const metricsPlugin = fp(plugin, { name: 'worker-metrics', fastify: '5.x' });
