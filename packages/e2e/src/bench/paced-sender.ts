import { createSocket } from 'node:dgram';
import { setTimeout as delay } from 'node:timers/promises';

export interface PacedSendResult {
  sent: number;
  sendErrors: number;
  elapsedMs: number;
}

/**
 * Sends `total` datagrams (built by `make(i)`) to `host:port` at about
 * `ratePerSec`, in small slices every few milliseconds so the rate holds
 * without a timer per datagram. `shouldStop` ends the run early.
 */
export async function sendPaced(
  host: string,
  port: number,
  total: number,
  ratePerSec: number,
  make: (i: number) => Buffer,
  shouldStop: () => boolean = () => false,
): Promise<PacedSendResult> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('error', () => {});
  let sent = 0;
  let sendErrors = 0;
  const started = performance.now();
  try {
    while (sent < total && !shouldStop()) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * ratePerSec));
      const sends: Promise<void>[] = [];
      for (; sent < due; sent++) {
        const bytes = make(sent);
        sends.push(
          new Promise<void>((resolve) => {
            socket.send(bytes, port, host, (err) => {
              if (err) sendErrors++;
              resolve();
            });
          }),
        );
      }
      await Promise.all(sends);
      if (sent < total) await delay(2);
    }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return { sent, sendErrors, elapsedMs: performance.now() - started };
}
