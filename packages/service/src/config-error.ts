/**
 * A missing or malformed environment variable. `variable` names it and
 * `message` is one line a process prints before it exits 1:
 * `invalid TRUST_PROXY: ...` or `missing INGESTION_KEY: it is required`.
 */
export class ConfigError extends Error {
  readonly code = 'invalid_config';

  constructor(
    readonly variable: string,
    /** What is wrong, without the variable's name (the message adds it). */
    detail: string,
    options?: { cause?: unknown; missing?: boolean },
  ) {
    super(`${options?.missing ? 'missing' : 'invalid'} ${variable}: ${oneLine(detail)}`, {
      cause: options?.cause,
    });
    this.name = 'ConfigError';
  }

  /** The variable is unset or blank and has no default. */
  static missing(variable: string): ConfigError {
    return new ConfigError(variable, 'it is required', { missing: true });
  }
}

// A value quoted into a message may hold a newline; the message stays one line.
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}
