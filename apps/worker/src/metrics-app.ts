import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { WorkerMetrics } from './metrics.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';

/**
 * The metrics listener: `GET /metrics` and nothing else, on `METRICS_PORT`
 * (loopback by default). It is a Fastify instance of its own, so the public
 * app never routes `/metrics` (a 404 there) and no load-balancer or ingress
 * rule is needed to keep it private: on Cloud Run the Managed Prometheus
 * sidecar scrapes it over the instance's localhost. Never listens itself.
 */
export function buildMetricsApp(metrics: WorkerMetrics, log: FastifyBaseLogger): FastifyInstance {
  const app = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: true }),
  });
  registerMetricsRoutes(app, { metrics });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found' }));
  return app;
}
