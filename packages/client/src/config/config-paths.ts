import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EnvLike } from './opt-outs.js';

/** Where the client looks for its per-user files. */
export interface TelemetryPaths {
  home: string;
  /** `~/.config/runmat/config.toml` */
  userConfig: string;
  /** `~/.runmat/config.toml` (older releases, `[telemetry] enabled`) */
  legacyConfig: string;
  /** `~/.runmat` (`%USERPROFILE%\.runmat` on Windows) */
  runmatDir: string;
  /** `~/.runmat/telemetry_id` */
  idFile: string;
}

/** Inputs that decide the paths; all injectable so tests never touch the real home. */
export interface PathInputs {
  env?: EnvLike;
  homeDir?: string;
  platform?: NodeJS.Platform;
}

/** The home directory as RunMat sees it: `USERPROFILE` on Windows, `HOME` elsewhere. */
export function resolveHome(inputs: PathInputs = {}): string {
  if (inputs.homeDir) return inputs.homeDir;
  const env = inputs.env ?? process.env;
  const platform = inputs.platform ?? process.platform;
  const fromEnv = platform === 'win32' ? env.USERPROFILE : env.HOME;
  return fromEnv && fromEnv.length > 0 ? fromEnv : homedir();
}

/** The per-user config and id paths. */
export function telemetryPaths(inputs: PathInputs = {}): TelemetryPaths {
  const home = resolveHome(inputs);
  const runmatDir = join(home, '.runmat');
  return {
    home,
    userConfig: join(home, '.config', 'runmat', 'config.toml'),
    legacyConfig: join(runmatDir, 'config.toml'),
    runmatDir,
    idFile: join(runmatDir, 'telemetry_id'),
  };
}
