import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { REPO_ROOT } from '../harness/index.js';
import { type HttpLoadResult, httpLoad } from './http-load.js';
import { sendPaced } from './paced-sender.js';

// The bare servers run on a thread of their own so they do not share an
// event loop with the load generator, as the real worker and forwarder don't.
const BARE_FASTIFY = `
const { parentPort, workerData } = require('node:worker_threads');
const fastify = require(workerData.fastifyPath);
const app = fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/v1/t', async (_req, reply) => {
  reply.code(202);
  return { status: 'accepted', uuid: '00000000-0000-4000-8000-000000000000' };
});
app.listen({ port: 0, host: '127.0.0.1' }).then((address) => parentPort.postMessage({ address }));
parentPort.on('message', () => app.close().then(() => process.exit(0)));
`;

const BARE_DGRAM = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 * 1024 * 1024 });
let received = 0, first = 0, last = 0;
socket.on('message', () => { const now = performance.now(); if (received === 0) first = now; received++; last = now; });
socket.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: socket.address().port }));
parentPort.on('message', () => { parentPort.postMessage({ received, seconds: (last - first) / 1000 }); socket.close(); process.exit(0); });
`;

function startThread(
  code: string,
  workerData: unknown,
): { worker: Worker; first: Promise<unknown> } {
  const worker = new Worker(code, { eval: true, workerData });
  const first = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, first };
}

/**
 * The HTTP ceiling: a bare Fastify app (the worker's own Fastify, resolved
 * from apps/worker so versions match) answering the same POST with 202 and a
 * small JSON body, no auth, validation or queue; driven by the same load loop.
 */
export async function bareFastifyCeiling(
  bodies: readonly string[],
  inFlight: number,
): Promise<HttpLoadResult> {
  const fastifyPath = createRequire(join(REPO_ROOT, 'apps/worker/package.json')).resolve('fastify');
  const { worker, first } = startThread(BARE_FASTIFY, { fastifyPath });
  const { address } = (await first) as { address: string };
  try {
    const headers = { 'content-type': 'application/json' };
    return await httpLoad(address, '/v1/t', headers, bodies, inFlight, 202);
  } finally {
    worker.postMessage('stop');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
}

export interface DgramCeiling {
  sent: number;
  received: number;
  seconds: number;
  receivedPerSecond: number;
}

/**
 * The UDP ceiling: a bare dgram socket (8 MiB receive buffer, as the
 * forwarder asks for) that only counts what it reads, fed by the same paced
 * sender as the forwarder, at `rate`.
 */
export async function bareDgramCeiling(
  payload: Buffer,
  count: number,
  rate: number,
): Promise<DgramCeiling> {
  const { worker, first } = startThread(BARE_DGRAM, undefined);
  const { port } = (await first) as { port: number };
  const sent = await sendPaced('127.0.0.1', port, count, rate, () => payload);
  // Let the reader drain its buffer before asking for the count.
  await delay(300);
  const done = new Promise<{ received: number; seconds: number }>((resolve) =>
    worker.once('message', resolve),
  );
  worker.postMessage('stop');
  const { received, seconds } = await done;
  return {
    sent: sent.sent,
    received,
    seconds: Math.round(seconds * 1000) / 1000,
    receivedPerSecond: seconds > 0 ? Math.round(received / seconds) : 0,
  };
}
