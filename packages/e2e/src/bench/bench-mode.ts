/**
 * Quick mode, for CI-style checks: `--quick` on the command line or
 * `BENCH_QUICK=1` in the environment (what `pnpm bench:quick` sets).
 */
export function isQuickMode(
  argv: readonly string[] = process.argv,
  env: Record<string, string | undefined> = process.env,
): boolean {
  const flag = env.BENCH_QUICK?.trim().toLowerCase();
  return argv.includes('--quick') || flag === '1' || flag === 'true';
}
