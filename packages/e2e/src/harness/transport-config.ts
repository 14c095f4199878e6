import { createServer } from 'node:net';
import type { ClientTelemetryConfig } from './run-client.js';
import type { PipelineEndpoints } from './start-pipeline.js';

export type TransportMode = 'udp' | 'http' | 'both';

/** A loopback TCP port that was free a moment ago and has nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The client's endpoints for one transport mode. The client always has an
 * HTTP endpoint ("" means the hosted one, which a test must never reach), so
 * "UDP only" points HTTP at a closed loopback port: the request is refused
 * on the spot and only the datagram can deliver.
 */
export async function transportConfig(
  endpoints: PipelineEndpoints,
  mode: TransportMode,
): Promise<ClientTelemetryConfig> {
  const udp = mode === 'http' ? '' : endpoints.udpEndpoint;
  const http =
    mode === 'udp' ? `http://127.0.0.1:${await closedPort()}/v1/t` : endpoints.httpEndpoint;
  return { udp, http };
}
