/** Stable codes for configuration problems. */
export type ConfigErrorCode = 'malformed_file' | 'wrong_type' | 'invalid_value' | 'unreadable_file';

/**
 * A configuration file or option the client cannot use. It names the file,
 * the key and the 1-based line so a user can fix it; the host decides whether
 * to stop (telemetry itself just stays off).
 */
export class TelemetryConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly file: string | undefined;
  readonly key: string | undefined;
  readonly line: number | undefined;

  constructor(
    code: ConfigErrorCode,
    detail: string,
    where: { file?: string; key?: string; line?: number },
    options?: { cause?: unknown },
  ) {
    const at = [
      where.file !== undefined
        ? `${where.file}${where.line !== undefined ? `:${where.line}` : ''}`
        : undefined,
      where.key !== undefined ? `key "${where.key}"` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super(`runmat telemetry config: ${at ? `${at}: ` : ''}${detail}`, options);
    this.name = 'TelemetryConfigError';
    this.code = code;
    this.file = where.file;
    this.key = where.key;
    this.line = where.line;
  }
}
