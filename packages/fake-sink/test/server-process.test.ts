import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnProcess, type TestProcess } from '@runmat-telemetry/test-kit';
import { afterEach, describe, expect, it } from 'vitest';

// The sink as the local pipeline and e2e tests start it: `node dist/server.js`.
const SERVER = fileURLToPath(new URL('../dist/server.js', import.meta.url));

const blockers: Server[] = [];
afterEach(async () => {
  await Promise.all(blockers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const start = (env: Record<string, string>) =>
  spawnProcess({ name: 'fake-sink', script: SERVER, env });

async function listeningLine(
  run: TestProcess,
): Promise<{ host: string; port: number; url: string }> {
  const line = await run.waitForRecord((r) => r.msg === 'listening', { what: '"listening"' });
  return line as { host: string; port: number; url: string };
}

describe('node dist/server.js', () => {
  it('logs exactly one listening line with its real port, serves, and exits 0 on SIGTERM', async () => {
    await using run = start({ PORT: '0' });
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

    run.signal('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const lines = run.stdoutLines();
    expect(lines.filter((l) => l.includes('listening'))).toHaveLength(1);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('exits 0 on SIGINT too', async () => {
    await using run = start({ PORT: '0' });
    await listeningLine(run);
    run.signal('SIGINT');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 with a one-line message naming a bad variable', async () => {
    await using run = start({ PORT: 'abc' });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.stderrText()).toBe('invalid PORT: expected an integer 0-65535, got "abc"\n');
  });

  it('exits 1 naming the port and the variable when the port is taken', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await using run = start({ PORT: String(port) });
    expect(await run.exited).toEqual({ code: 1, signal: null });
    expect(run.stderrText()).toContain(`127.0.0.1:${port} is already in use`);
    expect(run.stderrText()).toContain('set PORT');
  });

  it('applies SINK_POSTHOG_API_KEY and SINK_MAX_EVENTS', async () => {
    await using run = start({ PORT: '0', SINK_POSTHOG_API_KEY: 'phc_only', SINK_MAX_EVENTS: '1' });
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
