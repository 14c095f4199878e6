/**
 * The forwarder's metric catalog, rendered from its registry into README.md
 * between `<!-- metrics:begin -->` and `<!-- metrics:end -->`.
 * `pnpm --filter @runmat-telemetry/udp-forwarder docs:metrics` rewrites it;
 * test/readme.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DeliveryEngine,
  RetryPolicy,
  renderMetricCatalog,
  replaceBetweenMarkers,
} from '@runmat-telemetry/delivery';
import { ForwarderMetrics } from '../metrics.js';

export const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The catalog table (default process metrics left out). */
export async function forwarderMetricCatalog(): Promise<string> {
  const engine = new DeliveryEngine(
    { name: 'worker', send: async () => ({ status: 200, verdict: { kind: 'delivered' } }) },
    {
      maxEvents: 1,
      maxBytes: 1,
      batchMaxEvents: 1,
      batchMaxBytes: 1,
      batchMaxWaitMs: 1,
      concurrency: 1,
      retry: new RetryPolicy({ baseMs: 1, maxMs: 1, maxElapsedMs: 1 }),
    },
  );
  engine.outcomes.request(200);
  engine.outcomes.retry('503');
  const metrics = new ForwarderMetrics(() => engine);
  metrics.stats.eventsRejected.invalid_value = 1;
  metrics.fieldFixes.add([{ field: 'os', reason: 'normalized' }]);
  return renderMetricCatalog(metrics.registry, (name) => name.startsWith('runmat_'));
}

/** README.md with the current catalog. */
export async function readmeWithCatalog(text = readFileSync(README, 'utf8')): Promise<string> {
  return replaceBetweenMarkers(text, 'metrics', await forwarderMetricCatalog());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, await readmeWithCatalog());
}
