import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, spawnProcess, spawnServer } from '../src/index.ts';

function fixture(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'test-kit-fixture-'));
  const path = join(dir, 'server.mjs');
  writeFileSync(path, source);
  return path;
}

/** Whether a pid is still running: signal 0 probes it; a zombie (killed, not yet reaped) is not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

// A stand-in server that follows the process contract: binds PORT (0 = any),
// logs one JSON listening line, exits 0 on SIGTERM.
const CONTRACT_SERVER = `
import { createServer } from 'node:http';
const server = createServer((_, res) => res.end('ok'));
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  const { port } = server.address();
  console.log('not json');
  console.log(JSON.stringify({ severity: 'INFO', message: 'not yet' }));
  console.log(JSON.stringify({ severity: 'INFO', message: 'listening', port, url: 'http://127.0.0.1:' + port, secret: process.env.SECRET ?? null }));
});
process.on('SIGTERM', () => server.close(() => { console.log(JSON.stringify({ message: 'stopped' })); process.exit(0); }));
`;

describe('spawnServer', () => {
  it('resolves with the listening line, passes only the given env, captures lines, and stops on dispose', async () => {
    process.env.SECRET = 'from-the-parent-shell';
    let proc: { hasExited: boolean; records(): Record<string, unknown>[] } | undefined;
    try {
      await using server = await spawnServer({
        name: 'fixture',
        script: fixture(CONTRACT_SERVER),
        env: { PORT: '0' },
      });
      proc = server;
      expect(server.listening.port).toBeGreaterThan(0);
      expect(server.listening.secret).toBeNull();
      expect(await (await fetch(String(server.listening.url))).text()).toBe('ok');
      expect(server.stdoutLines()[0]).toBe('not json');
      expect(server.records().map((r) => r.message)).toEqual(['not yet', 'listening']);
    } finally {
      delete process.env.SECRET;
    }
    // Disposal sent SIGTERM and waited for the exit and the last lines.
    expect(proc?.hasExited).toBe(true);
    expect(proc?.records().at(-1)).toEqual({ message: 'stopped' });
  });

  it('rejects with the stderr of a process that exits before listening', async () => {
    const script = fixture(
      `console.error('invalid PORT: expected an integer 0-65535, got "abc"'); process.exit(1);`,
    );
    await expect(spawnServer({ name: 'broken', script })).rejects.toThrow(
      /broken exited before logging "listening" \(code 1[\s\S]*invalid PORT/,
    );
  });

  it('kills a process that never logs listening, after the deadline', async () => {
    const script = fixture('setInterval(() => {}, 1000);');
    await expect(spawnServer({ name: 'silent', script, readyTimeoutMs: 300 })).rejects.toThrow(
      /silent did not log "listening" within 300 ms/,
    );
  });

  it('waits for a port when told to, for servers without a listening line', async () => {
    const port = await freePort();
    const script = fixture(`
      import { createServer } from 'node:net';
      createServer((s) => s.end('hi')).listen(${port}, '127.0.0.1');
    `);
    await using server = await spawnServer({ name: 'tcp', script, readyWhen: { port } });
    expect(server.listening).toEqual({});
    expect(server.hasExited).toBe(false);
  });

  it('SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const script = fixture(`
      process.on('SIGTERM', () => {});
      console.log(JSON.stringify({ msg: 'listening', port: 1 }));
      setInterval(() => {}, 1000);
    `);
    const server = await spawnServer({ name: 'stubborn', script });
    expect(await server.stop(200)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('kills the whole process group, so a grandchild does not outlive the test', async () => {
    const script = fixture(`
      import { spawn } from 'node:child_process';
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log(JSON.stringify({ message: 'listening', grandchild: grandchild.pid }));
      setInterval(() => {}, 1000);
    `);
    const server = await spawnServer({ name: 'parent', script });
    const grandchild = Number(server.listening.grandchild);
    expect(alive(grandchild)).toBe(true);
    await server.kill();
    await expect.poll(() => alive(grandchild), { timeout: 5000 }).toBe(false);
  });

  it('stops a process that was SIGSTOPped (continuing it first)', async () => {
    const script = fixture(`
      process.on('SIGTERM', () => process.exit(0));
      console.log(JSON.stringify({ message: 'listening' }));
      setInterval(() => {}, 1000);
    `);
    const server = await spawnServer({ name: 'paused', script });
    server.signal('SIGSTOP');
    expect(await server.stop(2000)).toEqual({ code: 0, signal: null });
  });

  it('names a missing build output', async () => {
    await expect(
      spawnServer({ name: 'ghost', script: '/nonexistent/dist/server.js' }),
    ).rejects.toThrow(/build first/);
  });
});

describe('spawnProcess', () => {
  it('returns at once and reports the exit code and stderr of a process that refuses its settings', async () => {
    const script = fixture(
      `console.error('invalid UDP_PORT: expected an integer 0-65535, got ' + JSON.stringify(process.env.UDP_PORT)); process.exit(1);`,
    );
    await using proc = spawnProcess({ script, env: { UDP_PORT: 'abc' } });
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    expect(proc.stderrText()).toBe('invalid UDP_PORT: expected an integer 0-65535, got "abc"\n');
  });

  it('waits for a record logged later, and rejects when the process exits without it', async () => {
    const script = fixture(`
      console.log(JSON.stringify({ message: 'starting' }));
      setImmediate(() => {
        console.log(JSON.stringify({ message: 'connected', attempt: 2 }));
        process.stdout.write('', () => process.exit(0));
      });
    `);
    await using proc = spawnProcess({ script });
    const line = await proc.waitForRecord((r) => r.message === 'connected');
    expect(line.attempt).toBe(2);
    await expect(
      proc.waitForRecord((r) => r.message === 'never', { what: 'a never line' }),
    ).rejects.toThrow(/exited before logging a never line \(code 0/);
  });

  it('runs the script behind a command, as an image entrypoint does', async () => {
    const script = fixture(
      `console.log(JSON.stringify({ message: 'args', argv: process.argv.slice(2) }));`,
    );
    await using proc = spawnProcess({
      script,
      args: ['--flag'],
      command: ['sh', '-c', 'exec "$@"', 'sh', process.execPath],
    });
    await proc.exited;
    expect(proc.records()).toEqual([{ message: 'args', argv: ['--flag'] }]);
  });
});
