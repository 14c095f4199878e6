import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

// The sink as the local pipeline and e2e tests start it: `node dist/server.js`.
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(blockers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

beforeAll(() => {
  if (!existsSync(SERVER))
    throw new Error(`${SERVER} is missing: build the package first (pnpm build)`);
});

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function listeningLine(run: Running): Promise<{ host: string; port: number; url: string }> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const line = run
      .stdout()
      .split('\n')
      .find((l) => l.includes('"msg":"listening"'));
    if (line !== undefined) return JSON.parse(line);
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no listening line; stdout: ${run.stdout()} stderr: ${run.stderr()}`);
}

describe('node dist/server.js', () => {
  it('logs exactly one listening line with its real port, serves, and exits 0 on SIGTERM', async () => {
    const run = start({ PORT: '0' });
    const ready = await listeningLine(run);
    expect(ready.host).toBe('127.0.0.1');
    expect(ready.port).toBeGreaterThan(0);
    expect(ready.url).toBe(`http://127.0.0.1:${ready.port}`);

    const res = await fetch(`${ready.url}/batch/`, {
      method: 'POST',
      body: JSON.stringify({ api_key: 'k', event: 'e', distinct_id: 'd' }),
    });
    expect(res.status).toBe(200);
    const listed = (await (await fetch(`${ready.url}/_sink/events`)).json()) as {
      events: unknown[];
    };
    expect(listed.events).toHaveLength(1);

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const lines = run.stdout().trim().split('\n');
    expect(lines.filter((l) => l.includes('listening'))).toHaveLength(1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('exits 0 on SIGINT too', async () => {
    const run = start({ PORT: '0' });
    await listeningLine(run);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
  });

  it('exits 1 with a one-line message naming a bad variable', async () => {
    const run = start({ PORT: 'abc' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe('invalid PORT: expected an integer 0-65535, got "abc"\n');
  });

  it('exits 1 naming the port and the variable when the port is taken', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const run = start({ PORT: String(port) });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain(`127.0.0.1:${port} is already in use`);
    expect(run.stderr()).toContain('set PORT');
  });

  it('applies SINK_POSTHOG_API_KEY and SINK_MAX_EVENTS', async () => {
    const run = start({ PORT: '0', SINK_POSTHOG_API_KEY: 'phc_only', SINK_MAX_EVENTS: '1' });
    const { url } = await listeningLine(run);
    const send = (key: string, event: string) =>
      fetch(`${url}/capture/`, {
        method: 'POST',
        body: JSON.stringify({ api_key: key, event, distinct_id: 'd' }),
      });
    expect((await send('phc_other', 'a')).status).toBe(401);
    expect((await send('phc_only', 'b')).status).toBe(200);
    expect((await send('phc_only', 'c')).status).toBe(200);
    const stats = (await (await fetch(`${url}/_sink/stats`)).json()) as {
      evicted: number;
      stored: number;
    };
    expect(stats).toMatchObject({ evicted: 1, stored: 1 });
  });
});
