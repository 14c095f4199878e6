/**
 * The worker's metric catalog, rendered from its registry into README.md
 * between `<!-- metrics:begin -->` and `<!-- metrics:end -->`.
 * `pnpm --filter @runmat-telemetry/worker docs:metrics` rewrites it;
 * test/readme.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderMetricCatalog, sampleDeliverySource } from '@runmat-telemetry/delivery';
import { replaceMarkedSection } from '@runmat-telemetry/service';
import { WorkerMetrics } from '../metrics.js';

export const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The catalog table (default process metrics left out), with a sample series per label set. */
export async function workerMetricCatalog(): Promise<string> {
  const metrics = new WorkerMetrics();
  for (const name of ['posthog', 'ga4']) metrics.deliverySources.push(sampleDeliverySource(name));
  metrics.accepted.labels('single').inc(0);
  metrics.rejected.labels('invalid_value').inc(0);
  metrics.fieldFixes.add([{ field: 'os', reason: 'normalized' }]);
  metrics.queueDepth.labels('posthog').set(0);
  metrics.queueBytes.labels('posthog').set(0);
  metrics.queueCapacity.labels('posthog').set(0);
  metrics.requestDuration.labels('/ingest', '202').observe(0);
  metrics.dedupeRoundTrip.labels('ok').observe(0);
  metrics.dedupeKeys.labels('claimed').inc(0);
  metrics.dedupeFailOpen.labels('timeout').inc(0);
  metrics.dedupeFailOpenEvents.labels('timeout').inc(0);
  return renderMetricCatalog(metrics.registry, (name) => name.startsWith('runmat_'));
}

/** README.md with the current catalog. */
export async function readmeWithCatalog(text = readFileSync(README, 'utf8')): Promise<string> {
  return replaceMarkedSection(text, 'metrics', await workerMetricCatalog());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, await readmeWithCatalog());
}
