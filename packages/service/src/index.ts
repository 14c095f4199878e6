export {
  cloudLoggerOptions,
  cloudLoggingFormat,
  SEVERITY_BY_LEVEL,
  severityOf,
} from './cloud-logging.js';
export { ConfigError } from './config-error.js';
export {
  defineField,
  type EnvField,
  type FieldOptions,
  type FieldValue,
  type Parse,
  quote,
} from './env-field.js';
export {
  type Env,
  type EnvSchema,
  type EnvValues,
  type EnvVariables,
  envSchema,
  envText,
  envVariables,
  loadEnv,
  secretVariables,
} from './env-schema.js';
export {
  ENV_TABLE_BEGIN,
  ENV_TABLE_END,
  envTableOf,
  renderEnvTable,
  replaceEnvTable,
  tableCells,
  writeEnvTable,
} from './env-table.js';
export {
  boolean,
  bytes,
  type CustomOptions,
  custom,
  durationMs,
  type HostOptions,
  host,
  type IntegerOptions,
  integer,
  KEY_MAX_LENGTH,
  KEY_MIN_LENGTH,
  type KeyRuleOptions,
  key,
  keyList,
  LOG_LEVELS,
  type LogLevel,
  logLevel,
  type OneOfOptions,
  oneOf,
  port,
  type StringOptions,
  secret,
  string,
  type TrustProxy,
  trustProxy,
  type UrlOptions,
  url,
} from './field-types.js';
export { livenessReply, type ProbeReply, readinessReply } from './probes.js';
export {
  runService,
  type ServiceDefinition,
  type ServiceInstance,
  type ServiceLogger,
  type ServiceProcess,
  SHUTDOWN_GRACE_MS,
  withinGrace,
} from './run-service.js';
