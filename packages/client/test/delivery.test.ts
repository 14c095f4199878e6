import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseEventJson } from '@runmat-telemetry/schema';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTelemetry, readTelemetryId, type TelemetryOptions } from '../src/index.js';
import {
  type HttpCollector,
  startHttpCollector,
  startUdpCollector,
  tempDir,
  type UdpCollector,
  writeProjectToml,
} from './helpers/collectors.js';

const KEY = 'test-ingestion-key';
let udp: UdpCollector;
let http: HttpCollector;
let home: string;
let project: string;
const cleanups: (() => unknown)[] = [];

beforeEach(async () => {
  udp = await startUdpCollector();
  http = await startHttpCollector();
  const h = tempDir();
  const p = tempDir();
  home = h.dir;
  project = p.dir;
  cleanups.push(
    () => udp.close(),
    () => http.close(),
    h.cleanup,
    p.cleanup,
  );
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function telemetry(
  extraEnv: Record<string, string> = {},
  toml: Record<string, string | number | boolean> = {},
  opts: TelemetryOptions = {},
) {
  const config = writeProjectToml(project, {
    http_endpoint: http.url,
    udp_endpoint: `127.0.0.1:${udp.port}`,
    ...toml,
  });
  const t = createTelemetry({
    env: { HOME: home, RUNMAT_CONFIG: config, RUNMAT_TELEMETRY_KEY: KEY, ...extraEnv },
    cwd: project,
    drainOnExit: false,
    stdout: () => {},
    stderr: () => {},
    ...opts,
  });
  cleanups.push(() => t.shutdown());
  return t;
}

const parse = (raw: string) => {
  const r = parseEventJson(raw);
  if (!r.ok) throw new Error(`invalid event: ${JSON.stringify(r.error)}`);
  return r.event as unknown as Record<string, unknown> & { payload: Record<string, unknown> };
};

describe('delivery over real UDP and HTTP listeners', () => {
  it('sends started and finished over both transports, valid, with the key header', async () => {
    const t = telemetry({}, {}, { release: '0.4.9' });
    const run = t.startRun({ kind: 'script', jitEnabled: true, accelerateEnabled: true });
    const summary = run.finish({
      success: false,
      jitUsed: true,
      error: 'RuntimeError',
      host: 'cli',
      failure: {
        stage: 'runtime',
        code: 'RunMat:IndexOutOfBounds',
        hasSpan: true,
        component: 'indexing',
      },
      counters: { total_executions: 3, jit_compiled: 1, interpreter_fallback: 0 },
      provider: {
        device: { name: 'NVIDIA RTX 4090', vendor: 'NVIDIA', backend: 'cuda' },
        // Far more GPU time than wall time: the ratio must clamp to 1.
        telemetry: {
          gpu_wall_ns: 10 ** 15,
          gpu_dispatches: 4,
          fusion_cache_hits: 3,
          fusion_cache_misses: 1,
        },
      },
    });
    expect(summary.emitted).toBe(true);
    await expect
      .poll(() => [udp.datagrams.length, http.requests.length], {
        message: 'two events on each transport',
      })
      .toEqual([2, 2]);

    for (const req of http.requests) {
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/v1/t');
      expect(req.headers['x-telemetry-key']).toBe(KEY);
      expect(req.headers['content-type']).toBe('application/json');
    }
    const viaHttp = http.requests.map((r) => parse(r.body));
    const viaUdp = udp.datagrams.map(parse);
    expect(viaUdp.map((e) => e.uuid).sort()).toEqual(viaHttp.map((e) => e.uuid).sort());
    const started = viaHttp.find((e) => e.event_label === 'runtime.run.started');
    const finished = viaHttp.find((e) => e.event_label === 'runtime.run.finished');
    expect(started?.payload).toMatchObject({ jit_enabled: true, accelerate_enabled: true });
    expect(started?.cid).toBe(readTelemetryId(join(home, '.runmat', 'telemetry_id')));
    expect(started?.session_id).toBe(finished?.session_id);
    expect(started?.release).toBe('0.4.9');
    expect(finished?.run_kind).toBe('script');
    expect(finished?.payload).toMatchObject({
      success: false,
      jit_used: true,
      error: 'RuntimeError',
      gpu_ratio: 1,
      fusion_hit_ratio: 0.75,
      gpu_dispatches: 4,
      'runtime.failure.stage': 'runtime',
      'runtime.failure.host': 'cli',
      'runtime.failure.code': 'RunMat:IndexOutOfBounds',
      provider: { device: { name: 'NVIDIA RTX 4090', vendor: 'NVIDIA', backend: 'cuda' } },
    });
    expect(finished?.payload.duration_us).toBe(summary.durationUs);
    // The listener records a request before the client has read the response.
    await expect.poll(() => t.stats().sent, { message: 'four successful deliveries' }).toBe(4);
    expect(t.stats()).toMatchObject({ sent: 4, failed: 0, dropped: 0, invalid: 0 });
  });

  it('resolves collector host names (localhost)', async () => {
    const t = telemetry(
      {},
      {
        http_endpoint: `http://localhost:${http.port}/v1/t`,
        udp_endpoint: `localhost:${udp.port}`,
      },
    );
    t.startRun({ kind: 'benchmark' });
    await expect
      .poll(() => [udp.datagrams.length, http.requests.length], {
        message: 'one event on each transport',
      })
      .toEqual([1, 1]);
  });

  it('a full queue drops and counts', async () => {
    const t = telemetry({}, { queue_size: 8, udp_endpoint: '' });
    for (let i = 0; i < 20; i++) t.startRun({ kind: 'repl' });
    expect(t.stats()).toMatchObject({ queued: 8, dropped: 12 });
    await expect.poll(() => t.stats().sent, { message: 'the 8 queued events' }).toBe(8);
    await t.shutdown();
    expect(http.requests).toHaveLength(8);
    expect(t.stats()).toMatchObject({ sent: 8, dropped: 12 });
  });

  it('sync_mode dispatches on the caller, before the next tick', async () => {
    const t = telemetry({}, { sync_mode: true, udp_endpoint: '' });
    t.startRun({ kind: 'script' });
    expect(t.stats()).toMatchObject({ queued: 0, inFlight: 1 });
    await expect.poll(() => http.requests.length, { message: 'one request' }).toBe(1);
  });

  it('drops events that do not fit the schema, and never sends an error message as the error class', async () => {
    const t = telemetry({}, { udp_endpoint: '' });
    expect(t.emit({ event_label: 'runtime.run.started', os: 'linux' })).toBe(false);
    expect(t.stats().invalid).toBe(1);
    t.startRun({ kind: 'script' }).finish({
      success: false,
      error: 'Index out of bounds in /home/me/x.m',
    });
    await expect.poll(() => http.requests.length, { message: 'two requests' }).toBe(2);
    const finished = http.requests
      .map((r) => parse(r.body))
      .find((e) => e.event_label === 'runtime.run.finished');
    expect(finished?.payload.error).toBeUndefined();
    expect(http.requests.some((r) => r.body.includes('/home/me'))).toBe(false);
  });

  it('installer sessions send each installer event at most once', async () => {
    const t = telemetry({}, { udp_endpoint: '' });
    const session = t.installer({ method: 'shell', platform: 'linux-x86_64' });
    expect(session.send('install_start')).toBe(true);
    expect(session.send('install_start')).toBe(false);
    expect(session.send('install_complete')).toBe(true);
    await expect.poll(() => http.requests.length, { message: 'two installer events' }).toBe(2);
    const labels = http.requests.map((r) => parse(r.body).event_label);
    expect(labels).toEqual(['install_start', 'install_complete']);
    expect(parse(http.requests[0]?.body ?? '')).toMatchObject({
      method: 'shell',
      platform: 'linux-x86_64',
      run_kind: 'install',
    });
  });

  it('show_payloads prints to stdout and RUNMAT_TELEMETRY_SHOW to stderr, and both still send', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const t = telemetry(
      { RUNMAT_TELEMETRY_SHOW: '1' },
      { show_payloads: true, udp_endpoint: '' },
      {
        stdout: (l) => out.push(l),
        stderr: (l) => err.push(l),
      },
    );
    t.startRun({ kind: 'kernel' });
    expect(out).toHaveLength(1);
    expect(err).toHaveLength(1);
    expect(out[0]).toMatch(/^\[runmat telemetry\] \{"event_label":"runtime.run.started"/);
    await expect.poll(() => http.requests.length, { message: 'the shown event' }).toBe(1);
    expect(`[runmat telemetry] ${http.requests[0]?.body}`).toBe(out[0]);
  });

  it('without an ingestion key and require_ingestion_key = true nothing is sent', async () => {
    const t = telemetry({ RUNMAT_TELEMETRY_KEY: '' });
    expect(t.enabled).toBe(true);
    expect(t.deliveryEnabled).toBe(false);
    expect(t.startRun({ kind: 'script' }).finish({ success: true }).emitted).toBe(false);
    await controlRunArrives(t.sessionId);
  });

  it.each([
    ['RUNMAT_NO_TELEMETRY=1', { RUNMAT_NO_TELEMETRY: '1' }, {}],
    ['RUNMAT_TELEMETRY=0', { RUNMAT_TELEMETRY: '0' }, {}],
    ['DO_NOT_TRACK=1', { DO_NOT_TRACK: '1' }, {}],
    ['enabled = false', {}, { enabled: false }],
  ] as const)(
    'with %s no datagram or request arrives and no id file appears',
    async (_name, env, toml) => {
      const t = telemetry(env, toml);
      expect(t.enabled).toBe(false);
      const summary = t
        .startRun({ kind: 'script', jitEnabled: true })
        .finish({ success: true, counters: { total_executions: 1 } });
      expect(summary).toMatchObject({
        emitted: false,
        success: true,
        counters: { total_executions: 1 },
      });
      await t.shutdown();
      expect(existsSync(join(home, '.runmat', 'telemetry_id'))).toBe(false);
      await controlRunArrives(t.sessionId);
    },
  );

  it('consent false sends nothing and gathers no GPU counters', async () => {
    const t = telemetry({}, {}, { telemetryConsent: false });
    const summary = t.startRun({ kind: 'script' }).finish({
      success: true,
      provider: { telemetry: { gpu_wall_ns: 5, gpu_dispatches: 1 } },
    });
    expect(summary.gpu).toBeUndefined();
    expect(existsSync(join(home, '.runmat', 'telemetry_id'))).toBe(false);
    await controlRunArrives(t.sessionId);
  });
});

/**
 * Proves a silent instance stayed silent without a fixed sleep: an enabled
 * control instance sends through the same listeners, and once its events are
 * in, nothing from the silent session may be there.
 */
async function controlRunArrives(silentSession: string): Promise<void> {
  const control = telemetry(
    { RUNMAT_NO_TELEMETRY: '', RUNMAT_TELEMETRY: '', DO_NOT_TRACK: '', RUNMAT_TELEMETRY_KEY: KEY },
    { enabled: true },
    { telemetryId: 'control-id' },
  );
  control.startRun({ kind: 'script' });
  await expect
    .poll(() => Math.min(udp.datagrams.length, http.requests.length), {
      message: 'the control event on both transports',
    })
    .toBeGreaterThanOrEqual(1);
  await control.shutdown();
  const all = [...udp.datagrams, ...http.requests.map((r) => r.body)];
  expect(all.every((raw) => parse(raw).cid === 'control-id')).toBe(true);
  expect(all.some((raw) => raw.includes(silentSession))).toBe(false);
}
