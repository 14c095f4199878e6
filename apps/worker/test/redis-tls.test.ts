import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CANONICAL_FINISHED_EXAMPLE } from '@runmat-telemetry/schema';
import { freePort, REDIS_SERVER, requireComponent } from '@runmat-telemetry/test-kit';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WorkerApp } from '../src/app.js';
import { type CaptureForwarder, captureApp, KEY, uuid } from './helpers.js';
import { metricSum, waitConnected } from './redis-helpers.js';

// Memorystore with AUTH and in-transit encryption, played by a local
// redis-server with --requirepass and a TLS port whose certificate is signed
// by a CA of the test's own (as Memorystore's is signed by a per-instance
// CA): the worker reaches it only when DEDUPE_REDIS_CA names that CA.

const PASSWORD = 'tls-test-auth-string-0f3c';
let dir: string;
let server: ChildProcess | undefined;
let port = 0;
const apps: Array<WorkerApp & { sink: CaptureForwarder }> = [];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat(
      ['-days', '2', '-subj', '/CN=worker-test-ca'],
    ),
  );
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr'].concat([
      '-subj',
      '/CN=127.0.0.1',
    ]),
  );
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key'].concat([
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'san.cnf',
    ]),
  );
  port = await freePort();
  server = spawn(
    requireComponent(REDIS_SERVER),
    ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1']
      .concat([
        '--tls-cert-file',
        join(dir, 'server.crt'),
        '--tls-key-file',
        join(dir, 'server.key'),
      ])
      .concat(['--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no'])
      .concat(['--requirepass', PASSWORD, '--save', '', '--appendonly', 'no']),
    { stdio: 'ignore' },
  );
  const probe = new Redis(`rediss://:${PASSWORD}@127.0.0.1:${port}`, {
    tls: { ca: readFileSync(join(dir, 'ca.crt'), 'utf8') },
    lazyConnect: true,
    retryStrategy: () => 50,
  });
  probe.on('error', () => {});
  await vi.waitFor(
    async () => {
      if (probe.status !== 'ready') await probe.connect();
      expect(await probe.ping()).toBe('PONG');
    },
    { timeout: 10_000, interval: 50 },
  );
  probe.disconnect();
});

afterAll(async () => {
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const a of apps.splice(0)) await a.app.close();
});

const json = { 'content-type': 'application/json', 'x-telemetry-key': KEY };

function worker(env: Record<string, string>, lines: string[] = []) {
  const a = captureApp(env, {
    logger: { level: 'info', stream: { write: (line: string) => lines.push(line) } },
  });
  apps.push(a);
  return a;
}

const ingest = (a: WorkerApp, id: string) =>
  a.app.inject({
    method: 'POST',
    url: '/ingest',
    headers: json,
    payload: { ...CANONICAL_FINISHED_EXAMPLE, uuid: id },
  });

describe('shared dedupe over TLS with AUTH (rediss://)', () => {
  it('trusts the server through DEDUPE_REDIS_CA (a file path) and shares claims', async () => {
    const env = {
      DEDUPE_REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${port}`,
      DEDUPE_REDIS_CA: join(dir, 'ca.crt'),
    };
    const lines: string[] = [];
    const a = worker(env, lines);
    const b = worker(env, lines);
    await waitConnected(a);
    await waitConnected(b);
    const id = uuid();
    expect((await ingest(a, id)).json().status).toBe('accepted');
    expect((await ingest(b, id)).json().status).toBe('duplicate');
    expect(await metricSum(b.metrics.dedupeKeys, { result: 'duplicate' })).toBe(1);
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  it('refuses a server its CA bundle does not vouch for, and fails open', async () => {
    const lines: string[] = [];
    // No DEDUPE_REDIS_CA: Node's public CAs, which never signed this certificate.
    const a = worker({ DEDUPE_REDIS_URL: `rediss://:${PASSWORD}@127.0.0.1:${port}` }, lines);
    // The seam: the client reports the failed connection before any claim is made.
    await expect
      .poll(() => lines.some((l) => l.includes('shared dedupe connection error')))
      .toBe(true);
    expect(await metricSum(a.metrics.dedupeConnected)).toBe(0);
    expect((await ingest(a, uuid())).json().status).toBe('accepted');
    expect(await metricSum(a.metrics.dedupeFailOpen, { reason: 'error' })).toBe(1);
    const log = lines.join('\n');
    expect(log).toMatch(/certificate/i);
    expect(log).not.toContain(PASSWORD);
  });

  it('fails open on a wrong AUTH password, never logging either password', async () => {
    const lines: string[] = [];
    const a = worker(
      {
        DEDUPE_REDIS_URL: `rediss://:not-the-password-9d1e@127.0.0.1:${port}`,
        DEDUPE_REDIS_CA: join(dir, 'ca.crt'),
      },
      lines,
    );
    // The seam: the client reports the failed connection before any claim is made.
    await expect
      .poll(() => lines.some((l) => l.includes('shared dedupe connection error')))
      .toBe(true);
    expect((await ingest(a, uuid())).json().status).toBe('accepted');
    expect(await metricSum(a.metrics.dedupeFailOpen, { reason: 'error' })).toBe(1);
    const log = lines.join('\n');
    expect(log).not.toContain('not-the-password-9d1e');
    expect(log).not.toContain(PASSWORD);
  });
});
