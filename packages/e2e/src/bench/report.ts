import { cpus } from 'node:os';
import type { Figure } from './figure.js';
import type { Check, PackageResult } from './package-results.js';
import type { LoadDetails } from './pipeline-load.js';

/** The one report `pnpm bench` writes to bench-results/report.json. */
export interface BenchReport {
  generatedAt: string;
  quick: boolean;
  durationSeconds: number;
  machine: { cores: number; cpu: string; node: string; platform: string };
  summary: { figures: number; withTarget: number; met: number; notMet: number };
  figures: Figure[];
  checks: Check[];
  packages: Omit<PackageResult, 'figures' | 'checks'>[];
  pipeline: LoadDetails | { error: string };
  method: string[];
}

/** How the figures were produced, for the report and the README. */
export const METHOD = [
  'Every package bench runs first (`turbo run bench --concurrency=1`, each writes packages/<name>/bench-results/*.json); the pipeline bench runs last and gathers them.',
  'Whole pipeline: fake sink, worker and UDP forwarder started as real processes from their dist/server.js on 127.0.0.1 with ephemeral ports; GA4 and PostHog both pointed at the sink.',
  'HTTP: canonical events POSTed to /v1/t with 16 requests in flight (undici keep-alive); counted as accepted (202) and as stored by the sink.',
  'UDP: datagrams paced at fixed rates for a fixed time, counted at the sink; kernel socket drops read from /proc/net/udp.',
  'Ceilings measured in the same run by the same load loops: a bare Fastify app answering 202 to the same POST, and a bare dgram socket that only counts datagrams. Ratio = value / ceiling, comparable across machines.',
  'Client: the real `runmat-telemetry emit` CLI pointed at the pipeline, timed from process start until its events are at the sink.',
  'Memory: peak VmRSS of the worker and forwarder from /proc, sampled every 50 ms.',
  'Rerun: `pnpm bench` (full) or `pnpm bench:quick` / BENCH_QUICK=1 (under 2 minutes); results in bench-results/report.{json,md}.',
];

export function machineInfo(): BenchReport['machine'] {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function summarize(figures: readonly Figure[]): BenchReport['summary'] {
  const withTarget = figures.filter((f) => f.met !== undefined);
  return {
    figures: figures.length,
    withTarget: withTarget.length,
    met: withTarget.filter((f) => f.met).length,
    notMet: withTarget.filter((f) => f.met === false).length,
  };
}

const num = (n: number | undefined): string => {
  if (n === undefined) return '–';
  if (!Number.isFinite(n)) return 'never';
  return Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : String(n);
};

/** `>= 1,500 req/s` or `–`. */
export function targetText(f: Figure): string {
  if (f.target === undefined) return '–';
  return `${f.direction === 'lower' ? '≤' : '≥'} ${num(f.target)}`;
}

const verdict = (met: boolean | undefined) => (met === undefined ? '–' : met ? 'yes' : '**no**');
const cell = (s: string) => s.replace(/\|/g, '\\|');

/** Figures as a markdown table: value, target, ceiling, ratio, met. */
export function figureTable(figures: readonly Figure[], withMethod: boolean): string {
  const head = withMethod
    ? '| Source | Figure | Value | Target | Ceiling | Ratio | Met | Method |\n|---|---|---:|---:|---:|---:|:-:|---|'
    : '| Source | Figure | Value | Target | Ceiling | Ratio | Met |\n|---|---|---:|---:|---:|---:|:-:|';
  const rows = figures.map((f) => {
    const cols = [
      f.source,
      cell(f.name),
      `${num(f.value)} ${f.unit}`.trim(),
      targetText(f),
      f.ceiling === undefined ? '–' : num(f.ceiling),
      f.ratio === undefined ? '–' : String(f.ratio),
      verdict(f.met),
    ];
    if (withMethod) cols.push(cell(f.method));
    return `| ${cols.join(' | ')} |`;
  });
  return [head, ...rows].join('\n');
}

/** The full markdown report. */
export function renderReportMarkdown(r: BenchReport): string {
  const lines: string[] = [
    `# RunMat telemetry benchmark report${r.quick ? ' (quick)' : ''}`,
    '',
    `Generated ${r.generatedAt} in ${r.durationSeconds} s on ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.machine.platform}.`,
    '',
    `**${r.summary.met} of ${r.summary.withTarget} figures with a target met** (${r.summary.notMet} not met; ${r.summary.figures} figures in all).`,
    '',
    '## Figures',
    '',
    figureTable(r.figures, true),
    '',
  ];
  if (r.checks.length > 0) {
    lines.push('## Package checks (pass/fail, no value/target pair)', '');
    for (const c of r.checks)
      lines.push(`- ${c.source}: ${c.name}: ${c.met ? 'pass' : '**fail**'}`);
    lines.push('');
  }
  const rawOnly = r.packages.filter((p) => p.raw.length > 0 || p.error);
  if (rawOnly.length > 0) {
    lines.push('## Packages without value/target figures', '');
    for (const p of rawOnly) {
      lines.push(`### ${p.source} (${p.file})`, '');
      if (p.error) lines.push(`Could not read: ${p.error}`, '');
      if (p.raw.length > 0) {
        lines.push('| Field | Value |', '|---|---:|');
        for (const x of p.raw) lines.push(`| ${cell(x.name)} | ${num(x.value)} |`);
        lines.push('');
      }
    }
  }
  if ('error' in r.pipeline)
    lines.push('## Pipeline run failed', '', `\`${r.pipeline.error}\``, '');
  lines.push('## Method', '', ...r.method.map((m) => `- ${m}`), '');
  return lines.join('\n');
}
