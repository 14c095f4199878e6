import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { childEnv, makeTempDir, parseSentLines, REPO_ROOT, SinkApi } from '../src/harness/index.js';

const run = promisify(execFile);

const SCRIPT = join(REPO_ROOT, 'packages/e2e/dist/local-pipeline.js');
const EPHEMERAL = {
  FAKE_SINK_PORT: '0',
  WORKER_PORT: '0',
  METRICS_PORT: '0',
  UDP_PORT: '0',
  HEALTH_PORT: '0',
};

interface Local {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: Local[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const l of running.splice(0)) {
    l.child.kill('SIGKILL');
    await l.exit;
  }
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** Starts the built local command the way `pnpm local` does (node dist/local-pipeline.js). */
function startLocal(args: string[], env: Record<string, string>): Local {
  if (!existsSync(SCRIPT))
    throw new Error(`${SCRIPT} is missing: build @runmat-telemetry/e2e first`);
  const child = spawn(process.execPath, [SCRIPT, ...args], {
    cwd: join(REPO_ROOT, 'packages/e2e'),
    env: childEnv({
      HOME: makeTempDir('runmat-e2e-home-'),
      LOCAL_DIR: makeTempDir('runmat-e2e-local-'),
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const local = { child, stdout: () => out, stderr: () => err, exit };
  running.push(local);
  return local;
}

async function occupy(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const ARRIVAL =
  /^\s+(posthog|ga4)\s+(runtime\.run\.(?:started|finished)|runtime_run_(?:started|finished))\s+distinct=\S+\s+uuid=[0-9a-f-]{36}\s+via (udp|http)$/gm;

describe('the local pipeline command', () => {
  it('--once: starts everything, delivers a UDP and an HTTP demo run, prints them, stops cleanly', async () => {
    const localDir = makeTempDir('runmat-e2e-local-');
    const local = startLocal(['--once'], { ...EPHEMERAL, LOCAL_DIR: localDir });
    const { code } = await local.exit;
    const out = local.stdout();
    expect(code, `${out}\n${local.stderr()}`).toBe(0);

    const arrivals = [...out.matchAll(ARRIVAL)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    // 2 events x 2 destinations x 2 transports, each exactly once.
    expect(arrivals.sort()).toEqual(
      [
        'ga4 runtime_run_finished http',
        'ga4 runtime_run_finished udp',
        'ga4 runtime_run_started http',
        'ga4 runtime_run_started udp',
        'posthog runtime.run.finished http',
        'posthog runtime.run.finished udp',
        'posthog runtime.run.started http',
        'posthog runtime.run.started udp',
      ].sort(),
    );
    expect(out).not.toMatch(/GA4 validation problem/);

    const key = /ingestion key\s+(dev_[0-9a-f]+)/.exec(out)?.[1];
    expect(key).toBeDefined();
    const sinkUrl = /sink page: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
    expect(sinkUrl).toBeDefined();
    const toml = join(localDir, 'runmat.toml');
    expect(out).toContain(`RUNMAT_CONFIG=${toml} RUNMAT_TELEMETRY_KEY=${key} node `);
    expect(readFileSync(toml, 'utf8')).toMatch(
      /http_endpoint = "http:\/\/127\.0\.0\.1:\d+\/v1\/t"/,
    );
    expect(out).toContain('stopped.');

    // Every child is gone: the sink no longer answers.
    await expect(fetch(`${sinkUrl}/_sink/stats`)).rejects.toThrow();
  });

  it('runs until SIGINT, takes more events from the printed emit command, then stops cleanly', async () => {
    const local = startLocal([], EPHEMERAL);
    await expect
      .poll(() => local.stdout(), {
        timeout: 30_000,
        message: 'the local pipeline to be up',
      })
      .toContain('press Ctrl-C to stop');
    const workerUrl = /worker\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(local.stdout())?.[1];
    expect((await fetch(`${workerUrl}/healthz`)).status).toBe(200);
    // Metrics on the printed metrics listener, never on the public port.
    const metricsUrl = /worker metrics\s+(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(
      local.stdout(),
    )?.[1];
    expect(metricsUrl).toBeDefined();
    expect((await fetch(`${workerUrl}/metrics`)).status).toBe(404);
    expect(await (await fetch(metricsUrl as string)).text()).toContain(
      'runmat_worker_events_accepted_total',
    );

    // The printed command, run as a user would paste it.
    const printed = /RUNMAT_CONFIG=(\S+) RUNMAT_TELEMETRY_KEY=(\S+) node (\S+) emit/.exec(
      local.stdout(),
    );
    expect(printed).not.toBeNull();
    const [, config, key, cli] = printed as RegExpExecArray;
    const home = makeTempDir('runmat-e2e-home-');
    const emitted = await run(process.execPath, [cli as string, 'emit'], {
      env: childEnv({
        RUNMAT_CONFIG: config,
        RUNMAT_TELEMETRY_KEY: key,
        HOME: home,
        USERPROFILE: home,
      }),
    });
    const sent = parseSentLines(emitted.stdout);
    expect(sent.map((s) => s.via.join(','))).toEqual(['udp,http', 'udp,http']);
    const sinkUrl = /sink page: (http:\/\/127\.0\.0\.1:\d+)\//.exec(local.stdout())?.[1] as string;
    const sink = new SinkApi(sinkUrl);
    for (const s of sent) expect((await sink.waitForUuid(s.uuid)).event).toBe(s.event);
    local.child.kill('SIGINT');
    expect(await local.exit).toEqual({ code: 0, signal: null });
    expect(local.stdout()).toContain('stopped.');
    await expect(fetch(`${workerUrl}/healthz`)).rejects.toThrow();
  });

  it('names a taken port and the variable to change, before starting anything', async () => {
    const taken = await occupy();
    const local = startLocal(['--once'], { ...EPHEMERAL, WORKER_PORT: String(taken) });
    expect((await local.exit).code).toBe(1);
    expect(local.stderr()).toContain(
      `port ${taken} is in use (WORKER_PORT): set WORKER_PORT=<free port> and rerun`,
    );
    expect(local.stdout()).not.toContain('starting');
  });

  it('rejects a malformed port variable with a one-line message', async () => {
    const local = startLocal(['--once'], { ...EPHEMERAL, UDP_PORT: 'abc' });
    expect((await local.exit).code).toBe(1);
    expect(local.stderr().trim()).toBe(
      'local pipeline: invalid UDP_PORT: expected an integer 0-65535, got "abc"',
    );
  });
});
