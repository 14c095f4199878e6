import { describe, expect, it } from 'vitest';
import { clientConfigToml, parseSentLines } from './run-client.js';
import { waitFor } from './wait-for.js';

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
