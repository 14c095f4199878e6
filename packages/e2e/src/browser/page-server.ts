import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One served path: its content type, body and extra headers, computed per request. */
export interface PageRoute {
  type: string;
  body: string | ((request: URL) => string);
  headers?: Record<string, string> | ((request: URL) => Record<string, string>);
}

/** A small static server for browser pages; its origin is `http://127.0.0.1:<port>`. */
export interface PageServer extends AsyncDisposable {
  /** `http://<host>:<port>`, what a browser sends as `Origin`. */
  readonly origin: string;
  readonly port: number;
  /** Paths asked for, in order (query strings included). */
  readonly requested: string[];
  /** Replaces or adds a route. */
  route(path: string, route: PageRoute): void;
  close(): Promise<void>;
}

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
} as const;

/**
 * Serves fixed routes over node:http on `host` (default 127.0.0.1), port
 * `port` (default 0: ephemeral). Anything else is 404. No caching, so a
 * page loaded twice gets the current route.
 */
export async function startPageServer(
  options: { host?: string; port?: number; routes?: Record<string, PageRoute> } = {},
): Promise<PageServer> {
  const host = options.host ?? '127.0.0.1';
  const routes = new Map<string, PageRoute>(Object.entries(options.routes ?? {}));
  const requested: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    requested.push(`${url.pathname}${url.search}`);
    const route = routes.get(url.pathname);
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    try {
      const body = typeof route.body === 'function' ? route.body(url) : route.body;
      const headers = typeof route.headers === 'function' ? route.headers(url) : route.headers;
      res.writeHead(200, {
        'content-type': route.type,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return {
    origin: `http://${host}:${port}`,
    port,
    requested,
    route: (path, route) => {
      routes.set(path, route);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Escapes text for an HTML attribute or element. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
