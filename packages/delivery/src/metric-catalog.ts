import type { Registry } from 'prom-client';
import type { DeliverySource } from './metrics.js';
import { DeliveryOutcomes } from './outcomes.js';

/**
 * A Markdown table of every metric in `registry`: name, type, the labels its
 * current series carry, and its help text. Apps render it into their README
 * (the `metrics` marked section, with packages/service's `replaceMarkedSection`)
 * and a test fails when the README's copy is stale.
 */
export async function renderMetricCatalog(
  registry: Registry,
  include: (name: string) => boolean = () => true,
): Promise<string> {
  const metrics = (await registry.getMetricsAsJSON()).filter((m) => include(m.name));
  metrics.sort((a, b) => a.name.localeCompare(b.name));
  const rows = metrics.map((m) => {
    const labels = new Set<string>();
    for (const v of m.values) for (const k of Object.keys(v.labels ?? {})) labels.add(k);
    labels.delete('le');
    const labelText = labels.size > 0 ? [...labels].map((l) => `\`${l}\``).join(', ') : '';
    const help = m.help.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
    return `| \`${m.name}\` | ${m.type} | ${labelText} | ${help} |`;
  });
  return ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * A destination with one sample of each labelled series, so a rendered
 * catalog shows every `runmat_delivery_*` metric with its labels.
 */
export function sampleDeliverySource(name: string): DeliverySource {
  const outcomes = new DeliveryOutcomes(name);
  outcomes.request(200);
  outcomes.retry('503');
  return {
    outcomes,
    pending: () => 0,
    pendingBytes: () => 0,
    inFlightRequests: () => 0,
    capacity: { events: 0, bytes: 0 },
  };
}
