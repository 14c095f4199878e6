import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { AppDeps } from '../app.js';
import type { WorkerConfig } from '../config.js';
import { DedupeWindow } from '../dedupe/dedupe-window.js';
import { RedisDedupe, type SharedDedupe } from '../dedupe/shared-dedupe.js';
import { type Forwarder, ForwardQueue } from '../forward/forward-queue.js';
import { Ga4Forwarder } from '../forward/ga4-forwarder.js';
import { PostHogForwarder } from '../forward/posthog-forwarder.js';
import { EventIntake } from '../ingest/event-intake.js';
import type { WorkerMetrics } from '../metrics.js';

/** What every ingest route hands its events to, and what shutdown drains. */
export interface Forwarding {
  readonly forwarders: readonly Forwarder[];
  readonly queue: ForwardQueue;
  /** Dedupe across instances, or null (the local window alone). */
  readonly shared: SharedDedupe | null;
  readonly intake: EventIntake;
}

declare module 'fastify' {
  interface FastifyInstance {
    forwarding: Forwarding;
  }
}

function defaultForwarders(config: WorkerConfig) {
  return (log: FastifyBaseLogger, metrics: WorkerMetrics): Forwarder[] => {
    const list: Forwarder[] = [
      new PostHogForwarder({
        apiKey: config.posthogApiKey,
        host: config.posthogHost,
        batchSize: config.posthogBatchSize,
        flushIntervalMs: config.posthogFlushIntervalMs,
        timeoutMs: config.posthogTimeoutMs,
        retries: config.posthogRetries,
        retryDelayMs: config.posthogRetryDelayMs,
        gzip: config.posthogGzip,
        concurrency: config.posthogConcurrency,
        metrics,
        log,
      }),
    ];
    if (config.ga4) {
      list.push(
        new Ga4Forwarder({
          ...config.ga4,
          flushIntervalMs: config.ga4FlushIntervalMs,
          timeoutMs: config.ga4TimeoutMs,
          retries: config.ga4Retries,
          retryDelayMs: config.ga4RetryDelayMs,
          concurrency: config.ga4Concurrency,
          metrics,
          log,
        }),
      );
    }
    return list;
  };
}

/**
 * Forwarders (from config, or `deps.forwarders`), the bounded queue in front
 * of them, the shared dedupe and the intake the routes feed. Built before the
 * app boots: `buildApp` returns the queue and the shared dedupe to its caller
 * at once, and the queue gauges must be there for the first scrape.
 */
export function createForwarding(
  config: WorkerConfig,
  deps: Pick<AppDeps, 'forwarders' | 'sharedDedupe' | 'now'>,
  log: FastifyBaseLogger,
  metrics: WorkerMetrics,
): Forwarding {
  const forwarders = (deps.forwarders ?? defaultForwarders(config))(
    log.child({ component: 'forward' }),
    metrics,
  );
  const queue = new ForwardQueue(forwarders, config.queueCapacity, config.queueMaxBytes);
  const dedupeLog = log.child({ component: 'dedupe' });
  const shared: SharedDedupe | null = deps.sharedDedupe
    ? deps.sharedDedupe(dedupeLog, metrics)
    : config.sharedDedupe === null
      ? null
      : new RedisDedupe({
          ...config.sharedDedupe,
          ttlMs: config.dedupeWindowMs,
          metrics,
          log: dedupeLog,
        });
  if (shared === null) metrics.dropSharedDedupeMetrics();
  const intake = new EventIntake({
    queue,
    dedupe: new DedupeWindow(config.dedupeWindowMs, config.dedupeMaxEntries),
    shared,
    metrics,
    forwardClientIp: config.forwardClientIp,
    now: deps.now ?? Date.now,
  });
  metrics.onCollect(() => {
    for (const f of forwarders) {
      metrics.queueDepth.labels(f.destination).set(f.pending());
      metrics.queueCapacity.labels(f.destination).set(queue.capacity);
      if (f.pendingBytes) metrics.queueBytes.labels(f.destination).set(f.pendingBytes());
    }
  });
  return { forwarders, queue, shared, intake };
}

const plugin: FastifyPluginAsync<{ forwarding: Forwarding }> = async (app, { forwarding }) => {
  app.decorate('forwarding', forwarding);
  // Runs after the lifecycle plugin's drain (onClose hooks run in reverse
  // order of registration, and that plugin depends on this one).
  app.addHook('onClose', async () => {
    await forwarding.shared?.close();
  });
};

/** Decorates `app.forwarding`; closes the shared dedupe once the queue has drained. */
export const forwardingPlugin = fp(plugin, {
  name: 'worker-forwarding',
  fastify: '5.x',
  dependencies: ['worker-metrics'],
});
