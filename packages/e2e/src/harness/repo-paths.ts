import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

/**
 * The monorepo root. Found by walking up from this file so the harness works
 * the same from `src` (vitest) and from `dist` (the local command).
 */
export const REPO_ROOT = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * Entry points exactly as each deployment starts them (`node dist/server.js`
 * in the app's folder), plus the client CLI shim and installer snippet.
 */
export const APP_PATHS = {
  worker: join(REPO_ROOT, 'apps/worker/dist/server.js'),
  forwarder: join(REPO_ROOT, 'apps/udp-forwarder/dist/server.js'),
  sink: join(REPO_ROOT, 'packages/fake-sink/dist/server.js'),
  clientCli: join(REPO_ROOT, 'packages/client/bin/runmat-telemetry.js'),
  clientDist: join(REPO_ROOT, 'packages/client/dist/index.js'),
  installerSh: join(REPO_ROOT, 'packages/client/installer/runmat-telemetry.sh'),
} as const;
