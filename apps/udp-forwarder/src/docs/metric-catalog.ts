/**
 * The forwarder's metric catalog, rendered from its registry into README.md
 * between `<!-- metrics:begin -->` and `<!-- metrics:end -->`.
 * `pnpm --filter @runmat-telemetry/udp-forwarder docs:metrics` rewrites it;
 * test/readme.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderMetricCatalog, sampleDeliverySource } from '@runmat-telemetry/delivery';
import { replaceMarkedSection } from '@runmat-telemetry/service';
import { ForwarderMetrics } from '../metrics.js';

export const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The catalog table (default process metrics left out). */
export async function forwarderMetricCatalog(): Promise<string> {
  const source = sampleDeliverySource('worker');
  const metrics = new ForwarderMetrics(() => source);
  metrics.stats.eventsRejected.invalid_value = 1;
  metrics.fieldFixes.add([{ field: 'os', reason: 'normalized' }]);
  return renderMetricCatalog(metrics.registry, (name) => name.startsWith('runmat_'));
}

/** README.md with the current catalog. */
export async function readmeWithCatalog(text = readFileSync(README, 'utf8')): Promise<string> {
  return replaceMarkedSection(text, 'metrics', await forwarderMetricCatalog());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, await readmeWithCatalog());
}
