/**
 * The browser path of the local pipeline: a small page, served on
 * 127.0.0.1, that loads the client's browser entry (bundled with esbuild,
 * as a web host ships it) under a strict Content-Security-Policy and runs
 * a demo run (`runtime.run.started` + `runtime.run.finished`) against the
 * local worker when the "Run a demo" button is clicked. The page's origin
 * is cross-origin to the worker, so the worker must list it in
 * CORS_ORIGINS.
 *
 * The worker needs the origin before it starts and the page needs the
 * worker's URL, so the page can be started first and connected later:
 *
 *   const demo = await startBrowserDemo();                      // origin known
 *   const pipeline = await startPipeline({ env: { worker: { CORS_ORIGINS: demo.origin } } });
 *   demo.connect({ httpEndpoint: pipeline.endpoints.httpEndpoint, ingestionKey: pipeline.key,
 *                  sinkUrl: pipeline.endpoints.sinkUrl });
 */
import { bundleBrowserClient } from './browser/bundle.js';
import { CONTENT_TYPES, escapeHtml, startPageServer } from './browser/page-server.js';

/** Where the demo page sends its events. */
export interface BrowserDemoTarget {
  /** The worker's single-event URL, e.g. `http://127.0.0.1:8080/v1/t`. */
  httpEndpoint: string;
  /** The development ingestion key the worker accepts. */
  ingestionKey: string;
  /** The fake sink's page, linked from the demo page. */
  sinkUrl?: string;
}

export interface BrowserDemoOptions extends Partial<BrowserDemoTarget> {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
}

/** A running demo page. */
export interface BrowserDemo extends AsyncDisposable {
  /** The page, e.g. `http://127.0.0.1:43127/`. */
  readonly url: string;
  /** What the browser sends as `Origin`: put it in the worker's CORS_ORIGINS. */
  readonly origin: string;
  /** Points the page at a worker (takes effect on the next page load). */
  connect(target: BrowserDemoTarget): void;
  close(): Promise<void>;
}

const DEMO_CSS = `body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:46rem;padding:0 1rem;color:#1d2430}
h1{font-size:1.3rem}button{font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid #3461c1;background:#3f6fd8;color:#fff;cursor:pointer}
button:disabled{opacity:.6;cursor:default}code,pre{font-family:ui-monospace,monospace;font-size:.88em}
pre{background:#f3f5f9;border:1px solid #dde2ea;border-radius:6px;padding:.75rem;white-space:pre-wrap}
.ok{color:#1c7c3a}.bad{color:#b3261e}dt{font-weight:600}dd{margin:0 0 .4rem 0}`;

const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#3f6fd8"/></svg>';

// The page's own module: reads its settings from a JSON data block (not
// executed, so the CSP allows it), creates one telemetry instance per page
// load with a host-supplied id kept in localStorage, and runs one demo run
// per click. Everything is reported in #result (and data-state / data-sent
// for tests).
const DEMO_JS = `import { createBrowserTelemetry } from './runmat-telemetry.js';
const config = JSON.parse(document.getElementById('demo-config').textContent);
const button = document.getElementById('run');
const result = document.getElementById('result');
function hostId() {
  const fresh = 'web-demo-' + crypto.getRandomValues(new Uint32Array(2)).reduce((s, x) => s + x.toString(16).padStart(8, '0'), '');
  try {
    const kept = localStorage.getItem('runmat-demo-id');
    if (kept) return kept;
    localStorage.setItem('runmat-demo-id', fresh);
  } catch {}
  return fresh;
}
if (!config.httpEndpoint) {
  button.disabled = true;
  result.textContent = 'Not connected to a worker yet; reload once the local pipeline is up.';
} else {
  const telemetry = createBrowserTelemetry({
    httpEndpoint: config.httpEndpoint,
    ingestionKey: config.ingestionKey,
    telemetryId: hostId(),
    release: '0.0.0-local',
  });
  document.getElementById('cid').textContent = telemetry.clientId;
  let runs = 0;
  button.addEventListener('click', async () => {
    button.disabled = true;
    document.body.dataset.state = 'running';
    const run = telemetry.startRun({ kind: 'repl', jitEnabled: true, accelerateEnabled: false });
    // A stand-in for the run itself: a few milliseconds of arithmetic.
    const until = performance.now() + 15;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    const summary = run.finish({
      success: true,
      jitUsed: true,
      host: 'wasm',
      counters: { total_executions: 12 + (x > 0 ? 0 : 1), jit_compiled: 3, interpreter_fallback: 0 },
    });
    await telemetry.flush();
    runs++;
    const s = telemetry.stats();
    const ok = s.failed === 0 && s.sent === 2 * runs;
    result.className = ok ? 'ok' : 'bad';
    result.textContent = (ok ? 'Delivered: ' : 'Not all delivered: ') +
      'runtime.run.started and runtime.run.finished, demo run ' + runs + '\\n' +
      'requests sent ' + s.sent + ' (beacons ' + s.beacons + '), failed ' + s.failed + '\\n' +
      'distinct id ' + telemetry.clientId + '\\n' +
      'local summary: ' + JSON.stringify(summary);
    document.body.dataset.state = ok ? 'delivered' : 'failed';
    document.body.dataset.sent = String(s.sent);
    button.disabled = false;
  });
  document.body.dataset.state = 'ready';
}
`;

function demoHtml(target: BrowserDemoTarget | undefined): string {
  const config = JSON.stringify({
    httpEndpoint: target?.httpEndpoint ?? '',
    ingestionKey: target?.ingestionKey ?? '',
  }).replace(/</g, '\\u003c');
  const sink = target?.sinkUrl
    ? `<p>Watch them arrive on the <a href="${escapeHtml(target.sinkUrl)}/">fake sink's page</a>.</p>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RunMat telemetry: browser demo</title>
<link rel="icon" href="/favicon.svg">
<link rel="stylesheet" href="/demo.css">
<script type="application/json" id="demo-config">${config}</script>
<script type="module" src="/demo.js"></script>
</head>
<body data-state="loading">
<h1>RunMat telemetry: browser host demo</h1>
<p>This page loads <code>@runmat-telemetry/client/browser</code> (bundled with esbuild) under
<code>script-src 'self'</code> without <code>'unsafe-eval'</code>, and sends a demo run to
<code>${escapeHtml(target?.httpEndpoint ?? '(no worker yet)')}</code>, cross-origin.</p>
<p>Distinct id: <code id="cid">-</code></p>
<p><button id="run" type="button">Run a demo</button></p>
<pre id="result">Click the button to send runtime.run.started and runtime.run.finished.</pre>
${sink}
</body>
</html>
`;
}

/** The demo page's Content-Security-Policy: scripts from the page only, connections to the worker only. */
export function demoCsp(httpEndpoint: string | undefined): string {
  const connect = httpEndpoint ? new URL(httpEndpoint).origin : "'none'";
  return `default-src 'self'; script-src 'self'; style-src 'self'; connect-src ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/**
 * Serves the demo page (`/`), its module (`/demo.js`), its stylesheet and
 * the bundled browser entry (`/runmat-telemetry.js`). Resolves once the
 * bundle is built and the server listens.
 */
export async function startBrowserDemo(options: BrowserDemoOptions = {}): Promise<BrowserDemo> {
  const bundle = await bundleBrowserClient();
  let target: BrowserDemoTarget | undefined =
    options.httpEndpoint && options.ingestionKey !== undefined
      ? {
          httpEndpoint: options.httpEndpoint,
          ingestionKey: options.ingestionKey,
          sinkUrl: options.sinkUrl,
        }
      : undefined;
  const server = await startPageServer({
    host: options.host,
    port: options.port,
    routes: {
      '/': {
        type: CONTENT_TYPES.html,
        body: () => demoHtml(target),
        headers: () => ({ 'content-security-policy': demoCsp(target?.httpEndpoint) }),
      },
      '/demo.js': { type: CONTENT_TYPES.js, body: DEMO_JS },
      '/demo.css': { type: CONTENT_TYPES.css, body: DEMO_CSS },
      '/favicon.svg': { type: 'image/svg+xml', body: FAVICON_SVG },
      '/runmat-telemetry.js': { type: CONTENT_TYPES.js, body: bundle },
    },
  });
  return {
    url: `${server.origin}/`,
    origin: server.origin,
    connect(next) {
      target = { ...next };
    },
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}
