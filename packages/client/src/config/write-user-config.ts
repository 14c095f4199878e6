import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'smol-toml';
import type { TelemetryPaths } from './config-paths.js';
import { readConfigFile } from './read-config-file.js';

/** Files `setUserTelemetryEnabled` wrote. */
export interface WrittenConfig {
  written: string[];
}

/**
 * Sets `[runtime.telemetry] enabled` in the user config
 * (`~/.config/runmat/config.toml`), keeping its other settings. When enabling,
 * an older `~/.runmat/config.toml` that says `[telemetry] enabled = false` is
 * updated too, since any `enabled = false` keeps telemetry off. Comments in
 * the rewritten files are not preserved. Throws `TelemetryConfigError` for a
 * malformed existing file rather than overwriting it.
 */
export function setUserTelemetryEnabled(paths: TelemetryPaths, enabled: boolean): WrittenConfig {
  const written: string[] = [];
  const user = readConfigFile(paths.userConfig);
  const data = user?.data ?? {};
  const runtime = table(data, 'runtime');
  table(runtime, 'telemetry').enabled = enabled;
  writeAtomic(paths.userConfig, stringify(data));
  written.push(paths.userConfig);

  if (enabled) {
    const legacy = readConfigFile(paths.legacyConfig);
    const section = legacy?.data.telemetry;
    if (legacy && isTable(section) && section.enabled === false) {
      section.enabled = true;
      writeAtomic(paths.legacyConfig, stringify(legacy.data));
      written.push(paths.legacyConfig);
    }
  }
  return { written };
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function table(parent: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = parent[key];
  if (isTable(existing)) return existing;
  const fresh: Record<string, unknown> = {};
  parent[key] = fresh;
  return fresh;
}

function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(tmp, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
