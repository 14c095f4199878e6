import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { registerHealthRoutes } from '../routes/health-routes.js';

const plugin: FastifyPluginAsync = async (app) => {
  const { lifecycle, memory } = app;
  const { queue } = app.forwarding;
  registerHealthRoutes(app, {
    notReadyReason: () =>
      lifecycle.closing
        ? 'shutting_down'
        : queue.isFull()
          ? 'queue_full'
          : memory.pressure() !== null
            ? 'memory_pressure'
            : null,
  });
};

/** `GET /healthz`, `GET /readyz` (not ready while closing, with a full queue or under memory pressure). */
export const probeRoutesPlugin = fp(plugin, {
  name: 'worker-probe-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['worker-forwarding', 'worker-memory', 'worker-lifecycle'],
});
