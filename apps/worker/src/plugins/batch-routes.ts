import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkerConfig } from '../config.js';
import { MAX_BATCH_ITEMS, registerBatchRoute } from '../routes/batch-route.js';

/** Options of {@link batchRoutesPlugin}. */
export type BatchRoutesOptions = Pick<
  WorkerConfig,
  'batchRateLimitMax' | 'queueCapacity' | 'batchBodyLimit'
>;

const plugin: FastifyPluginAsync<BatchRoutesOptions> = async (scope, opts) => {
  // The forwarder's route: all its traffic comes from a few addresses.
  // Refused before its body is read once less than a tenth of the queue
  // (at most one maximal batch) is free: the exact check is per batch.
  scope.guardIngestScope(scope, {
    max: opts.batchRateLimitMax,
    minRoom: Math.min(MAX_BATCH_ITEMS, Math.floor(opts.queueCapacity / 10)),
  });
  registerBatchRoute(scope, {
    intake: scope.forwarding.intake,
    metrics: scope.metrics,
    bodyLimit: opts.batchBodyLimit,
  });
};

/** `POST /v1/batch` in a scope of its own (its own rate limit and room check). */
export const batchRoutesPlugin = fp(plugin, {
  name: 'worker-batch-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['worker-metrics', 'worker-forwarding', 'worker-ingest-guard'],
});
