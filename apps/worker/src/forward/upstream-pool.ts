import { Pool } from 'undici';

/** A kept-alive undici pool to an upstream's origin: `connections` sockets, one attempt's timeout. */
export function upstreamPool(url: URL, connections: number, timeoutMs: number): Pool {
  return new Pool(url.origin, {
    connections,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    keepAliveTimeout: 30_000,
  });
}
