import { createServer } from 'node:net';

/**
 * A loopback TCP port that was free a moment ago, for a process that must be
 * told its port up front (and restarted on the same one). Prefer port 0 and
 * the process's `listening` line wherever the process allows it.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
