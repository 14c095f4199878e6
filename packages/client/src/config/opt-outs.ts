/** Environment as a plain lookup, so tests and hosts can pass their own. */
export type EnvLike = Readonly<Record<string, string | undefined>>;

const TRUTHY = new Set(['1', 'true', 'yes', 'on']);
const FALSY = new Set(['0', 'false', 'no', 'off']);

/** True for `1`, `true`, `yes`, `on` (any case, surrounding spaces ignored). */
export function isTruthyEnv(value: string | undefined): boolean {
  return value !== undefined && TRUTHY.has(value.trim().toLowerCase());
}

/** True for `0`, `false`, `no`, `off`. */
export function isFalsyEnv(value: string | undefined): boolean {
  return value !== undefined && FALSY.has(value.trim().toLowerCase());
}

/**
 * Opt-outs set in the environment, each as a sentence naming the variable.
 * Any one of them turns telemetry off whatever the config files or the host's
 * code say: an opt-out a project file could undo would not be one.
 */
export function envOptOuts(env: EnvLike): string[] {
  const reasons: string[] = [];
  if (isTruthyEnv(env.RUNMAT_NO_TELEMETRY)) reasons.push('RUNMAT_NO_TELEMETRY is set');
  if (isFalsyEnv(env.RUNMAT_TELEMETRY)) reasons.push('RUNMAT_TELEMETRY=0');
  if (isTruthyEnv(env.DO_NOT_TRACK)) reasons.push('DO_NOT_TRACK is set');
  return reasons;
}
