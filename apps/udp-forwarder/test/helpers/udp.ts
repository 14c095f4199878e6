import { randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { CANONICAL_STARTED_EXAMPLE } from '@runmat-telemetry/schema';

/** A valid started event with a fresh uuid. */
export function validEvent(): Record<string, unknown> {
  return { ...CANONICAL_STARTED_EXAMPLE, uuid: randomUUID() };
}

/**
 * Sends datagrams to 127.0.0.1:port, a few at a time so a small test burst
 * never overflows a loopback buffer (the tests count exactly).
 */
export async function sendDatagrams(port: number, payloads: (string | Buffer)[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < payloads.length; i++) {
      const payload = payloads[i] as string | Buffer;
      await new Promise<void>((resolve, reject) =>
        socket.send(payload, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
  } finally {
    socket.close();
  }
}
