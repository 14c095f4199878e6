import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { ga4Routes } from './ga4-routes.js';
import { inspectRoutes } from './inspect-routes.js';
import { posthogRoutes } from './posthog-routes.js';
import { SinkState } from './sink-state.js';

/** Options for `buildSinkApp`. */
export interface SinkAppOptions {
  /** Bound on stored events; the oldest are evicted beyond it. */
  maxEvents?: number | undefined;
  /** When set, the only PostHog project key accepted (others get 401). */
  apiKey?: string | undefined;
  /** When set, GA4 requests with another `api_secret` are answered 204 and discarded, as GA4 does. */
  gaApiSecret?: string | undefined;
  /** Fastify's logger option; off by default for library use. */
  logger?: FastifyServerOptions['logger'];
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** A stable error code: ours when we set one, never Fastify's internal FST_ names. */
function errorCode(status: number, code: string | undefined): string {
  if (status >= 500) return 'internal_error';
  if (code !== undefined && !code.startsWith('FST_')) return code;
  return STATUS_CODES[status] ?? 'bad_request';
}

/** Builds the sink's Fastify instance and its state; never listens. */
export function buildSinkApp(options: SinkAppOptions = {}): {
  app: FastifyInstance;
  state: SinkState;
} {
  const state = new SinkState({
    maxEvents: options.maxEvents,
    apiKey: options.apiKey,
    gaApiSecret: options.gaApiSecret,
  });
  // One log line per request would drown the `listening` line in a busy e2e run.
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) app.log.error({ err }, 'request failed');
    return reply.code(status).send({ error: errorCode(status, err.code) });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not_found' }));

  // A test sink must close at once, even with a delayed request in flight.
  app.addHook('preClose', async () => {
    app.server.closeAllConnections();
  });

  app.register(posthogRoutes, { state });
  app.register(ga4Routes, { state });
  app.register(inspectRoutes, { state });
  return { app, state };
}
