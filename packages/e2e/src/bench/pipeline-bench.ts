/**
 * `pnpm bench` ends here (turbo runs every package's bench first): the whole
 * pipeline under load as real processes, the same-run ceilings, every
 * package's bench-results gathered, and one report written to
 * <repo>/bench-results/report.json and report.md.
 *
 * `--quick` or BENCH_QUICK=1: smaller loads, for CI-style checks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/index.js';
import { isQuickMode } from './bench-mode.js';
import { gatherPackageResults } from './package-results.js';
import { FULL_PLAN, QUICK_PLAN, runPipelineLoad } from './pipeline-load.js';
import {
  type BenchReport,
  METHOD,
  machineInfo,
  renderReportMarkdown,
  summarize,
} from './report.js';

async function main(): Promise<void> {
  const started = performance.now();
  const quick = isQuickMode();
  console.log(`pipeline bench (${quick ? 'quick' : 'full'})`);

  let pipeline: BenchReport['pipeline'];
  let pipelineFigures: BenchReport['figures'] = [];
  try {
    const run = await runPipelineLoad(quick ? QUICK_PLAN : FULL_PLAN);
    pipeline = run.details;
    pipelineFigures = run.figures;
  } catch (err) {
    // A broken pipeline run still yields a report of the package figures, and a failing exit.
    pipeline = { error: (err as Error).stack ?? String(err) };
    process.exitCode = 1;
  }

  const packages = gatherPackageResults();
  const figures = [...pipelineFigures, ...packages.flatMap((p) => p.figures)];
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    quick,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    machine: machineInfo(),
    summary: summarize(figures),
    figures,
    checks: packages.flatMap((p) => p.checks),
    packages: packages.map(({ figures: _f, checks: _c, ...rest }) => rest),
    pipeline,
    method: METHOD,
  };

  const dir = join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderReportMarkdown(report);
  writeFileSync(join(dir, 'report.md'), markdown);
  console.log(markdown);
  console.log(`written to ${join(dir, 'report.json')} and report.md`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
