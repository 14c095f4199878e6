import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';

export interface PacedResult {
  sent: number;
  sendErrors: number;
  elapsedMs: number;
}

/**
 * Sends `rate` datagrams per second for `durationMs` to 127.0.0.1:port. The
 * schedule is by deficit (how many should have gone by now), so a late tick
 * catches up instead of lowering the average rate.
 */
export async function sendPaced(
  port: number,
  rate: number,
  durationMs: number,
  payload: (i: number) => string,
): Promise<PacedResult> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.connect(port, '127.0.0.1', resolve));
  const total = Math.round((rate * durationMs) / 1000);
  let sent = 0;
  let sendErrors = 0;
  const onSent = (err: Error | null) => {
    if (err) sendErrors++;
  };
  const start = performance.now();
  while (sent < total) {
    const due = Math.min(total, Math.floor((rate * (performance.now() - start)) / 1000));
    while (sent < due) {
      socket.send(payload(sent), onSent);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const elapsedMs = performance.now() - start;
  // Let queued sends complete before closing.
  await new Promise((r) => setTimeout(r, 50));
  socket.close();
  return { sent, sendErrors, elapsedMs };
}
