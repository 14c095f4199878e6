import { ROUTES } from '@runmat-telemetry/schema';
import { errorCodes, type FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkerConfig } from '../config.js';
import { registerCors } from '../routes/cors.js';
import type { QueryKeyOptions } from '../routes/guard.js';
import { registerIngestRoutes } from '../routes/ingest-routes.js';

/** Options of {@link singleEventRoutesPlugin}. */
export type SingleEventRoutesOptions = Pick<
  WorkerConfig,
  'corsOrigins' | 'rateLimitMax' | 'singleBodyLimit' | 'forwardClientIp'
>;

const plugin: FastifyPluginAsync<SingleEventRoutesOptions> = async (single, opts) => {
  const { intake } = single.forwarding;
  const corsOrigins: ReadonlySet<string> = new Set(opts.corsOrigins);
  // Single-event requests whose key came as `?k=` (beacons), set by the guard.
  const beacons: QueryKeyOptions = { origins: corsOrigins, authenticated: new WeakSet() };
  // CORS (CORS_ORIGINS) covers this scope only: its preflight routes sit
  // here, outside the rate limit and the guard of the POST routes below.
  if (corsOrigins.size > 0) {
    registerCors(single, { origins: corsOrigins, paths: [ROUTES.ingest, ROUTES.ingestV1] });
  }
  single.register(async (scope) => {
    scope.guardIngestScope(scope, { max: opts.rateLimitMax, minRoom: 1, queryKey: beacons });
    // navigator.sendBeacon sends a string as text/plain;charset=UTF-8 and
    // cannot set headers: a request whose key came as `?k=` may send its
    // JSON as text/plain (same size limit, same 400 codes); any other
    // text/plain request is refused 415 as before.
    const jsonParser = scope.jsonBodyParser;
    scope.addContentTypeParser('text/plain', { parseAs: 'string' }, (request, body, done) => {
      if (!beacons.authenticated.has(request)) {
        done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(), undefined);
        return;
      }
      jsonParser(request, body as string, done);
    });
    registerIngestRoutes(scope, {
      intake,
      bodyLimit: opts.singleBodyLimit,
      forwardClientIp: opts.forwardClientIp,
    });
  });
};

/**
 * `POST /ingest`, `POST /v1/t` (one event each; beacons' `?k=` key and
 * text/plain body) and their CORS preflights, in a scope of their own.
 */
export const singleEventRoutesPlugin = fp(plugin, {
  name: 'worker-single-event-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['worker-forwarding', 'worker-body-parsing', 'worker-ingest-guard'],
});
