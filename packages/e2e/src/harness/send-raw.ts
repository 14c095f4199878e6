import { createSocket } from 'node:dgram';
import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import { request } from 'undici';

/**
 * Sends each payload as one UDP datagram to `host:port`, the way a RunMat
 * client does, bypassing the client library so tests can send what a hostile
 * or buggy client would.
 */
export async function sendDatagrams(
  host: string,
  port: number,
  payloads: readonly (string | object)[],
): Promise<void> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    for (const payload of payloads) {
      const bytes = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
      await new Promise<void>((resolve, reject) => {
        socket.send(bytes, port, host, (err) => (err ? reject(err) : resolve()));
      });
    }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

export interface PostResult {
  status: number;
  body: unknown;
}

/** POSTs one JSON body to a worker route with the ingestion key header (omitted when `key` is undefined). */
export async function postJson(
  url: string,
  key: string | undefined,
  body: unknown,
): Promise<PostResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== undefined) headers[INGESTION_KEY_HEADER] = key;
  const res = await request(url, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Keep the text: the status is what most callers check.
  }
  return { status: res.statusCode, body: parsed };
}
