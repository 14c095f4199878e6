import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface UdpCollector {
  port: number;
  datagrams: string[];
  close(): Promise<void>;
}

/** A real UDP listener on loopback; keeps every datagram. */
export async function startUdpCollector(): Promise<UdpCollector> {
  const socket = createSocket('udp4');
  const datagrams: string[] = [];
  socket.on('message', (msg) => datagrams.push(msg.toString('utf8')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    port: socket.address().port,
    datagrams,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpCollector {
  port: number;
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP listener on loopback. `blackhole` accepts connections and
 * reads requests but never answers, like a collector that hung.
 */
export async function startHttpCollector(
  opts: { status?: number; blackhole?: boolean } = {},
): Promise<HttpCollector> {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (opts.blackhole) return;
      res.writeHead(opts.status ?? 202, { 'content-type': 'application/json' });
      res.end('{"status":"accepted"}');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `http://127.0.0.1:${port}/v1/t`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix = 'runmat-client-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a project `runmat.toml` with a `[runtime.telemetry]` section and returns its path. */
export function writeProjectToml(
  dir: string,
  values: Record<string, string | number | boolean>,
): string {
  const lines = ['[runtime.telemetry]'];
  for (const [k, v] of Object.entries(values))
    lines.push(`${k} = ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
  const path = join(dir, 'runmat.toml');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}
