import { execFile } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { arch as nodeArch, platform as nodePlatform } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  APP_PATHS,
  childEnv,
  makeTempDir,
  runClient,
  settle,
  transportConfig,
} from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const run = promisify(execFile);
const pipeline = usePipeline();

interface SnippetRun {
  home: string;
  idFile: string;
  stdout: string;
  stderr: string;
}

/**
 * Sources the installer snippet in a real shell and calls
 * `runmat_telemetry_send` for each event, as an install script does.
 */
async function installerSends(
  events: string[],
  options: { shell?: string; env?: Record<string, string>; path?: string; key?: string } = {},
): Promise<SnippetRun> {
  const home = makeTempDir('runmat-e2e-installer-home-');
  const calls = events.map((e) => `runmat_telemetry_send ${e}`).join('; ');
  const { stdout, stderr } = await run(
    options.shell ?? 'sh',
    ['-c', `. "${APP_PATHS.installerSh}"; ${calls}; echo "installer exit $?"`],
    {
      env: childEnv({
        HOME: home,
        RUNMAT_TELEMETRY_ENDPOINT: pipeline().endpoints.httpEndpoint,
        RUNMAT_TELEMETRY_KEY: options.key ?? pipeline().key,
        RUNMAT_RELEASE: '0.4.9',
        ...(options.path ? { PATH: options.path } : {}),
        ...options.env,
      }),
      timeout: 20_000,
    },
  );
  return { home, idFile: join(home, '.runmat', 'telemetry_id'), stdout, stderr };
}

// The snippet's os/arch names for this machine, per the contract's spelling.
const OS = nodePlatform() === 'darwin' ? 'macos' : nodePlatform();
const ARCH =
  ({ x64: 'x86_64', arm64: 'aarch64' } as Record<string, string>)[nodeArch()] ?? 'unknown';

/** A PATH with every tool the snippet needs except curl, so it falls back to wget. */
function pathWithoutCurl(): string {
  const bin = makeTempDir('runmat-e2e-bin-');
  const dirs = (process.env.PATH ?? '').split(delimiter);
  for (const tool of [
    'sh',
    'cat',
    'head',
    'tr',
    'mkdir',
    'ln',
    'mv',
    'rm',
    'uname',
    'od',
    'sed',
    'wget',
    'uuidgen',
  ]) {
    const found = dirs.map((d) => join(d, tool)).find((p) => existsSync(p));
    if (found) symlinkSync(found, join(bin, tool));
  }
  expect(existsSync(join(bin, 'curl'))).toBe(false);
  expect(existsSync(join(bin, 'wget')), 'wget is installed').toBe(true);
  return bin;
}

describe('the installer sh snippet through the worker', () => {
  it.each(['sh', 'bash'])(
    'install_start and install_complete arrive with the shared anonymous id (%s)',
    async (shell) => {
      const r = await installerSends(['install_start', 'install_complete'], { shell });
      expect(r.stdout.trim()).toBe('installer exit 0');
      expect(r.stderr).toBe('');
      const cid = readFileSync(r.idFile, 'utf8').trim();
      expect(cid).toMatch(/^[0-9a-f-]{36}$/);

      const events = await pipeline().sinkApi.waitForEvents(
        { destination: 'posthog', distinct_id: cid },
        2,
      );
      expect(events.map((e) => e.event).sort()).toEqual(['install_complete', 'install_start']);
      for (const e of events) {
        expect(e.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(e.properties).toMatchObject({
          run_kind: 'install',
          method: 'shell',
          os: OS,
          arch: ARCH,
          platform: `${OS}-${ARCH}`,
          release: '0.4.9',
        });
      }
      expect(new Set(events.map((e) => e.properties.session_id)).size).toBe(1);
      const ga4 = await pipeline().sinkApi.waitForEvents(
        { destination: 'ga4', distinct_id: cid },
        2,
      );
      expect(ga4.map((e) => e.event).sort()).toEqual(['install_complete', 'install_start']);
      for (const e of ga4) expect(e.violations ?? []).toEqual([]);
    },
  );

  it('falls back to wget when curl is missing', async () => {
    const r = await installerSends(['install_failed'], { path: pathWithoutCurl() });
    expect(r.stdout.trim()).toBe('installer exit 0');
    const cid = readFileSync(r.idFile, 'utf8').trim();
    const [e] = await pipeline().sinkApi.waitForEvents(
      { destination: 'posthog', distinct_id: cid },
      1,
    );
    expect(e?.event).toBe('install_failed');
  });

  it('sends each event once per shell, and RunMat later reports under the same id', async () => {
    const r = await installerSends(['install_start', 'install_start', 'install_complete']);
    const cid = readFileSync(r.idFile, 'utf8').trim();
    const client = await runClient({
      ...(await transportConfig(pipeline().endpoints, 'http')),
      key: pipeline().key,
      home: r.home,
    });
    expect(client.code, client.stderr).toBe(0);
    expect(client.telemetryId).toBe(cid);
    await pipeline().sinkApi.waitForEvents({ destination: 'posthog', distinct_id: cid }, 4);
    await settle(pipeline());
    const names = (await pipeline().sinkApi.events({ destination: 'posthog', distinct_id: cid }))
      .map((e) => e.event)
      .sort();
    expect(names).toEqual([
      'install_complete',
      'install_start',
      'runtime.run.finished',
      'runtime.run.started',
    ]);
  });

  it('never fails the install: a wrong key or an opt-out delivers nothing and exits 0', async () => {
    await pipeline().sinkApi.clear();
    const wrongKey = await installerSends(['install_start'], { key: 'dev_wrong_0000000000000000' });
    const optedOut = await installerSends(['install_start'], { env: { DO_NOT_TRACK: '1' } });
    for (const r of [wrongKey, optedOut]) {
      expect(r.stdout.trim()).toBe('installer exit 0');
      expect(r.stderr).toBe('');
    }
    expect(existsSync(optedOut.idFile), 'no id file when opted out').toBe(false);
    const sentinels = await settle(pipeline());
    const stored = await pipeline().sinkApi.events();
    expect(stored.filter((e) => !sentinels.includes(e.distinct_id))).toEqual([]);
  });
});
