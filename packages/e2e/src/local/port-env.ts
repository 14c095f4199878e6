/** One port the local pipeline binds, the variable that overrides it and its default. */
export interface PortSetting {
  /** What binds it, for messages (`worker`, `fake sink`...). */
  label: string;
  variable: string;
  port: number;
  protocol: 'tcp' | 'udp';
}

/** Raised for a port variable that is not an integer 0-65535; the message names it. */
export class PortEnvError extends Error {
  constructor(
    readonly variable: string,
    value: string,
  ) {
    super(`invalid ${variable}: expected an integer 0-65535, got ${JSON.stringify(value)}`);
    this.name = 'PortEnvError';
  }
}

/** Reads a port variable (0 means "any free port"), falling back to `fallback` when unset or empty. */
export function readPortEnv(
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
  fallback: number,
): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim();
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new PortEnvError(variable, raw);
  return Number(value);
}
