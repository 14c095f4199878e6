import underPressure from '@fastify/under-pressure';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkerConfig } from '../config.js';
import { RETRY_AFTER_SECONDS } from '../http-errors.js';

/** Options of {@link sheddingPlugin}. */
export type SheddingOptions = Pick<WorkerConfig, 'maxEventLoopDelayMs' | 'maxHeapUsedBytes'>;

// Event-loop delay and heap shedding (@fastify/under-pressure), off when both
// limits are 0. Probes and CORS preflights opt out per route (ignorePressure).
// Memory-budget shedding is the ingest guard's (memory plugin's lines), before
// the body is read.
const plugin: FastifyPluginAsync<SheddingOptions> = async (app, opts) => {
  if (opts.maxEventLoopDelayMs <= 0 && opts.maxHeapUsedBytes <= 0) return;
  const { metrics } = app;
  await app.register(underPressure, {
    maxEventLoopDelay: opts.maxEventLoopDelayMs,
    maxHeapUsedBytes: opts.maxHeapUsedBytes,
    retryAfter: RETRY_AFTER_SECONDS,
    // A non-null return value is what under-pressure sends as the body.
    pressureHandler: ((_request: FastifyRequest, reply: FastifyReply) => {
      metrics.rejected.labels('overloaded').inc();
      reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      return { error: 'overloaded' };
    }) as unknown as () => void,
  });
};

/** 503 `overloaded` (counted, with Retry-After) while the event loop or heap is past its limit. */
export const sheddingPlugin = fp(plugin, {
  name: 'worker-shedding',
  fastify: '5.x',
  dependencies: ['worker-metrics'],
});
