import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** Where a listening sink can be reached. */
export interface BoundAddress {
  host: string;
  port: number;
  url: string;
}

/** `http://host:port`, with IPv6 hosts bracketed. */
export function urlFor(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Listens without Fastify's own "Server listening at" log line, so a process
 * prints exactly one `listening` line that harnesses can read ports from.
 */
export async function listenQuietly(
  app: FastifyInstance,
  port: number,
  host: string,
): Promise<BoundAddress> {
  await app.ready();
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    app.server.once('error', onError);
    app.server.listen(port, host, () => {
      app.server.off('error', onError);
      resolve();
    });
  });
  const address = app.server.address() as AddressInfo;
  return { host, port: address.port, url: urlFor(host, address.port) };
}
