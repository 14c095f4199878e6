import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { expect } from 'vitest';
import type { WorkerApp } from '../src/app.js';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A TCP server that accepts connections and never sends a byte: a hung Redis. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listen(server);
  return { url: `redis://127.0.0.1:${port}`, close: () => closeServer(server, sockets) };
}

/**
 * A TCP proxy in front of a real Redis whose replies can be delayed or held
 * back: what a slow or stalled Redis looks like to a client that is already
 * connected (commands arrive, answers do not).
 */
export interface RedisProxy {
  url: string;
  /** Holds every reply from now on (the connection stays open). */
  freeze(): void;
  /** Lets held and later replies through again. */
  thaw(): void;
  /** Delays every reply by `ms` (0: none). */
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startRedisProxy(targetPort: number): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  let delayMs = 0;
  const held: Array<() => void> = [];
  const server = createServer((client) => {
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      const send = () => {
        if (!client.destroyed) client.write(d);
      };
      if (frozen) held.push(send);
      else if (delayMs > 0) setTimeout(send, delayMs);
      else send();
    });
  });
  const port = await listen(server);
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const send of held.splice(0)) send();
    },
    delay: (ms) => {
      delayMs = ms;
    },
    close: () => closeServer(server, sockets),
  };
}

/** Sum of a counter's (or gauge's) values whose labels include `labels`. */
export async function metricSum(
  metric: {
    get(): Promise<{ values: Array<{ value: number; labels: object; metricName?: string }> }>;
  },
  labels: Record<string, string> = {},
  metricName?: string,
): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => metricName === undefined || v.metricName === metricName)
    .filter((v) =>
      Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
    )
    .reduce((a, v) => a + v.value, 0);
}

/** Claims sent to Redis so far (the round-trip histogram's count, every outcome). */
export async function roundTrips(app: WorkerApp, outcome?: string): Promise<number> {
  return metricSum(
    app.metrics.dedupeRoundTrip,
    outcome === undefined ? {} : { outcome },
    'runmat_worker_dedupe_redis_round_trip_seconds_count',
  );
}

/** Waits until the app's Redis connection is ready (its connected gauge at 1). */
export async function waitConnected(app: WorkerApp, timeoutMs = 5000): Promise<void> {
  await expect
    .poll(() => metricSum(app.metrics.dedupeConnected), {
      timeout: timeoutMs,
      message: 'the worker to connect to Redis',
    })
    .toBe(1);
}
