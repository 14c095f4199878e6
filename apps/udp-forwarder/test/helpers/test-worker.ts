import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One `/v1/batch` request as the stand-in worker saw it. */
export interface RecordedBatch {
  headers: http.IncomingHttpHeaders;
  items: { event: Record<string, unknown>; client_ip?: string; received_at?: number }[];
  at: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Decides the answer to the n-th request (0-based); undefined means 200 with all accepted. */
export type Responder = (n: number, batch: RecordedBatch) => Reply | undefined;

/**
 * A small node:http server standing in for the worker's `/v1/batch`: records
 * every request, answers what the test says, and can go down and come back on
 * the same port.
 */
export class TestWorker {
  readonly batches: RecordedBatch[] = [];
  /** Every request, including refused ones. */
  requests = 0;
  /** When each request arrived and how it was answered. */
  readonly log: { at: number; status: number; size: number }[] = [];
  responder: Responder = () => undefined;
  private server: http.Server | undefined;
  private boundPort = 0;

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}/v1/batch`;
  }

  /** Events from batches answered 2xx, in arrival order. */
  delivered(): RecordedBatch['items'] {
    return this.batches.flatMap((b) => b.items);
  }

  deliveredUuids(): Set<string> {
    return new Set(this.delivered().map((i) => String(i.event.uuid)));
  }

  async listen(port = this.boundPort): Promise<void> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const n = this.requests++;
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          events: RecordedBatch['items'];
        };
        const batch: RecordedBatch = { headers: req.headers, items: parsed.events, at: Date.now() };
        const reply = this.responder(n, batch) ?? {
          status: 200,
          body: {
            accepted: batch.items.length,
            duplicates: 0,
            rejected: 0,
            results: batch.items.map(() => ({ status: 'accepted' })),
          },
        };
        this.log.push({ at: batch.at, status: reply.status, size: batch.items.length });
        if (reply.status >= 200 && reply.status < 300) this.batches.push(batch);
        const body = JSON.stringify(reply.body ?? { error: 'test' });
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(body);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
  }

  /** Goes down: refuses new connections and drops kept-alive ones. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
