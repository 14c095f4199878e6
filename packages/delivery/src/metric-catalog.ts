import type { Registry } from 'prom-client';
import type { DeliverySource } from './metrics.js';
import { DeliveryOutcomes } from './outcomes.js';

/**
 * A Markdown table of every metric in `registry`: name, type, the labels its
 * current series carry, and its help text. Apps render it into their README
 * (between `<!-- metrics:begin -->` and `<!-- metrics:end -->`) and a test
 * fails when the README's copy is stale.
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
 * `text` with what lies between `<!-- <name>:begin -->` and `<!-- <name>:end -->`
 * replaced by `content`; throws when the markers are missing.
 */
export function replaceBetweenMarkers(text: string, name: string, content: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`markers ${begin} … ${end} not found`);
  return `${text.slice(0, a + begin.length)}\n${content}\n${text.slice(b)}`;
}

/** What lies between a README's `<!-- <name>:begin -->` and `<!-- <name>:end -->`. */
export function betweenMarkers(text: string, name: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const a = text.indexOf(begin);
  const b = text.indexOf(`<!-- ${name}:end -->`);
  if (a < 0 || b < a) throw new Error(`markers ${begin} … not found`);
  return text.slice(a + begin.length, b);
}

/**
 * A Markdown table as rows of trimmed cells, so a formatter's column padding
 * does not count when a generated table is compared with a README's copy.
 */
export function markdownTableCells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((row) => row.split(/(?<!\\)\|/).map((c) => c.trim().replace(/^-{3,}$/, '---')));
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
