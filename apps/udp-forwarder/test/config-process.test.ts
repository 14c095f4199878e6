import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The built process, as the VM's container starts it.
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));

const base = {
  UDP_HOST: '127.0.0.1',
  UDP_PORT: '0',
  HEALTH_HOST: '127.0.0.1',
  HEALTH_PORT: '0',
  // Nothing listens there; the forwarder starts without reaching the worker.
  TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:9/v1/batch',
  TELEMETRY_INGESTION_KEY: 'forwarder-key-1',
};

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

// A value wrongly accepted leaves a running server: never leak it past the test.
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('forwarder process config', () => {
  it.each([
    ['TELEMETRY_INGESTION_KEY', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['UDP_HOST', 'udp.example'],
  ])('%s=%s exits 1 with exactly one stderr line naming it', async (variable, value) => {
    const run = start({ [variable]: value });
    expect(await run.exited).toBe(1);
    const lines = run.stderr().split('\n');
    expect(lines.at(-1), 'ends with a newline').toBe('');
    expect(lines.slice(0, -1)).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^invalid ${variable}: `));
    if (variable === 'TELEMETRY_INGESTION_KEY') expect(run.stderr()).not.toContain(value);
    expect(run.stdout()).toBe('');
  });

  it('starts with LOG_LEVEL=INFO, as the worker does', async () => {
    const run = start({ LOG_LEVEL: 'INFO' });
    await expect
      .poll(() => run.stdout().includes('"message":"listening"'), { timeout: 10_000 })
      .toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stderr()).toBe('');
  });
});
