import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { PortSetting } from './port-env.js';

// The wildcard address conflicts with a listener on any IPv4 address,
// including the 127.0.0.1 the pipeline binds, so one probe covers both.
const PROBE_HOST = '0.0.0.0';

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: PROBE_HOST, exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ port, address: PROBE_HOST, exclusive: true }, () =>
      socket.close(() => resolve(true)),
    );
  });
}

/** The settings whose fixed port is already taken (port 0 is never checked: it is always free). */
export async function takenPorts(settings: readonly PortSetting[]): Promise<PortSetting[]> {
  const taken: PortSetting[] = [];
  for (const s of settings) {
    if (s.port === 0) continue;
    const free = s.protocol === 'udp' ? await udpFree(s.port) : await tcpFree(s.port);
    if (!free) taken.push(s);
  }
  return taken;
}

/** The message printed for a taken port: it names the port and the variable to change. */
export function portInUseMessage(s: PortSetting): string {
  return `port ${s.port} is in use (${s.variable}): set ${s.variable}=<free port> and rerun`;
}
