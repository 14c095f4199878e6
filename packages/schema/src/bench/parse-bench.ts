/**
 * parse + normalize throughput, single thread. Run with `pnpm bench` (or
 * `--quick`). Prints events/s per input shape and writes
 * bench-results/schema.json for the root report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from '../examples.js';
import { normalizeEvent } from '../normalize-event.js';
import { parseEvent, parseEventJson } from '../parse-event.js';

const TARGET_EVENTS_PER_S = 200_000;
const quick = process.argv.includes('--quick');
const seconds = quick ? 1 : 3;

const hostile = {
  ...LEGACY_FINISHED_EXAMPLE,
  source: 'A = rand(1000); B = A * secret;',
  payload: { ...LEGACY_FINISHED_EXAMPLE.payload, path: '/home/u/x.m', env: { HOME: '/home/u' } },
};
const shapes: Record<string, string[]> = {
  canonical_finished: [JSON.stringify(CANONICAL_FINISHED_EXAMPLE)],
  mix: [
    CANONICAL_FINISHED_EXAMPLE,
    CANONICAL_STARTED_EXAMPLE,
    LEGACY_FINISHED_EXAMPLE,
    INSTALL_COMPLETE_EXAMPLE,
    hostile,
  ].map((e) => JSON.stringify(e)),
};

// `parse` is measured on decoded input (what the worker gets from its JSON
// body parser); `json` adds JSON.parse of the serialized event (the forwarder's
// datagram path), whose cost is V8's, not ours.
function run(inputs: string[], fromJson: boolean): number {
  const decoded = inputs.map((s) => JSON.parse(s) as unknown);
  let sink = 0;
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < deadline) {
    // Batches of 1000 keep the clock reads off the measured path.
    for (let i = 0; i < 1000; i++) {
      const k = i % inputs.length;
      const r = fromJson ? parseEventJson(inputs[k]!) : parseEvent(decoded[k]);
      if (r.ok)
        sink +=
          normalizeEvent(r.event, { receivedAt: 1_779_000_000_000 }).timestamp + r.fixes.length;
    }
    n += 1000;
  }
  const rate = n / ((performance.now() - start) / 1000);
  if (sink < 0) console.log(sink);
  return rate;
}

run(shapes.mix!, true); // warm-up: let V8 optimize before measuring
const results = Object.entries(shapes).flatMap(([shape, inputs]) =>
  [false, true].map((fromJson) => ({
    shape: fromJson ? `${shape} (from JSON text)` : shape,
    eventsPerSecond: Math.round(run(inputs, fromJson)),
  })),
);
for (const r of results)
  console.log(`${r.shape.padEnd(34)} ${r.eventsPerSecond.toLocaleString('en-US')} events/s`);
const canonical = results.find((r) => r.shape === 'canonical_finished')!;
const pass = canonical.eventsPerSecond >= TARGET_EVENTS_PER_S;
console.log(
  `target: canonical_finished >= ${TARGET_EVENTS_PER_S.toLocaleString('en-US')} events/s: ${pass ? 'met' : 'MISSED'}`,
);
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  'bench-results/schema.json',
  `${JSON.stringify({ bench: 'schema', quick, results, figures: [{ name: 'parse+normalize canonical finished', value: canonical.eventsPerSecond, unit: 'events/s', target: `>= ${TARGET_EVENTS_PER_S}`, met: pass }] }, null, 2)}\n`,
);
