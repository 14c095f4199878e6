import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/tiny-service.mjs', import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [FIXTURE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const records = () =>
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { child, exited, records, stderr: () => stderr };
}

describe('runService', () => {
  it('exits 1 with exactly one stderr line naming a bad variable', async () => {
    const run = start({ PORT: 'abc' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe('invalid PORT: expected an integer 0-65535, got "abc"\n');
    expect(run.records()).toEqual([]);
  });

  it('logs one listening line, answers, and on SIGTERM closes and exits 0', async () => {
    const run = start({ LOG_LEVEL: 'INFO' });
    await expect
      .poll(() => run.records().some((r) => r.message === 'listening'), { timeout: 10_000 })
      .toBe(true);
    const listening = run.records().find((r) => r.message === 'listening')!;
    expect(listening).toMatchObject({ severity: 'INFO' });
    const res = await fetch(`http://127.0.0.1:${listening.port}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.records().map((r) => r.message)).toEqual(['listening', 'shutting down', 'closed']);
    expect(run.records()[1]).toMatchObject({ signal: 'SIGTERM' });
    expect(run.stderr()).toBe('');
  });

  it('exits 1 with the app’s own line when it cannot listen', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const run = start({ PORT: String(port) });
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toBe(`tiny: port ${port} is taken; set PORT\n`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
