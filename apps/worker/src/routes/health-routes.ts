import { ROUTES } from '@runmat-telemetry/schema';
import { livenessReply, readinessReply } from '@runmat-telemetry/service';
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
  // The reply shapes are shared with the forwarder's health port.
  app.get(ROUTES.healthz, { config: ignorePressure }, async () => livenessReply().body);

  app.get(ROUTES.readyz, { config: ignorePressure }, async (_request, reply) => {
    const reason = opts.notReadyReason();
    const probe = readinessReply(reason === null, reason ?? undefined);
    return reply.code(probe.statusCode).headers(probe.headers).send(probe.body);
  });
}
