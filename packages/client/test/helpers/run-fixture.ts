import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The emit-one-run host script. */
export const FIXTURE = fileURLToPath(new URL('../../fixtures/emit-one-run.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface FixtureRun {
  code: number | null;
  /** ms from the script's "work done" mark to the parent seeing it exit. */
  exitDelayMs: number;
  enabled: boolean;
  stdout: string;
  stderr: string;
}

/** Runs the fixture with `env` (merged over a clean PATH-only env) and measures how long exit took. */
export function runFixture(env: Record<string, string>, timeoutMs = 15_000): Promise<FixtureRun> {
  if (!existsSync(DIST)) throw new Error('packages/client/dist is missing: build the client first');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FIXTURE], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (code) => {
      const exitAt = performance.timeOrigin + performance.now();
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{"workDoneAt"'));
      if (!line) return reject(new Error(`fixture printed no mark (code ${code}): ${stderr}`));
      const mark = JSON.parse(line) as { workDoneAt: number; enabled: boolean };
      resolve({
        code,
        exitDelayMs: exitAt - mark.workDoneAt,
        enabled: mark.enabled,
        stdout,
        stderr,
      });
    });
  });
}
