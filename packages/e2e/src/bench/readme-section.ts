/**
 * Regenerates the README's "Performance and reliability" section from the
 * last bench-results/report.json, between `<!-- perf:start -->` and
 * `<!-- perf:end -->`.
 *
 *   node dist/bench/readme-section.js [--readme <path>] [--report <path>]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/index.js';
import { type BenchReport, figureTable } from './report.js';

export const START_MARKER = '<!-- perf:start -->';
export const END_MARKER = '<!-- perf:end -->';

/** The section's body (without markers) for a report. */
export function renderReadmeSection(r: BenchReport): string {
  return [
    '',
    `_Generated from bench-results/report.json (${r.quick ? 'quick run' : 'full run'}, ${r.generatedAt.slice(0, 10)}, ${r.machine.cores} cores, Node ${r.machine.node}). ${r.summary.met} of ${r.summary.withTarget} targets met._`,
    '',
    'Ceiling and ratio: the same load against a bare Fastify app (HTTP) or a bare dgram socket (UDP) in the same run, so figures from different machines compare as ratios.',
    '',
    figureTable(r.figures, false),
    '',
    "**Reliability** (`pnpm test:faults`, `pnpm test:fuzz`; scenarios and known gaps in packages/e2e/RELIABILITY.md): PostHog failing with 500, 503, 429, 413, timeouts or dropped connections loses no event answered 2xx; in an outage longer than every buffer, events sent = events delivered + the losses the counters report, exactly; with the worker SIGKILLed and restarted under UDP load, every datagram sent from the kill on arrives once (only what the dead worker had acknowledged but not yet sent is lost), and on SIGTERM every accepted event reaches PostHog before it exits; a burst at 5x the forwarder's sustainable rate keeps its memory bounded and counts every drop; 10,000 fuzzed inputs per test run (100,000 on demand) cause no crash, no undocumented status and no field outside the allowlist at the sink.",
    '',
    '**Method**',
    '',
    ...r.method.map((m) => `- ${m}`),
    '',
  ].join('\n');
}

/** `readme` with the text between the markers replaced; throws if the markers are missing. */
export function replaceSection(readme: string, body: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) {
    throw new Error(`README has no ${START_MARKER} ... ${END_MARKER} markers`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n${body}\n${readme.slice(end)}`;
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  const readmePath = argValue('--readme') ?? join(REPO_ROOT, 'README.md');
  const reportPath = argValue('--report') ?? join(REPO_ROOT, 'bench-results/report.json');
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as BenchReport;
  const updated = replaceSection(readFileSync(readmePath, 'utf8'), renderReadmeSection(report));
  writeFileSync(readmePath, updated);
  console.log(`updated ${readmePath} from ${reportPath}`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    main();
  } catch (err) {
    console.error(`readme-section: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
