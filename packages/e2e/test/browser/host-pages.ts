import { readFileSync } from 'node:fs';
import { bundleBrowserClient } from '../../src/browser/bundle.js';
import {
  CONTENT_TYPES,
  escapeHtml,
  type PageServer,
  startPageServer,
} from '../../src/browser/page-server.js';

const asset = (name: string) => readFileSync(new URL(`./pages/${name}`, import.meta.url), 'utf8');

/** Where the host pages send events. */
export interface HostPageTarget {
  /** Worker origin, e.g. `http://127.0.0.1:40123`. */
  workerUrl: string;
  ingestionKey: string;
}

/** The strict policy of the CSP case: scripts from the page only, connections to the worker only. */
export function strictCsp(workerOrigin: string): string {
  return `default-src 'self'; script-src 'self'; connect-src ${workerOrigin}`;
}

/**
 * A page server for the browser suite: `/` is a host page that imports the
 * bundled browser entry (`/runmat-telemetry.js`) from `/host-page.js`.
 * Query on `/`: `csp=strict` sends {@link strictCsp}; `route=ingest` posts
 * to `/ingest` instead of `/v1/t`; the rest is read by the page itself
 * (see pages/host-page.js). `connect()` points it at a worker once one runs.
 */
export async function startHostPages(): Promise<
  PageServer & { connect(target: HostPageTarget): void }
> {
  const bundle = await bundleBrowserClient();
  let target: HostPageTarget | undefined;
  const server = await startPageServer({
    routes: {
      '/': {
        type: CONTENT_TYPES.html,
        body: (url) => {
          if (!target) throw new Error('host page server not connected to a worker');
          const path = url.searchParams.get('route') === 'ingest' ? '/ingest' : '/v1/t';
          return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RunMat browser host</title>
<meta name="runmat-endpoint" content="${escapeHtml(`${target.workerUrl}${path}`)}">
<meta name="runmat-key" content="${escapeHtml(target.ingestionKey)}">
<script src="/csp-watch.js"></script>
<script type="module" src="/host-page.js"></script>
</head><body data-state="loading"><h1>RunMat browser host</h1><button id="finish" type="button">finish</button></body></html>`;
        },
        headers: (url): Record<string, string> =>
          url.searchParams.get('csp') === 'strict' && target
            ? { 'content-security-policy': strictCsp(target.workerUrl) }
            : {},
      },
      '/csp-watch.js': { type: CONTENT_TYPES.js, body: asset('csp-watch.js') },
      '/host-page.js': { type: CONTENT_TYPES.js, body: asset('host-page.js') },
      '/runmat-telemetry.js': { type: CONTENT_TYPES.js, body: bundle },
    },
  });
  return Object.assign(server, {
    connect(next: HostPageTarget) {
      target = { ...next };
    },
  });
}
