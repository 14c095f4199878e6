import { ROUTES } from '@runmat-telemetry/schema';
import type { FastifyInstance } from 'fastify';

/** Settings for the probe routes. */
export interface HealthRouteOptions {
  /** Why the worker should not get traffic right now, or null when ready. */
  notReadyReason: () => 'shutting_down' | 'queue_full' | 'memory_pressure' | null;
}

// Probes must answer even when the worker sheds load: that is when operators look.
// CORS preflights use it too (they carry no event; the POST after them is shed).
export const ignorePressure = { pressureHandler: () => undefined };

/**
 * `GET /healthz`, `GET /readyz` on the public port. `/metrics` is served by
 * the metrics listener (`metrics-app.ts`), never here.
 */
export function registerHealthRoutes(app: FastifyInstance, opts: HealthRouteOptions): void {
  app.get(ROUTES.healthz, { config: ignorePressure }, async () => ({ status: 'ok' }));

  app.get(ROUTES.readyz, { config: ignorePressure }, async (_request, reply) => {
    const reason = opts.notReadyReason();
    if (reason === null) return { status: 'ready' };
    reply.header('retry-after', '1');
    return reply.code(503).send({ status: 'not_ready', error: reason });
  });
}
