import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** Shutdown state the guard and `/readyz` read on every request. */
export interface Lifecycle {
  /** True from `app.close()` on (preClose): new ingest requests get 503 `shutting_down`. */
  readonly closing: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    lifecycle: Lifecycle;
  }
}

/** Options of {@link lifecyclePlugin}. */
export interface LifecycleOptions {
  /** Budget for draining the forward queue, counted from `app.close()`. */
  shutdownTimeoutMs: number;
}

const plugin: FastifyPluginAsync<LifecycleOptions> = async (app, { shutdownTimeoutMs }) => {
  const state = { closing: false };
  let closeDeadline = 0;
  app.decorate('lifecycle', state as Lifecycle);

  app.addHook('preClose', (done) => {
    state.closing = true;
    closeDeadline = Date.now() + shutdownTimeoutMs;
    done();
  });
  // onClose hooks run in reverse order of registration, so this drain runs
  // before the plugins it depends on close theirs: the memory sampler, the
  // shared dedupe, then the metrics listener (so the drain's final counts
  // can still be scraped while it runs).
  app.addHook('onClose', async () => {
    const budget = Math.max(100, (closeDeadline || Date.now() + shutdownTimeoutMs) - Date.now());
    const lost = await app.forwarding.queue.close(budget);
    const total = Object.values(lost).reduce((a, b) => a + (b ?? 0), 0);
    if (total > 0) app.log.error({ lost }, 'accepted events lost at shutdown');
    else app.log.info('forward queues drained');
  });
};

/** Decorates `app.lifecycle`; drains the forward queue within the shutdown budget at close. */
export const lifecyclePlugin = fp(plugin, {
  name: 'worker-lifecycle',
  fastify: '5.x',
  dependencies: ['worker-forwarding', 'worker-memory', 'worker-metrics'],
});
