import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** Log levels at which the per-request `info` line is not written (so not built either). */
const QUIETER_THAN_INFO = new Set(['warn', 'error', 'fatal', 'silent']);

// Fastify's own request logging is off (logController in app.ts): this one
// line per response carries the route pattern, never the URL and its query.
const plugin: FastifyPluginAsync = async (app) => {
  const { metrics } = app;
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requestDuration
      .labels(route, String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
    if (QUIETER_THAN_INFO.has(request.log.level)) {
      done();
      return;
    }
    request.log.info(
      {
        method: request.method,
        route,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 100) / 100,
      },
      'request',
    );
    done();
  });
};

/** One `request` log line and one request-duration observation per response. */
export const requestLogPlugin = fp(plugin, {
  name: 'worker-request-log',
  fastify: '5.x',
  dependencies: ['worker-metrics'],
});
