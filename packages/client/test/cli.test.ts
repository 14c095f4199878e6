import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type HttpCollector,
  startHttpCollector,
  startUdpCollector,
  tempDir,
  type UdpCollector,
  writeProjectToml,
} from './helpers/collectors.js';

const BIN = fileURLToPath(new URL('../bin/runmat-telemetry.js', import.meta.url));

let home: { dir: string; cleanup: () => void };
let work: { dir: string; cleanup: () => void };
beforeEach(() => {
  home = tempDir();
  work = tempDir();
});
afterEach(() => {
  home.cleanup();
  work.cleanup();
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: work.dir,
      env: { PATH: process.env.PATH ?? '', HOME: home.dir, USERPROFILE: home.dir, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const idFile = () => join(home.dir, '.runmat', 'telemetry_id');
const userConfig = () => join(home.dir, '.config', 'runmat', 'config.toml');

describe('runmat-telemetry', () => {
  it('--help works on every subcommand; bad usage exits 2', async () => {
    for (const sub of ['status', 'enable', 'disable', 'id', 'emit', 'install-event']) {
      const r = await cli([sub, '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toContain(`Usage: runmat-telemetry ${sub}`);
    }
    expect((await cli(['--help'])).code).toBe(0);
    expect((await cli([])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['status', '--bogus'])).code).toBe(2);
    expect((await cli(['install-event', 'install_maybe'])).code).toBe(2);
    expect((await cli(['emit', '--kind', 'party'])).code).toBe(2);
  });

  it('status shows enabled/disabled with the reason, effective values with sources, and the id path', async () => {
    const project = writeProjectToml(work.dir, { queue_size: 64 });
    const on = await cli(['status']);
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/^telemetry: enabled/m);
    expect(on.stdout).toMatch(
      new RegExp(`queue_size\\s+64\\s+\\(${project.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2\\)`),
    );
    expect(on.stdout).toMatch(/drain_timeout_ms\s+50\s+\(default\)/);
    expect(on.stdout).toContain(`id file: ${idFile()} (absent)`);
    const off = await cli(['status', '--json'], { DO_NOT_TRACK: '1' });
    const json = JSON.parse(off.stdout);
    expect(json.enabled).toBe(false);
    expect(json.disabledReasons).toEqual(['DO_NOT_TRACK is set']);
    expect(json.sources.queue_size).toBe(`${project}:2`);
  });

  it('status reports a malformed config with file and line, exit 1', async () => {
    const path = join(work.dir, 'runmat.toml');
    writeFileSync(path, '[runtime.telemetry]\nenabled = nope\n');
    const r = await cli(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('disabled (configuration error)');
    expect(r.stdout).toContain(`${path}:2`);
  });

  it('disable and enable write the user config, keeping other settings', async () => {
    mkdirSync(join(home.dir, '.config', 'runmat'), { recursive: true });
    writeFileSync(userConfig(), '[runtime]\nthreads = 4\n\n[runtime.telemetry]\nqueue_size = 32\n');
    expect((await cli(['disable'])).code).toBe(0);
    let text = readFileSync(userConfig(), 'utf8');
    expect(text).toMatch(/enabled = false/);
    expect(text).toMatch(/threads = 4/);
    expect(text).toMatch(/queue_size = 32/);
    expect((await cli(['status'])).stdout).toMatch(
      /^telemetry: disabled\n\s+because enabled = false in .*config\.toml:\d+/m,
    );
    expect((await cli(['enable'])).code).toBe(0);
    text = readFileSync(userConfig(), 'utf8');
    expect(text).toMatch(/enabled = true/);
    expect((await cli(['status'])).stdout).toMatch(/^telemetry: enabled/m);
  });

  it('enable also clears an older ~/.runmat/config.toml opt-out, and reports env opt-outs that still apply', async () => {
    mkdirSync(join(home.dir, '.runmat'), { recursive: true });
    writeFileSync(join(home.dir, '.runmat', 'config.toml'), '[telemetry]\nenabled = false\n');
    const r = await cli(['enable'], { RUNMAT_NO_TELEMETRY: '1' });
    expect(r.code).toBe(0);
    expect(readFileSync(join(home.dir, '.runmat', 'config.toml'), 'utf8')).toMatch(
      /enabled = true/,
    );
    expect(r.stdout).toMatch(/still disabled because RUNMAT_NO_TELEMETRY/);
  });

  it('id creates, reuses and resets; never creates when disabled', async () => {
    const off = await cli(['id'], { RUNMAT_TELEMETRY: '0' });
    expect(off.code).toBe(1);
    expect(existsSync(idFile())).toBe(false);
    const first = await cli(['id']);
    expect(first.code).toBe(0);
    const id = first.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(readFileSync(idFile(), 'utf8').trim()).toBe(id);
    expect((await cli(['id'])).stdout.trim()).toBe(id);
    const reset = await cli(['id', '--reset']);
    expect(reset.code).toBe(0);
    expect(reset.stdout.trim()).not.toBe(id);
    expect(readFileSync(idFile(), 'utf8').trim()).toBe(reset.stdout.trim());
    const resetOff = await cli(['id', '--reset'], { DO_NOT_TRACK: '1' });
    expect(resetOff.code).toBe(0);
    expect(existsSync(idFile())).toBe(false);
  });

  describe('emit and install-event against local listeners', () => {
    let udp: UdpCollector;
    let http: HttpCollector;
    beforeEach(async () => {
      udp = await startUdpCollector();
      http = await startHttpCollector();
    });
    afterEach(async () => {
      await Promise.all([udp.close(), http.close()]);
    });

    const pipelineEnv = () => ({
      RUNMAT_CONFIG: writeProjectToml(work.dir, {
        http_endpoint: http.url,
        udp_endpoint: `127.0.0.1:${udp.port}`,
      }),
      RUNMAT_TELEMETRY_KEY: 'cli-key',
    });

    it('emit sends started + finished via udp and http and prints one line per event', async () => {
      const r = await cli(['emit', '--release', '0.4.9', '--fail'], pipelineEnv());
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^sent runtime\.run\.started [0-9a-f-]{36} via udp,http$/);
      expect(lines[1]).toMatch(/^sent runtime\.run\.finished [0-9a-f-]{36} via udp,http$/);
      expect(udp.datagrams).toHaveLength(2);
      expect(http.requests).toHaveLength(2);
      expect(http.requests.every((q) => q.headers['x-telemetry-key'] === 'cli-key')).toBe(true);
      const finished = JSON.parse(
        http.requests.find((q) => q.body.includes('finished'))?.body ?? '{}',
      );
      expect(finished.payload).toMatchObject({
        success: false,
        error: 'RuntimeError',
        'runtime.failure.stage': 'runtime',
      });
      expect(finished.payload.gpu_ratio).toBeGreaterThan(0.1);
      expect(finished.payload.gpu_ratio).toBeLessThan(0.7);
      expect(finished.uuid).toBe(lines[1]?.split(' ')[2]);
    });

    it('emit with an opt-out sends nothing and says why', async () => {
      const r = await cli(['emit'], { ...pipelineEnv(), RUNMAT_NO_TELEMETRY: '1' });
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/telemetry disabled \(RUNMAT_NO_TELEMETRY is set\)/);
      expect(http.requests).toHaveLength(0);
      expect(udp.datagrams).toHaveLength(0);
      expect(existsSync(idFile())).toBe(false);
    });

    it('install-event sends one installer event', async () => {
      const r = await cli(
        ['install-event', 'install_complete', '--platform', 'linux-x86_64'],
        pipelineEnv(),
      );
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toMatch(/^sent install_complete [0-9a-f-]{36} via udp,http$/);
      expect(JSON.parse(http.requests[0]?.body ?? '{}')).toMatchObject({
        event_label: 'install_complete',
        method: 'shell',
        platform: 'linux-x86_64',
        run_kind: 'install',
      });
    });

    it('emit exits 1 when the collector refuses', async () => {
      await http.close();
      const refusing = await startHttpCollector({ status: 401 });
      try {
        const config = writeProjectToml(work.dir, {
          http_endpoint: refusing.url,
          udp_endpoint: '',
        });
        const r = await cli(['emit'], { RUNMAT_CONFIG: config, RUNMAT_TELEMETRY_KEY: 'wrong' });
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/failed runtime\.run\.started .* via http: HTTP 401/);
      } finally {
        await refusing.close();
        http = await startHttpCollector();
      }
    });
  });
});
