import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { WorkerConfig } from '../config.js';
import { MemoryGuard, type MemorySampler } from '../memory/memory-guard.js';
import type { WorkerMetrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The memory budget's guard: pressure lines, last sample, peak RSS. */
    memory: MemoryGuard;
  }
}

const PRESSURE_VALUE = { shed: 2, not_ready: 1 } as const;

/**
 * The memory guard for `config.memory` and its gauges. Built before the app
 * boots (callers read it from `buildApp`'s result at once, and the metrics
 * listener may be scraped before the app is ready).
 */
export function createMemoryGuard(
  config: Pick<WorkerConfig, 'memory'>,
  metrics: WorkerMetrics,
  sampler?: MemorySampler,
): MemoryGuard {
  const memory = new MemoryGuard(config.memory, sampler);
  metrics.memoryBudget.set(config.memory.budgetBytes);
  metrics.onCollect(() => {
    metrics.memoryRss.set(memory.current.rss);
    const pressure = memory.pressure();
    metrics.memoryPressure.set(pressure === null ? 0 : PRESSURE_VALUE[pressure]);
  });
  return memory;
}

const plugin: FastifyPluginAsync<{ memory: MemoryGuard }> = async (app, { memory }) => {
  app.decorate('memory', memory);
  app.addHook('onClose', async () => memory.close());
};

/** Decorates `app.memory`; stops its sampler at close. */
export const memoryPlugin = fp(plugin, {
  name: 'worker-memory',
  fastify: '5.x',
  dependencies: ['worker-metrics'],
});
