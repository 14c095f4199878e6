import { execFile } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { HEALTH_PORT, ROUTES, UDP_PORT, WORKER_PORT } from '@runmat-telemetry/schema';
import { freePort, type ServerProcess, spawnServer } from '@runmat-telemetry/test-kit';
import { FORWARDER_ENV } from '@runmat-telemetry/udp-forwarder/config';
import { WORKER_ENV } from '@runmat-telemetry/worker/config';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT } from './support/terraform.ts';

const run = promisify(execFile);
const PRUNE_SCRIPT = join(REPO_ROOT, 'infra/scripts/prune-app.sh');

let tmp: string;
let running: ServerProcess | undefined;

beforeAll(async () => {
  // Outside the workspace, so nothing can resolve from /work/main/node_modules.
  tmp = await mkdtemp(join(tmpdir(), 'runmat-pruned-'));
  expect(relative(REPO_ROOT, tmp).startsWith('..')).toBe(true);
});

/** `node dist/server.js` (or `command… dist/server.js`) in a pruned bundle, with exactly `env`. */
function startBundle(
  dir: string,
  env: Record<string, string>,
  command?: readonly string[],
): Promise<ServerProcess> {
  return spawnServer({ name: dir, script: join(dir, 'dist/server.js'), cwd: dir, env, command });
}

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/**
 * Runs the prune script the Dockerfiles run. The build itself is turbo's job
 * (infra's test task depends on the apps' build), so it is skipped here.
 */
async function prune(app: 'worker' | 'udp-forwarder'): Promise<string> {
  const out = join(tmp, app);
  await run('bash', [PRUNE_SCRIPT, app, out], {
    cwd: REPO_ROOT,
    env: { ...process.env, PRUNE_SKIP_BUILD: '1' },
    timeout: 120_000,
  });
  // Legacy deploy given an absolute target links bins under <repo>/<target>;
  // the script must leave nothing behind in the workspace.
  await expect(lstat(join(REPO_ROOT, out))).rejects.toThrow();
  const staged = await readdir(join(REPO_ROOT, '.pruned')).catch(() => []);
  expect(staged.filter((e) => e.startsWith(`${app}.`))).toEqual([]);
  return out;
}

/** Checks the bundle is production-only and self-contained. */
async function expectSelfContained(
  dir: string,
  devOnly: string[],
  alsoFiles: string[] = [],
): Promise<void> {
  // package.json#files plus what npm always packs (README, LICENSE); no sources or configs.
  const entries = await readdir(dir);
  expect(entries).toEqual(
    expect.arrayContaining(['dist', 'node_modules', 'package.json', ...alsoFiles]),
  );
  for (const entry of entries.filter((e) => !alsoFiles.includes(e))) {
    expect(entry).toMatch(/^(dist|node_modules|package\.json|README(\.md)?|LICEN[CS]E(\.md)?)$/i);
  }
  const schema = join(dir, 'node_modules/@runmat-telemetry/schema');
  const schemaReal = await realpath(schema);
  expect(relative(dir, schemaReal).startsWith('..'), `schema resolves to ${schemaReal}`).toBe(
    false,
  );
  expect((await lstat(join(schemaReal, 'dist/index.js'))).isFile()).toBe(true);
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  for (const dep of Object.keys(pkg.dependencies)) {
    const real = await realpath(join(dir, 'node_modules', dep));
    expect(relative(dir, real).startsWith('..'), `${dep} resolves outside: ${real}`).toBe(false);
  }
  for (const dev of devOnly) {
    await expect(lstat(join(dir, 'node_modules', dev)), dev).rejects.toThrow();
  }
}

describe('pruned app bundles', () => {
  it('rejects an unknown app name', async () => {
    await expect(run('bash', [PRUNE_SCRIPT, 'nope', join(tmp, 'nope')])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown app "nope"'),
    });
  });

  it('worker: starts from a temp directory and answers its health routes', async () => {
    const dir = await prune('worker');
    // bin/: the image's entrypoint (V8 heap from the memory budget).
    await expectSelfContained(
      dir,
      [
        '@runmat-telemetry/fake-sink',
        '@runmat-telemetry/test-kit',
        'autocannon',
        'fast-check',
        'vitest',
      ],
      ['bin'],
    );
    // The shared-dedupe client ships in the bundle.
    expect((await lstat(join(dir, 'node_modules/ioredis/package.json'))).isFile()).toBe(true);

    running = await startBundle(dir, {
      [WORKER_ENV.port]: '0',
      [WORKER_ENV.host]: '127.0.0.1',
      [WORKER_ENV.metricsPort]: '0',
      [WORKER_ENV.ingestionKeys]: 'bundle-test-key',
      [WORKER_ENV.posthogApiKey]: 'phc_bundle_test',
      // Nothing listens there: startup must not depend on reaching analytics.
      [WORKER_ENV.posthogHost]: `http://127.0.0.1:${await freePort()}`,
      [WORKER_ENV.logLevel]: 'info',
    });
    const port = Number(running.listening.port);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(WORKER_PORT);
    const base = String(running.listening.url);
    const health = await fetch(`${base}${ROUTES.healthz}`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}${ROUTES.readyz}`)).status).toBe(200);
    // Metrics only on the metrics listener, never on the public port.
    expect((await fetch(`${base}${ROUTES.metrics}`)).status).toBe(404);
    const metrics = await fetch(String(running.listening.metricsUrl));
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('runmat_worker_queue_depth');
    expect(await running.stop()).toEqual({ code: 0, signal: null });

    // As the image runs it: the entrypoint sizes V8 from MEMORY_LIMIT_MIB, then execs node.
    running = await startBundle(
      dir,
      {
        [WORKER_ENV.port]: '0',
        [WORKER_ENV.host]: '127.0.0.1',
        [WORKER_ENV.ingestionKeys]: 'bundle-test-key',
        [WORKER_ENV.posthogApiKey]: 'phc_bundle_test',
        [WORKER_ENV.posthogHost]: `http://127.0.0.1:${await freePort()}`,
        [WORKER_ENV.logLevel]: 'info',
        [WORKER_ENV.metricsPort]: '0',
        [WORKER_ENV.memoryLimitMib]: '512',
        NODE_OPTIONS: '--max-semi-space-size=32',
      },
      ['sh', 'bin/worker-entrypoint.sh', process.execPath],
    );
    const budget = running.records().filter((l) => l.message === 'memory budget');
    expect(budget).toHaveLength(1);
    // 256 MiB of old space (half the budget) plus three 32 MiB semi-spaces.
    expect(budget[0]).toMatchObject({ budgetMiB: 512, heapLimitMiB: 256 + 96 });
    expect(await running.stop()).toEqual({ code: 0, signal: null });
  });

  it('udp-forwarder: starts from a temp directory and answers its health route', async () => {
    const dir = await prune('udp-forwarder');
    await expectSelfContained(dir, ['@runmat-telemetry/fake-sink', '@runmat-telemetry/worker']);

    running = await startBundle(dir, {
      [FORWARDER_ENV.udpPort]: '0',
      [FORWARDER_ENV.udpHost]: '127.0.0.1',
      [FORWARDER_ENV.healthPort]: '0',
      [FORWARDER_ENV.healthHost]: '127.0.0.1',
      [FORWARDER_ENV.endpoint]: `http://127.0.0.1:${await freePort()}${ROUTES.batch}`,
      [FORWARDER_ENV.ingestionKey]: 'bundle-test-key',
      [FORWARDER_ENV.logLevel]: 'info',
    });
    const udpPort = Number(running.listening.udpPort);
    const healthPort = Number(running.listening.healthPort);
    expect(udpPort).toBeGreaterThan(0);
    expect(udpPort).not.toBe(UDP_PORT);
    expect(healthPort).toBeGreaterThan(0);
    expect(healthPort).not.toBe(HEALTH_PORT);
    const health = await fetch(`http://127.0.0.1:${healthPort}${ROUTES.healthz}`);
    expect(health.status).toBe(200);
    expect(await running.stop()).toEqual({ code: 0, signal: null });
  });
});
