import { Pool } from 'undici';
import { percentile, round } from './figure.js';

export interface HttpLoadResult {
  requests: number;
  ok: number;
  /** Status code -> count, for everything that was not the expected status. */
  otherStatuses: Record<string, number>;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * POSTs every body to `origin + path` with `inFlight` requests at a time over
 * keep-alive connections. The same loop drives the worker and the bare
 * Fastify ceiling, so their ratio measures the worker, not the client.
 */
export async function httpLoad(
  origin: string,
  path: string,
  headers: Record<string, string>,
  bodies: readonly string[],
  inFlight: number,
  okStatus: number,
): Promise<HttpLoadResult> {
  const pool = new Pool(origin, { connections: inFlight, pipelining: 1 });
  const latencies: number[] = [];
  const other: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const body = bodies[next++];
      if (body === undefined) return;
      const t0 = performance.now();
      const res = await pool.request({ path, method: 'POST', headers, body });
      await res.body.dump();
      latencies.push(performance.now() - t0);
      if (res.statusCode === okStatus) ok++;
      else other[res.statusCode] = (other[res.statusCode] ?? 0) + 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, lane));
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: bodies.length,
    ok,
    otherStatuses: other,
    seconds: round(seconds, 3),
    requestsPerSecond: Math.round(bodies.length / seconds),
    p50Ms: round(percentile(latencies, 0.5)),
    p99Ms: round(percentile(latencies, 0.99)),
  };
}
