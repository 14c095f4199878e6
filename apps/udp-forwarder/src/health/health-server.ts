import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTES } from '@runmat-telemetry/schema';
import { livenessReply, type ProbeReply, readinessReply } from '@runmat-telemetry/service';

export interface HealthServerOptions {
  host: string;
  port: number;
  isReady: () => boolean;
  metrics: () => Promise<{ contentType: string; body: string }>;
}

function send(
  res: http.ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': type,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendProbe(res: http.ServerResponse, reply: ProbeReply): void {
  send(res, reply.statusCode, 'application/json', JSON.stringify(reply.body), reply.headers);
}

/**
 * The health port. GCP's TCP health check only opens and closes a connection,
 * which a plain node:http server accepts without complaint; people and
 * Prometheus use `GET /healthz`, `/readyz` and `/metrics`.
 */
export class HealthServer {
  private readonly server: http.Server;

  constructor(private readonly options: HealthServerOptions) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, 'application/json', '{"error":"internal"}');
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 404, 'application/json', '{"error":"not_found"}');
      return;
    }
    switch (path) {
      case ROUTES.healthz:
        sendProbe(res, livenessReply());
        return;
      case ROUTES.readyz:
        sendProbe(res, readinessReply(this.options.isReady()));
        return;
      case ROUTES.metrics: {
        const { contentType, body } = await this.options.metrics();
        send(res, 200, contentType, body);
        return;
      }
      default:
        send(res, 404, 'application/json', '{"error":"not_found"}');
    }
  }

  /** Listens and resolves with the real port. */
  async start(): Promise<number> {
    const { host, port } = this.options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host === 'localhost' ? '127.0.0.1' : host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
