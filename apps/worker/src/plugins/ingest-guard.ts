import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { IngestionKeyVerifier } from '../auth/ingestion-key.js';
import type { WorkerConfig } from '../config.js';
import { createIngestGuard, type QueryKeyOptions } from '../routes/guard.js';

/** What one ingest scope is admitted by. */
export interface IngestScopeLimits {
  /** Requests per IP per `RATE_LIMIT_WINDOW_MS`; 0 disables the rate limit. */
  max: number;
  /** Queue room a request needs before its body is worth reading. */
  minRoom: number;
  /** Where a `?k=` key is accepted (the single-event routes only). */
  queryKey?: QueryKeyOptions;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Adds the rate limit, then the guard (closing, key, memory, queue room),
     * as `onRequest` hooks of `scope`: both run before the body is read.
     */
    guardIngestScope(scope: FastifyInstance, limits: IngestScopeLimits): void;
  }
}

/** Options of {@link ingestGuardPlugin}. */
export type IngestGuardOptions = Pick<WorkerConfig, 'ingestionKeys' | 'rateLimitWindowMs'>;

const plugin: FastifyPluginAsync<IngestGuardOptions> = async (app, opts) => {
  const { metrics, lifecycle, memory } = app;
  const { queue } = app.forwarding;
  const verifier = new IngestionKeyVerifier(opts.ingestionKeys);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      error: 'rate_limited',
    }),
  });
  // The rate-limit hook is added before the guard's, so a request is counted
  // (and cut off with 429) before its key is checked: guessing keys spends
  // the same budget as sending events.
  app.decorate('guardIngestScope', (scope: FastifyInstance, limits: IngestScopeLimits) => {
    if (limits.max > 0) {
      scope.addHook(
        'onRequest',
        scope.rateLimit({
          max: limits.max,
          timeWindow: opts.rateLimitWindowMs,
        }) as onRequestHookHandler,
      );
    }
    scope.addHook(
      'onRequest',
      createIngestGuard({
        verifier,
        metrics,
        isClosing: () => lifecycle.closing,
        lacksRoom: (n) => !queue.hasHeadroom(n),
        shedMemory: () => memory.shouldShed(),
        minRoom: limits.minRoom,
        queryKey: limits.queryKey,
      }),
    );
  });
};

/** Per-IP rate limits and the ingest guard, for the ingest route plugins to apply to their scope. */
export const ingestGuardPlugin = fp(plugin, {
  name: 'worker-ingest-guard',
  fastify: '5.x',
  dependencies: ['worker-metrics', 'worker-forwarding', 'worker-memory', 'worker-lifecycle'],
});
