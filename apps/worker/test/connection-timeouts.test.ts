import { connect, type Socket } from 'node:net';
import { CANONICAL_FINISHED_EXAMPLE } from '@runmat-telemetry/schema';
import { afterEach, describe, expect, it } from 'vitest';
import type { WorkerApp } from '../src/app.js';
import { captureApp, KEY, uuid } from './helpers.js';

// These run the worker on a real loopback port: timeouts live in Node's HTTP
// server, which app.inject() bypasses.

let worker: WorkerApp | undefined;
afterEach(async () => {
  await worker?.app.close();
  worker = undefined;
});

async function listen(env: Record<string, string>): Promise<number> {
  worker = captureApp(env);
  await worker.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = worker.app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no address');
  return addr.port;
}

async function open(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** Resolves with what the server wrote before closing, or null at the deadline. */
function closedWithin(socket: Socket, ms: number): Promise<string | null> {
  let answer = '';
  socket.on('data', (d) => {
    answer += d.toString('latin1');
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

/** Sends one request on `socket` and resolves with the raw response once it is complete. */
function roundTrip(socket: Socket, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const onData = (d: Buffer) => {
      answer += d.toString('latin1');
      const end = answer.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(answer)?.[1];
      if (end >= 0 && len !== undefined && answer.length >= end + 4 + Number(len)) {
        socket.off('data', onData);
        resolve(answer);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed; got ${JSON.stringify(answer)}`)));
    socket.write(
      `POST /ingest HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-telemetry-key: ${KEY}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
}

describe('connection timeouts', () => {
  it('cuts off a client trickling its body after REQUEST_TIMEOUT_MS', async () => {
    const port = await listen({ REQUEST_TIMEOUT_MS: '1000' });
    const socket = await open(port);
    socket.write(
      `POST /ingest HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nx-telemetry-key: ${KEY}\r\ncontent-length: 1000\r\n\r\n{`,
    );
    const trickle = setInterval(() => socket.write(' '), 100);
    const started = Date.now();
    try {
      const answer = await closedWithin(socket, 4000);
      expect(answer, 'connection closed by the server').not.toBeNull();
      expect(answer).toMatch(/^(HTTP\/1\.1 408|$)/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  }, 10_000);

  it('defaults to a 10 s request timeout and a 65 s keep-alive', async () => {
    await listen({});
    const server = worker!.app.server;
    expect(server.requestTimeout).toBe(10_000);
    expect(server.keepAliveTimeout).toBe(65_000);
  });

  it('keeps an idle keep-alive connection open past the request timeout', async () => {
    const port = await listen({ REQUEST_TIMEOUT_MS: '1000' });
    const socket = await open(port);
    try {
      const body = () => JSON.stringify({ ...CANONICAL_FINISHED_EXAMPLE, uuid: uuid() });
      expect(await roundTrip(socket, body())).toMatch(/^HTTP\/1\.1 202/);
      await new Promise((r) => setTimeout(r, 2500));
      expect(await roundTrip(socket, body())).toMatch(/^HTTP\/1\.1 202/);
    } finally {
      socket.destroy();
    }
  }, 10_000);
});
