import type { LoggerOptions } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Cloud Logging's `severity` for each pino level. Cloud Logging reads
 * `severity` (not pino's numeric `level`) from a JSON line on the VM's
 * container log; without it every line is DEFAULT and an error is not an
 * error to log-based alerts or Error Reporting. The worker maps the same way.
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

/**
 * pino options for the forwarder: JSON lines with `severity`, `message`
 * (Cloud Logging's text field; pino writes `msg` by default) and an RFC 3339
 * `time`, which Cloud Logging takes as the entry's timestamp.
 */
export function forwarderLoggerOptions(level: LogLevel): LoggerOptions {
  return {
    level,
    messageKey: 'message',
    formatters: { level: (label) => ({ severity: severityOf(label) }) },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
