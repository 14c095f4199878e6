import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePrometheus, sumMetric } from './prometheus.js';
import { clientConfigToml, makeTempDir, parseSentLines } from './run-client.js';
import { spawnServer } from './spawn-server.js';
import { waitFor } from './wait-for.js';

function fixture(source: string): string {
  const path = join(makeTempDir('runmat-e2e-fixture-'), 'server.mjs');
  writeFileSync(path, source);
  return path;
}

// A stand-in server that follows the process contract: binds PORT (0 = any),
// logs one pino-style listening line, exits 0 on SIGTERM.
const CONTRACT_SERVER = `
import { createServer } from 'node:http';
const server = createServer((_, res) => res.end('ok'));
server.listen(Number(process.env.PORT), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(JSON.stringify({ level: 30, msg: 'not yet' }));
  console.log(JSON.stringify({ level: 30, msg: 'listening', host: '127.0.0.1', port, url: 'http://127.0.0.1:' + port, secret: process.env.SECRET ?? null }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe('spawnServer', () => {
  it('resolves with the listening line, passes only the given env, and stops with SIGTERM', async () => {
    process.env.SECRET = 'from-the-parent-shell';
    try {
      const server = await spawnServer({
        name: 'fixture',
        script: fixture(CONTRACT_SERVER),
        env: { PORT: '0' },
      });
      expect(server.listening.port).toBeGreaterThan(0);
      expect(server.listening.secret).toBeNull();
      const res = await fetch(String(server.listening.url));
      expect(await res.text()).toBe('ok');
      expect(await server.stop()).toEqual({ code: 0, signal: null });
      expect(server.hasExited).toBe(true);
    } finally {
      delete process.env.SECRET;
    }
  });

  it('rejects with the stderr of a process that exits before listening', async () => {
    const script = fixture(
      `console.error('invalid PORT: expected an integer 0-65535, got "abc"'); process.exit(1);`,
    );
    await expect(spawnServer({ name: 'broken', script, env: {} })).rejects.toThrow(
      /broken .*exited before listening \(code 1[\s\S]*invalid PORT/,
    );
  });

  it('kills a process that never logs listening, after the deadline', async () => {
    const script = fixture('setInterval(() => {}, 1000);');
    await expect(
      spawnServer({ name: 'silent', script, env: {}, readyTimeoutMs: 300 }),
    ).rejects.toThrow(/silent .*did not log "listening" within 300 ms/);
  });

  it('SIGKILLs a process that ignores SIGTERM after the grace period', async () => {
    const script = fixture(`
      process.on('SIGTERM', () => {});
      console.log(JSON.stringify({ msg: 'listening', port: 1 }));
      setInterval(() => {}, 1000);
    `);
    const server = await spawnServer({ name: 'stubborn', script, env: {} });
    expect(await server.stop(200)).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('names a missing build output', async () => {
    await expect(
      spawnServer({ name: 'ghost', script: '/nonexistent/dist/server.js', env: {} }),
    ).rejects.toThrow(/build first/);
  });
});

describe('waitFor', () => {
  it('resolves with the first truthy probe result', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).toBe(3);
  });

  it('times out naming what it waited for and the last error', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 50, intervalMs: 5, message: 'the sink' },
      ),
    ).rejects.toThrow(/waiting for the sink \(last error: connection refused\)/);
  });
});

describe('client helpers', () => {
  it('writes a runmat.toml with the endpoints under [runtime.telemetry]', () => {
    const toml = clientConfigToml({
      http: 'http://127.0.0.1:1234/v1/t',
      extra: { sync_mode: true, drain_timeout_ms: 2000 },
    });
    expect(toml).toContain('[runtime.telemetry]\n');
    expect(toml).toContain('http_endpoint = "http://127.0.0.1:1234/v1/t"\n');
    expect(toml).toContain('udp_endpoint = ""\n');
    expect(toml).toContain('sync_mode = true\n');
    expect(toml).toContain('drain_timeout_ms = 2000\n');
  });

  it('parses the CLI sent lines', () => {
    const out =
      'sent runtime.run.started 1F0E5D1C-2B7A-4C39-8D51-0A6F3E9B2C47 via udp,http\nsomething else\nsent runtime.run.finished 63b4b9a8-5f2b-4cef-95c1-c6e2b8f6c04c via http\n';
    expect(parseSentLines(out)).toEqual([
      {
        event: 'runtime.run.started',
        uuid: '1f0e5d1c-2b7a-4c39-8d51-0a6f3e9b2c47',
        via: ['udp', 'http'],
      },
      {
        event: 'runtime.run.finished',
        uuid: '63b4b9a8-5f2b-4cef-95c1-c6e2b8f6c04c',
        via: ['http'],
      },
    ]);
  });
});

describe('parsePrometheus', () => {
  it('reads samples with labels and sums by name and label', () => {
    const samples = parsePrometheus(
      [
        '# HELP x_total things',
        '# TYPE x_total counter',
        'x_total{reason="a",route="/v1/t"} 2',
        'x_total{reason="b"} 3',
        'queue_depth 0',
        '',
      ].join('\n'),
    );
    expect(samples).toHaveLength(3);
    expect(sumMetric(samples, 'x_total')).toBe(5);
    expect(sumMetric(samples, 'x_total', { reason: 'a' })).toBe(2);
    expect(sumMetric(samples, /depth/)).toBe(0);
  });
});
