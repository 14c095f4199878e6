import { createSocket, type Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type HttpCollector,
  startHttpCollector,
  tempDir,
  writeProjectToml,
} from './helpers/collectors.js';
import { runFixture } from './helpers/run-fixture.js';

// These bounds are functional, not performance targets: without the drain
// bound a black-holed collector would hold the script until the HTTP timeout
// (2 s) or forever. The benchmark reports the real figures.
const DRAIN_MS = 200;
const SLACK_MS = 700;

let home: { dir: string; cleanup: () => void };
let blackhole: HttpCollector;
let live: HttpCollector;
let deafUdp: Socket;
let deafUdpPort: number;

beforeEach(async () => {
  home = tempDir();
  blackhole = await startHttpCollector({ blackhole: true });
  live = await startHttpCollector();
  deafUdp = createSocket('udp4');
  await new Promise<void>((r) => deafUdp.bind(0, '127.0.0.1', r));
  deafUdpPort = deafUdp.address().port;
});
afterEach(async () => {
  await Promise.all([blackhole.close(), live.close()]);
  deafUdp.close();
  home.cleanup();
});

function env(
  endpoint: string,
  extra: Record<string, string | number | boolean> = {},
  vars: Record<string, string> = {},
) {
  const config = writeProjectToml(home.dir, {
    http_endpoint: endpoint,
    udp_endpoint: `127.0.0.1:${deafUdpPort}`,
    drain_timeout_ms: DRAIN_MS,
    ...extra,
  });
  return { HOME: home.dir, RUNMAT_CONFIG: config, RUNMAT_TELEMETRY_KEY: 'k', ...vars };
}

describe('telemetry never holds the exit past the drain bound', () => {
  it('a live collector receives both events before exit', async () => {
    const run = await runFixture(env(live.url));
    expect(run.code).toBe(0);
    expect(run.enabled).toBe(true);
    expect(live.requests.map((r) => JSON.parse(r.body).event_label).sort()).toEqual([
      'runtime.run.finished',
      'runtime.run.started',
    ]);
  });

  it('a black-holed collector delays exit by at most the drain bound (explicit shutdown)', async () => {
    const run = await runFixture(env(blackhole.url));
    expect(run.code).toBe(0);
    await expect
      .poll(() => blackhole.requests.length, { message: 'the black hole to see a request' })
      .toBeGreaterThanOrEqual(1);
    expect(run.exitDelayMs).toBeGreaterThanOrEqual(DRAIN_MS - 20);
    expect(run.exitDelayMs).toBeLessThan(DRAIN_MS + SLACK_MS);
  });

  it('a black-holed collector delays exit by at most the drain bound (host never calls shutdown)', async () => {
    const run = await runFixture({ ...env(blackhole.url), FIXTURE_SHUTDOWN: 'skip' });
    expect(run.code).toBe(0);
    expect(run.exitDelayMs).toBeLessThan(DRAIN_MS + SLACK_MS);
  });

  it('a DNS server that never answers does not hold the exit either', async () => {
    // deafUdp doubles as the DNS server: it reads nothing, so every query hangs.
    const config = writeProjectToml(home.dir, {
      http_endpoint: `http://collector.invalid:${live.port}/v1/t`,
      udp_endpoint: `collector.invalid:${deafUdpPort}`,
      drain_timeout_ms: DRAIN_MS,
    });
    const vars = {
      HOME: home.dir,
      RUNMAT_CONFIG: config,
      RUNMAT_TELEMETRY_KEY: 'k',
      FIXTURE_DNS_SERVER: `127.0.0.1:${deafUdpPort}`,
    };
    const run = await runFixture(vars);
    expect(run.code).toBe(0);
    expect(run.exitDelayMs).toBeLessThan(DRAIN_MS + SLACK_MS);
    expect(live.requests).toHaveLength(0);
  });

  it('drain_mode none (and RUNMAT_TELEMETRY_DRAIN=none) exits at once even when black-holed', async () => {
    const viaConfig = await runFixture(
      env(blackhole.url, { drain_mode: 'none', drain_timeout_ms: 5000 }),
    );
    const viaEnv = await runFixture(
      env(blackhole.url, { drain_timeout_ms: 5000 }, { RUNMAT_TELEMETRY_DRAIN: 'none' }),
    );
    for (const run of [viaConfig, viaEnv]) {
      expect(run.code).toBe(0);
      expect(run.exitDelayMs).toBeLessThan(SLACK_MS);
    }
  });
});
