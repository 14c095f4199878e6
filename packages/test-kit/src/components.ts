import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A real program some tests need, and how to get it. */
export interface Component {
  name: 'chromium' | 'redis-server';
  /** Environment variable that points at the binary explicitly. */
  envVar: string;
  /** Names looked up on PATH (and the usual absolute places). */
  candidates: readonly string[];
  /** Debian package that provides it. */
  debianPackage: string;
  /** How to get it elsewhere, for the error message. */
  elsewhere: string;
}

export const CHROMIUM: Component = {
  name: 'chromium',
  envVar: 'CHROMIUM_PATH',
  candidates: ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'],
  debianPackage: 'chromium',
  elsewhere:
    "install Chromium or Chrome (macOS: `brew install --cask chromium`; other Linux: your distribution's chromium package) " +
    'or run `npx playwright install chromium`, then set CHROMIUM_PATH to the binary',
};

export const REDIS_SERVER: Component = {
  name: 'redis-server',
  envVar: 'REDIS_SERVER_PATH',
  candidates: ['redis-server', 'valkey-server'],
  debianPackage: 'redis-server',
  elsewhere:
    "install Redis or Valkey (macOS: `brew install redis`; other Linux: your distribution's redis or valkey package), " +
    'or set REDIS_SERVER_PATH to a redis-server binary',
};

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Extra places to look, per component (Playwright's own browser download, for Chromium). */
const EXTRA: Partial<Record<Component['name'], () => string | undefined>> = {};

/** Registers a last place to look for a component (used for Playwright's downloaded browser). */
export function addFallback(name: Component['name'], find: () => string | undefined): void {
  EXTRA[name] = find;
}

/** The component's binary, or undefined when this machine has none. */
export function locate(
  component: Component,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const explicit = env[component.envVar];
  if (explicit) return executable(explicit) ? explicit : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const name of component.candidates) {
    for (const dir of dirs) {
      if (!dir) continue;
      const path = join(dir, name);
      if (existsSync(path) && executable(path)) return path;
    }
  }
  const extra = EXTRA[component.name]?.();
  return extra !== undefined && existsSync(extra) && executable(extra) ? extra : undefined;
}

/** The sentence a test or the setup prints when the component is missing. */
export function missingMessage(component: Component): string {
  return (
    `${component.name} is needed by the tests and was not found (looked for ${component.candidates.join(', ')} on PATH, and ${component.envVar}). ` +
    `On Debian, as root: apt-get update && apt-get install -y ${component.debianPackage} (the test command does this itself when run as root on Debian). ` +
    `Elsewhere: ${component.elsewhere}.`
  );
}

/** The binary, or an error saying how to get it. Never a silent skip. */
export function requireComponent(component: Component): string {
  const path = locate(component);
  if (!path) throw new Error(missingMessage(component));
  return path;
}
