import { cloudLoggerOptions, type LogLevel } from '@runmat-telemetry/service';
import type { LoggerOptions } from 'pino';

export { SEVERITY_BY_LEVEL, severityOf } from '@runmat-telemetry/service';

/**
 * pino options for the forwarder: JSON lines in the shape Cloud Logging reads
 * on the VM's container log (`severity`, `message`, RFC 3339 `time`), the
 * same as the worker's.
 */
export function forwarderLoggerOptions(level: LogLevel): LoggerOptions {
  return cloudLoggerOptions(level);
}
