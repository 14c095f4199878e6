import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEventJson } from '@runmat-telemetry/schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HttpCollector, startHttpCollector, tempDir } from './helpers/collectors.js';

const SNIPPET = fileURLToPath(new URL('../installer/runmat-telemetry.sh', import.meta.url));
const SHELLS = ['/bin/dash', '/bin/bash'].filter((s) => existsSync(s));

let http: HttpCollector;
let home: { dir: string; cleanup: () => void };
beforeEach(async () => {
  http = await startHttpCollector();
  home = tempDir();
});
afterEach(async () => {
  await http.close();
  home.cleanup();
});

function sh(
  shell: string,
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // set -eu, as strict installers do: the snippet must not trip either.
    const child = spawn(shell, ['-eu', '-c', `. '${SNIPPET}'\n${script}`], {
      env: { PATH: process.env.PATH ?? '', HOME: home.dir, ...env },
      // A socket on stdin makes bash think it runs under sshd and source bash.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
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

it('dash is available (the snippet must be tested under a strict POSIX shell)', () => {
  expect(SHELLS).toContain('/bin/dash');
});

describe.each(SHELLS)('installer snippet under %s', (shell) => {
  const base = () => ({
    RUNMAT_TELEMETRY_ENDPOINT: http.url,
    RUNMAT_TELEMETRY_KEY: 'install-key',
    RUNMAT_RELEASE: '0.4.9',
  });

  it('sends valid installer events with the key, once each, sharing the id file', async () => {
    const r = await sh(
      shell,
      'runmat_telemetry_send install_start\nrunmat_telemetry_send install_start\nrunmat_telemetry_send install_complete\necho "after $?"',
      base(),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('after 0\n');
    expect(r.stderr).toBe('');
    expect(http.requests).toHaveLength(2);
    const id = readFileSync(idFile(), 'utf8').trim();
    const events = http.requests.map((q) => {
      expect(q.headers['x-telemetry-key']).toBe('install-key');
      expect(q.headers['content-type']).toBe('application/json');
      const parsed = parseEventJson(q.body);
      expect(parsed, q.body).toMatchObject({ ok: true });
      return JSON.parse(q.body);
    });
    expect(events.map((e) => e.event_label)).toEqual(['install_start', 'install_complete']);
    expect(events[0]).toMatchObject({
      cid: id,
      method: 'shell',
      run_kind: 'install',
      release: '0.4.9',
      os: 'linux',
    });
    expect(events[0].platform).toBe(`${events[0].os}-${events[0].arch}`);
    expect(events[0].session_id).toBe(events[1].session_id);
    expect(events[0].uuid).not.toBe(events[1].uuid);
    expect(Object.keys(events[0]).sort()).toEqual(
      [
        'arch',
        'cid',
        'event_label',
        'method',
        'os',
        'platform',
        'release',
        'run_kind',
        'session_id',
        'uuid',
      ].sort(),
    );

    // A later installer run reuses the id.
    await sh(shell, 'runmat_telemetry_send install_failed', base());
    expect(JSON.parse(http.requests[2]?.body ?? '{}').cid).toBe(id);
  });

  it.each([
    ['RUNMAT_NO_TELEMETRY', '1'],
    ['RUNMAT_TELEMETRY', '0'],
    ['DO_NOT_TRACK', '1'],
  ])('%s=%s sends nothing and creates no id file', async (name, value) => {
    const r = await sh(shell, 'runmat_telemetry_send install_start\necho ok', {
      ...base(),
      [name]: value,
    });
    expect(r.stdout).toBe('ok\n');
    expect(existsSync(idFile())).toBe(false);
    // Control run in the same collector: once it lands, it must be the only request.
    await sh(shell, 'runmat_telemetry_send install_complete', base());
    await expect
      .poll(() => http.requests.length, { message: 'the control event' })
      .toBeGreaterThanOrEqual(1);
    expect(http.requests.map((q) => JSON.parse(q.body).event_label)).toEqual(['install_complete']);
  });

  it('an unreachable endpoint, an unknown event and an unusable home never fail the install', async () => {
    // A regular file as HOME: the id cannot be stored, even as root.
    const fileHome = join(home.dir, 'a-file');
    writeFileSync(fileHome, 'x');
    const r = await sh(
      shell,
      'runmat_telemetry_send install_start\nrunmat_telemetry_send bogus\necho "ok $?"',
      {
        RUNMAT_TELEMETRY_ENDPOINT: 'http://127.0.0.1:1/v1/t',
        HOME: fileHome,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok 0\n');
  });

  it('falls back to wget when curl is absent', async () => {
    const bin = join(home.dir, 'bin');
    mkdirSync(bin);
    for (const tool of [
      'cat',
      'head',
      'tr',
      'sed',
      'od',
      'mkdir',
      'ln',
      'mv',
      'rm',
      'uname',
      'wget',
    ]) {
      const path = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => existsSync(p));
      if (path) symlinkSync(path, join(bin, tool));
    }
    const r = await sh(shell, 'runmat_telemetry_send install_start', { ...base(), PATH: bin });
    expect(r.code).toBe(0);
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]?.headers['x-telemetry-key']).toBe('install-key');
    expect(parseEventJson(http.requests[0]?.body ?? '').ok).toBe(true);
  });
});
