import { ROUTES } from '@runmat-telemetry/schema';
import type { FastifyInstance } from 'fastify';
import type { WorkerMetrics } from '../metrics.js';

/** `GET /metrics` (Prometheus text), registered on the metrics listener only. */
export function registerMetricsRoutes(
  app: FastifyInstance,
  opts: { metrics: WorkerMetrics },
): void {
  app.get(ROUTES.metrics, async (_request, reply) => {
    const text = await opts.metrics.render();
    return reply.type(opts.metrics.registry.contentType).send(text);
  });
}
