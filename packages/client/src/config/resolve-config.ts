import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { EMBEDDED_INGESTION_KEY } from '../embedded-key.js';
import { parseUdpEndpoint } from '../transport/udp-endpoint.js';
import { TelemetryConfigError } from './config-error.js';
import { type PathInputs, type TelemetryPaths, telemetryPaths } from './config-paths.js';
import { type EnvLike, envOptOuts, isTruthyEnv } from './opt-outs.js';
import { type ConfigFile, describe, keyLine, readConfigFile, tableAt } from './read-config-file.js';
import {
  CONFIG_KEY_KINDS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  MAX_DRAIN_TIMEOUT_MS,
  MIN_QUEUE_SIZE,
  type TelemetryConfig,
  type TelemetryConfigKey,
} from './telemetry-config.js';

/** Inputs to {@link resolveConfig}; every one defaults to the real process. */
export interface ResolveConfigOptions extends PathInputs {
  env?: EnvLike;
  cwd?: string;
  /** Highest-precedence values, set by the host in code. */
  config?: Partial<TelemetryConfig>;
  /** Host consent (browser hosts, desktop dialogs); false is an opt-out. */
  telemetryConsent?: boolean;
  /** Ingestion key passed in code; wins over `RUNMAT_TELEMETRY_KEY` and the embedded key. */
  ingestionKey?: string;
}

/** Where a config value came from, e.g. `default`, `/home/u/runmat.toml:4`, `env RUNMAT_TELEMETRY_DRAIN`, `code`. */
export type ConfigSource = string;

/** A config file the resolver considered. */
export interface ConsultedFile {
  role: 'user' | 'legacy' | 'project';
  path: string;
  found: boolean;
}

/** The effective configuration, where each value came from, and whether anything may be sent. */
export interface ResolvedConfig {
  config: TelemetryConfig;
  sources: Record<TelemetryConfigKey, ConfigSource>;
  /** False when any opt-out applies. */
  enabled: boolean;
  /** Why telemetry is off (empty when enabled). */
  disabledReasons: string[];
  /** Enabled and allowed to deliver (an ingestion key is present or not required). */
  deliveryEnabled: boolean;
  /** Why delivery is off while telemetry is enabled. */
  deliveryDisabledReason: string | undefined;
  ingestionKey: string;
  ingestionKeySource: 'code' | 'env RUNMAT_TELEMETRY_KEY' | 'embedded' | 'none';
  /** `RUNMAT_TELEMETRY_SHOW=1`: echo each payload to stderr. */
  showOnStderr: boolean;
  files: ConsultedFile[];
  /** Unknown keys and ignored env values: not errors, but worth showing in `status`. */
  warnings: string[];
  paths: TelemetryPaths;
}

const SECTION = 'runtime.telemetry';

interface Layer {
  values: Partial<TelemetryConfig>;
  source: (key: TelemetryConfigKey) => ConfigSource;
}

/**
 * Resolves the telemetry configuration: defaults, the user config (legacy
 * `~/.runmat/config.toml` then `~/.config/runmat/config.toml`), the project
 * config (`RUNMAT_CONFIG`, else the nearest `runmat.toml` / `runmat.json`
 * walking up from the working directory), code options, then
 * `RUNMAT_TELEMETRY_DRAIN=none`; later layers win, except that `enabled = false` anywhere, an env
 * opt-out or consent false always wins.
 *
 * Throws {@link TelemetryConfigError} (file, key, line) for a malformed file or
 * a wrong-typed or invalid key.
 */
export function resolveConfig(options: ResolveConfigOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const paths = telemetryPaths({ env, homeDir: options.homeDir, platform: options.platform });
  const warnings: string[] = [];
  const files: ConsultedFile[] = [];
  const layers: Layer[] = [];

  const legacy = readConfigFile(paths.legacyConfig);
  files.push({ role: 'legacy', path: paths.legacyConfig, found: legacy !== undefined });
  if (legacy) {
    const table = tableAt(legacy, 'telemetry');
    if (table && table.enabled !== undefined) {
      const values = validateTable(legacy, { enabled: table.enabled }, 'telemetry', warnings);
      layers.push(fileLayer(legacy, values, 'telemetry'));
    }
  }

  const user = readConfigFile(paths.userConfig);
  files.push({ role: 'user', path: paths.userConfig, found: user !== undefined });
  if (user) layers.push(sectionLayer(user, warnings));

  const projectPath = findProjectConfig(env, cwd);
  if (projectPath) {
    const project = readConfigFile(projectPath);
    if (!project && env.RUNMAT_CONFIG) {
      throw new TelemetryConfigError(
        'unreadable_file',
        'RUNMAT_CONFIG points to a file that does not exist',
        {
          file: projectPath,
        },
      );
    }
    files.push({ role: 'project', path: projectPath, found: project !== undefined });
    if (project) layers.push(sectionLayer(project, warnings));
  }

  if (options.config) {
    const values = validateValues(options.config, warnings, (key, problem, code) => {
      throw new TelemetryConfigError(code, problem, { key });
    });
    layers.push({ values, source: () => 'code' });
  }

  // Above code options on purpose: RUNMAT_TELEMETRY_DRAIN=none is how a user
  // makes sure telemetry adds nothing to a process's exit, whatever the host says.
  const envValues: Partial<TelemetryConfig> = {};
  const drain = env.RUNMAT_TELEMETRY_DRAIN?.trim().toLowerCase();
  if (drain === 'none') envValues.drain_mode = drain;
  else if (drain)
    warnings.push(`RUNMAT_TELEMETRY_DRAIN=${drain} ignored (only "none" is recognised)`);
  layers.push({ values: envValues, source: () => 'env RUNMAT_TELEMETRY_DRAIN' });

  const config: TelemetryConfig = { ...DEFAULT_CONFIG };
  const sources = Object.fromEntries(CONFIG_KEYS.map((k) => [k, 'default'])) as Record<
    TelemetryConfigKey,
    string
  >;
  const disabledReasons: string[] = [];
  for (const layer of layers) {
    for (const key of CONFIG_KEYS) {
      const value = layer.values[key];
      if (value === undefined) continue;
      if (key === 'enabled') {
        // `enabled = false` is sticky: a project file or code cannot undo a user's opt-out.
        if (config.enabled === false) continue;
        if (value === false) disabledReasons.push(`enabled = false in ${layer.source(key)}`);
      }
      (config as unknown as Record<string, unknown>)[key] = value;
      sources[key] = layer.source(key);
    }
  }

  disabledReasons.push(...envOptOuts(env));
  if (options.telemetryConsent === false) disabledReasons.push('telemetryConsent is false');
  const enabled = disabledReasons.length === 0;

  let ingestionKey = '';
  let ingestionKeySource: ResolvedConfig['ingestionKeySource'] = 'none';
  if (options.ingestionKey) {
    ingestionKey = options.ingestionKey;
    ingestionKeySource = 'code';
  } else if (env.RUNMAT_TELEMETRY_KEY) {
    ingestionKey = env.RUNMAT_TELEMETRY_KEY;
    ingestionKeySource = 'env RUNMAT_TELEMETRY_KEY';
  } else if (EMBEDDED_INGESTION_KEY) {
    ingestionKey = EMBEDDED_INGESTION_KEY;
    ingestionKeySource = 'embedded';
  }
  const keyMissing = config.require_ingestion_key && ingestionKey === '';
  const deliveryDisabledReason = keyMissing
    ? 'require_ingestion_key = true and no ingestion key (set RUNMAT_TELEMETRY_KEY)'
    : undefined;

  return {
    config,
    sources,
    enabled,
    disabledReasons,
    deliveryEnabled: enabled && !keyMissing,
    deliveryDisabledReason,
    ingestionKey,
    ingestionKeySource,
    showOnStderr: isTruthyEnv(env.RUNMAT_TELEMETRY_SHOW),
    files,
    warnings,
    paths,
  };
}

/** `RUNMAT_CONFIG` (relative to cwd), else the nearest `runmat.toml` / `runmat.json` up from cwd. */
export function findProjectConfig(env: EnvLike, cwd: string): string | undefined {
  if (env.RUNMAT_CONFIG)
    return isAbsolute(env.RUNMAT_CONFIG) ? env.RUNMAT_CONFIG : resolve(cwd, env.RUNMAT_CONFIG);
  let dir = resolve(cwd);
  for (;;) {
    for (const name of ['runmat.toml', 'runmat.json']) {
      const candidate = join(dir, name);
      if (existsSync(candidate)) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function sectionLayer(file: ConfigFile, warnings: string[]): Layer {
  const table = tableAt(file, SECTION);
  return fileLayer(file, table ? validateTable(file, table, SECTION, warnings) : {}, SECTION);
}

function fileLayer(file: ConfigFile, values: Partial<TelemetryConfig>, section: string): Layer {
  return {
    values,
    source: (key) => {
      const line = keyLine(file, key, section);
      return line === undefined ? file.path : `${file.path}:${line}`;
    },
  };
}

function validateTable(
  file: ConfigFile,
  table: Record<string, unknown>,
  section: string,
  warnings: string[],
): Partial<TelemetryConfig> {
  return validateValues(
    table,
    warnings,
    (key, problem, code) => {
      throw new TelemetryConfigError(code, problem, {
        file: file.path,
        key: `${section}.${key}`,
        line: keyLine(file, key, section),
      });
    },
    `${file.path} [${section}]`,
  );
}

type Fail = (key: string, problem: string, code: 'wrong_type' | 'invalid_value') => never;

/** Checks each key's type and value; clamps `queue_size` and `drain_timeout_ms` to their documented bounds. */
function validateValues(
  input: Record<string, unknown>,
  warnings: string[],
  fail: Fail,
  where = 'code options',
): Partial<TelemetryConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(CONFIG_KEY_KINDS, key)) {
      warnings.push(`unknown key "${key}" in ${where} ignored`);
      continue;
    }
    const kind = CONFIG_KEY_KINDS[key as TelemetryConfigKey];
    switch (kind) {
      case 'boolean':
        if (typeof value !== 'boolean')
          fail(key, `expected a boolean, got ${describe(value)}`, 'wrong_type');
        out[key] = value;
        break;
      case 'integer':
        if (typeof value !== 'number' && typeof value !== 'bigint')
          fail(key, `expected an integer, got ${describe(value)}`, 'wrong_type');
        if (!Number.isSafeInteger(Number(value)) || Number(value) < 0) {
          fail(key, `expected a non-negative integer, got ${String(value)}`, 'invalid_value');
        }
        out[key] =
          key === 'queue_size'
            ? Math.max(MIN_QUEUE_SIZE, Number(value))
            : Math.min(MAX_DRAIN_TIMEOUT_MS, Number(value));
        break;
      case 'drain_mode':
        if (typeof value !== 'string')
          fail(key, `expected "all" or "none", got ${describe(value)}`, 'wrong_type');
        if (value !== 'all' && value !== 'none')
          fail(key, `expected "all" or "none", got ${describe(value)}`, 'invalid_value');
        out[key] = value;
        break;
      case 'string':
        if (typeof value !== 'string')
          fail(key, `expected a string, got ${describe(value)}`, 'wrong_type');
        if (key === 'http_endpoint' && value !== '' && !isHttpUrl(value)) {
          fail(key, `expected "" or an http(s) URL, got ${describe(value)}`, 'invalid_value');
        }
        if (key === 'udp_endpoint' && value !== '' && !parseUdpEndpoint(value)) {
          fail(key, `expected "" or "host:port", got ${describe(value)}`, 'invalid_value');
        }
        out[key] = value;
        break;
    }
  }
  return out as Partial<TelemetryConfig>;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
