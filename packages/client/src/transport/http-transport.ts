import { type ClientRequest, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import { createCancellableLookup } from './cancellable-lookup.js';
import type { Transport } from './transport.js';

/** Options for {@link createHttpTransport}. */
export interface HttpTransportOptions {
  endpoint: string;
  ingestionKey: string;
  /** Per-request timeout; short because nobody waits for telemetry. */
  timeoutMs?: number;
  /** DNS servers for the collector's name (default: the system's). */
  dnsServers?: string[];
}

/** Default per-request timeout. */
export const HTTP_TIMEOUT_MS = 2000;

/**
 * POSTs each event as JSON with `x-telemetry-key`. Built on node:http rather
 * than fetch because fetch's sockets hold the event loop open: every socket
 * here is unref'd, so an unanswered request can never keep the host process
 * alive (the drain bound in `shutdown()` is the only wait).
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const url = new URL(options.endpoint);
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 4 })
    : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const send = secure ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? HTTP_TIMEOUT_MS;
  const active = new Set<ClientRequest>();
  const dns = createCancellableLookup(options.dnsServers);

  return {
    name: 'http',
    send(body) {
      return new Promise<void>((resolve, reject) => {
        const headers: Record<string, string | number> = {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'runmat-telemetry-client',
        };
        if (options.ingestionKey) headers[INGESTION_KEY_HEADER] = options.ingestionKey;
        const req = send(url, {
          method: 'POST',
          agent,
          headers,
          timeout: timeoutMs,
          lookup: dns.lookup as never,
        });
        active.add(req);
        // Pooled sockets are re-ref'd on reuse, so unref on every assignment.
        req.on('socket', (socket) => socket.unref());
        req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
        req.on('error', (err) => {
          active.delete(req);
          reject(err);
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => {
            active.delete(req);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`HTTP ${status}`));
          });
          res.on('error', (err) => {
            active.delete(req);
            reject(err);
          });
        });
        req.end(body);
      });
    },
    abortAll() {
      dns.cancel();
      for (const req of active) req.destroy(new Error('aborted at drain deadline'));
      active.clear();
    },
    close() {
      this.abortAll();
      agent.destroy();
    },
  };
}
