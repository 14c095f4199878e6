/**
 * RunMat telemetry client, Node entry: configuration, the anonymous id,
 * the run API and background delivery over UDP and HTTP. Browser hosts
 * import `@runmat-telemetry/client/browser` instead.
 */
export { type ConfigErrorCode, TelemetryConfigError } from './config/config-error.js';
export { resolveHome, type TelemetryPaths, telemetryPaths } from './config/config-paths.js';
export { type EnvLike, envOptOuts } from './config/opt-outs.js';
export {
  type ConfigSource,
  type ConsultedFile,
  findProjectConfig,
  type ResolveConfigOptions,
  type ResolvedConfig,
  resolveConfig,
} from './config/resolve-config.js';
export {
  DEFAULT_CONFIG,
  type DrainMode,
  effectiveHttpEndpoint,
  MAX_DRAIN_TIMEOUT_MS,
  MIN_QUEUE_SIZE,
  type TelemetryConfig,
  type TelemetryConfigKey,
} from './config/telemetry-config.js';
export { setUserTelemetryEnabled } from './config/write-user-config.js';
export type { DeliveryResult, DeliveryStats } from './delivery/delivery-queue.js';
export { EMBEDDED_INGESTION_KEY } from './embedded-key.js';
export {
  deleteTelemetryId,
  type IdSource,
  loadOrCreateTelemetryId,
  readTelemetryId,
  resetTelemetryId,
  type TelemetryId,
} from './identity/telemetry-id.js';
export * from './run-api.js';
export {
  createTelemetry,
  Telemetry,
  type TelemetryOptions,
  type TelemetryStats,
} from './telemetry.js';
