import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { KEY } from './helpers.js';

// The built process, as Cloud Run starts it.
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));

async function exitOf(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: '0', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stderr };
}

// A value wrongly accepted leaves a running server: never leak it past the test.
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('worker process config errors', () => {
  it.each([
    ['TRUST_PROXY', '1.2.3.4/99'],
    ['LOG_LEVEL', 'loud'],
    ['INGESTION_KEY', 'short'],
    ['DEDUPE_REDIS_URL', 'http://:pw-secret-9@127.0.0.1:1'],
  ])('%s=%s exits 1 with exactly one stderr line naming it', async (variable, value) => {
    const { code, stderr } = await exitOf({
      INGESTION_KEY: KEY,
      POSTHOG_API_KEY: 'phc_x',
      [variable]: value,
    });
    expect(code).toBe(1);
    const lines = stderr.split('\n');
    expect(lines.at(-1), 'ends with a newline').toBe('');
    expect(lines.slice(0, -1)).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^invalid ${variable}: `));
    if (variable === 'DEDUPE_REDIS_URL' || variable === 'INGESTION_KEY') {
      expect(stderr).not.toContain(value);
    }
  });
});
