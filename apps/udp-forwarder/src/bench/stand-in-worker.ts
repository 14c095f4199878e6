import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A minimal `/v1/batch` that accepts everything: measures the forwarder without the worker's cost. */
export interface StandInWorker {
  url: string;
  events(): number;
  close(): Promise<void>;
}

export async function startStandInWorker(): Promise<StandInWorker> {
  let events = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: unknown[] }).events
        .length;
      events += n;
      const results = `[${Array.from({ length: n }, () => '{"status":"accepted"}').join(',')}]`;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"accepted":${n},"duplicates":0,"rejected":0,"results":${results}}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events: () => events,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
