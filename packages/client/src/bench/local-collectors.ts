import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';

/** A loopback collector for the benchmark: HTTP (answering 202, or never) plus UDP. */
export interface BenchCollector {
  httpUrl: string;
  udpEndpoint: string;
  received(): number;
  close(): Promise<void>;
}

/** Starts an HTTP listener (`blackhole`: reads requests, never answers) and a UDP socket on 127.0.0.1. */
export async function startBenchCollector(blackhole: boolean): Promise<BenchCollector> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count++;
      if (!blackhole)
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  // The black-holed UDP port is bound but never read, so datagrams vanish without an ICMP error.
  const udp: UdpSocket = createSocket('udp4');
  if (!blackhole) udp.on('message', () => count++);
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  return {
    httpUrl: `http://127.0.0.1:${port}/v1/t`,
    udpEndpoint: `127.0.0.1:${udp.address().port}`,
    received: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => udp.close(() => r()));
    },
  };
}
