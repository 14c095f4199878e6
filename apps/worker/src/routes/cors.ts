import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { ignorePressure } from './health-routes.js';

/** How long a browser may cache a preflight answer (seconds). */
export const CORS_MAX_AGE_SECONDS = 600;
/** The only method a browser may use cross-origin. */
export const CORS_ALLOWED_METHODS = 'POST';
/** Request headers a browser may send cross-origin. */
export const CORS_ALLOWED_HEADERS = `content-type, ${INGESTION_KEY_HEADER}`;

/** Settings for {@link registerCors}. */
export interface CorsOptions {
  /** Exact allowed origins (CORS_ORIGINS); never empty when registered. */
  origins: ReadonlySet<string>;
  /** Paths that get a preflight route (`/ingest`, `/v1/t`). */
  paths: readonly string[];
}

/** Adds `Origin` to the response's `Vary` header, keeping what is there. */
function varyOnOrigin(reply: FastifyReply): void {
  const current = reply.getHeader('vary');
  if (current === undefined) {
    reply.header('vary', 'Origin');
    return;
  }
  const list = String(current);
  if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(list)) reply.header('vary', `${list}, Origin`);
}

/**
 * CORS for the single-event routes, registered in the encapsulated scope
 * that holds them (so `/v1/batch`, the probes and `/metrics` never get CORS
 * headers, and `OPTIONS` on any other path stays a 404).
 *
 * - Every response of a route in the scope (202, and errors such as 401,
 *   413, 429 or 503, so a page can read why it was refused) carries
 *   `Vary: Origin`, and `Access-Control-Allow-Origin: <origin>` when the
 *   request's `Origin` is listed. Never `*`, never credentials.
 * - `OPTIONS /ingest` and `OPTIONS /v1/t` answer 204 themselves: with the
 *   allow headers for a listed origin, with none for any other (the browser
 *   then blocks the request). The preflight routes sit outside the rate
 *   limit, the key check and load shedding, and are never counted as
 *   rejected: a preflight costs a header write and carries no event.
 *
 * Hand-written rather than @fastify/cors: that plugin's preflight route is
 * `OPTIONS *`, and routes are global in Fastify's router even when the plugin
 * is registered in an encapsulated scope, so it answers preflights for every
 * path (`/v1/batch` and `/metrics` included) with the allow headers.
 */
export function registerCors(scope: FastifyInstance, opts: CorsOptions): void {
  const { origins } = opts;
  const allowed = (origin: string | undefined): origin is string =>
    origin !== undefined && origins.has(origin);

  scope.addHook('onSend', (request, reply, payload, done) => {
    varyOnOrigin(reply);
    const origin = request.headers.origin;
    if (allowed(origin)) reply.header('access-control-allow-origin', origin);
    done(null, payload);
  });

  for (const path of opts.paths) {
    scope.options(path, { config: ignorePressure }, (request, reply) => {
      if (allowed(request.headers.origin)) {
        reply
          .header('access-control-allow-methods', CORS_ALLOWED_METHODS)
          .header('access-control-allow-headers', CORS_ALLOWED_HEADERS)
          .header('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
      }
      // Safari waits for a body on a 204 without an explicit zero length.
      reply.code(204).header('content-length', '0').send();
    });
  }
}
