import type { LoggerOptions } from 'pino';

/**
 * Cloud Logging's `severity` for each pino level. Cloud Logging reads
 * `severity` (not pino's numeric `level`) from a JSON line; without it every
 * line is DEFAULT and an error is not an error to alerts or Error Reporting.
 */
export const SEVERITY_BY_LEVEL = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
} as const satisfies Record<string, string>;

/** The `severity` for a pino level label (DEFAULT for a level pino does not define). */
export function severityOf(label: string): string {
  return (SEVERITY_BY_LEVEL as Record<string, string>)[label] ?? 'DEFAULT';
}

/** pino options for lines Cloud Logging reads: `severity`, `message`, RFC 3339 `time`. */
export const cloudLoggingFormat = {
  // Cloud Logging takes `message` as the entry's text (pino writes `msg` by default).
  messageKey: 'message',
  formatters: {
    level: (label: string) => ({ severity: severityOf(label) }),
  },
  // RFC 3339, which Cloud Logging reads as the entry's timestamp.
  timestamp: () => `,"time":"${new Date().toISOString()}"`,
} satisfies LoggerOptions;

/** pino options at `level` in Cloud Logging's shape; apps spread their own (redaction, serializers) over it. */
export function cloudLoggerOptions(level: string): LoggerOptions {
  return { level, ...cloudLoggingFormat };
}
