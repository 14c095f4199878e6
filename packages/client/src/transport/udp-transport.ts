import { createSocket, type Socket } from 'node:dgram';
import { MAX_EVENT_BYTES } from '@runmat-telemetry/schema';
import { createCancellableLookup } from './cancellable-lookup.js';
import type { Transport } from './transport.js';
import { parseUdpEndpoint } from './udp-endpoint.js';

/**
 * One JSON event per datagram. The socket is opened on the first send (so a
 * disabled client never opens one) and unref'd, so it never keeps the host
 * process alive.
 */
export function createUdpTransport(endpoint: string, dnsServers?: string[]): Transport {
  const target = parseUdpEndpoint(endpoint);
  if (!target) throw new Error(`invalid UDP endpoint "${endpoint}"`);
  let socket: Socket | undefined;
  const pending = new Set<(err: Error) => void>();
  const dns = createCancellableLookup(dnsServers);

  const open = (): Socket => {
    if (socket) return socket;
    const s = createSocket({
      type: target.host.includes(':') ? 'udp6' : 'udp4',
      lookup: dns.lookup as never,
    });
    s.on('error', () => {
      // Errors surface through send callbacks; an unhandled 'error' would crash the host.
    });
    s.unref();
    socket = s;
    return s;
  };

  return {
    name: 'udp',
    send(body) {
      const bytes = Buffer.from(body, 'utf8');
      if (bytes.byteLength > MAX_EVENT_BYTES) {
        return Promise.reject(
          new Error(
            `event is ${bytes.byteLength} bytes, over the ${MAX_EVENT_BYTES}-byte datagram limit`,
          ),
        );
      }
      return new Promise<void>((resolve, reject) => {
        pending.add(reject);
        open().send(bytes, target.port, target.host, (err) => {
          pending.delete(reject);
          if (err) reject(err);
          else resolve();
        });
      });
    },
    abortAll() {
      dns.cancel();
      for (const reject of pending) reject(new Error('aborted at drain deadline'));
      pending.clear();
    },
    close() {
      this.abortAll();
      try {
        socket?.close();
      } catch {
        // already closed
      }
      socket = undefined;
    },
  };
}
