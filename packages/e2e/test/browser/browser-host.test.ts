/**
 * The browser entry in a real browser (the machine's Chromium through
 * playwright-core), bundled with esbuild as a web host ships it, on a page
 * served from one origin and posting to the real worker on another, through
 * to the fake sink. Pages drive themselves (pages/host-page.js); the tests
 * watch the network, the console and the sink.
 */
import { randomBytes } from 'node:crypto';
import { type LaunchedChromium, launchChromium } from '@runmat-telemetry/test-kit';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pipeline, type SinkEvent, settle, startPipeline } from '../../src/harness/index.js';
import { type HostPageTarget, startHostPages, strictCsp } from './host-pages.js';

type Context = Awaited<ReturnType<LaunchedChromium['newContext']>>;
type Page = Awaited<ReturnType<Context['newPage']>>;

interface SeenRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  resourceType: string;
}

/** A host page opened in its own browser context, with what it did on the network and the console. */
interface OpenedPage {
  page: Page;
  context: Context;
  /** Every request the page made (the page's own files included). */
  requests: SeenRequest[];
  failed: { url: string; errorText: string }[];
  console: string[];
  pageErrors: string[];
  /** Headers of the page's own document response. */
  documentHeaders: Record<string, string>;
  result(): Promise<HostResult>;
  close(): Promise<void>;
}

interface HostStats {
  queued: number;
  sent: number;
  beacons: number;
  failed: number;
  dropped: number;
  invalid: number;
}
interface HostResult {
  mode: string;
  clientId?: string;
  deliveryEnabled: boolean;
  summary?: {
    kind: string;
    durationUs: number;
    success: boolean;
    emitted: boolean;
    counters?: Record<string, number>;
    gpu?: unknown;
  };
  stats?: HostStats;
  startedStats?: HostStats;
  evalResult?: unknown;
  evalError?: string;
  beaconCalls?: { accepted: number; refused: number };
  logs: string[];
}

const freshId = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

let listed: Awaited<ReturnType<typeof startHostPages>>;
let unlisted: Awaited<ReturnType<typeof startHostPages>>;
let pipeline: Pipeline;
let chromium: LaunchedChromium;
const workerLines: string[] = [];

beforeAll(async () => {
  // Page servers first: the worker needs the listed page's origin at start.
  listed = await startHostPages();
  unlisted = await startHostPages();
  pipeline = await startPipeline({
    env: { worker: { CORS_ORIGINS: listed.origin } },
    onLine: (name, line) => {
      if (name === 'worker') workerLines.push(line);
    },
  });
  const target: HostPageTarget = {
    workerUrl: pipeline.endpoints.workerUrl,
    ingestionKey: pipeline.key,
  };
  listed.connect(target);
  unlisted.connect(target);
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await pipeline?.close();
  await listed?.close();
  await unlisted?.close();
});

async function openHostPage(
  server: { origin: string },
  query: string,
  waitFor: 'done' | 'ready' = 'done',
): Promise<OpenedPage> {
  const context = await chromium.newContext();
  const page = await context.newPage();
  const opened: OpenedPage = {
    page,
    context,
    requests: [],
    failed: [],
    console: [],
    pageErrors: [],
    documentHeaders: {},
    result: () =>
      page.evaluate(() => (globalThis as { __result?: unknown }).__result as HostResult),
    close: () => context.close(),
  };
  page.on('request', (r) =>
    opened.requests.push({
      url: r.url(),
      method: r.method(),
      headers: r.headers(),
      resourceType: r.resourceType(),
    }),
  );
  page.on('requestfailed', (r) =>
    opened.failed.push({ url: r.url(), errorText: r.failure()?.errorText ?? '' }),
  );
  page.on('console', (m) => opened.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => opened.pageErrors.push(String(e)));
  const response = await page.goto(`${server.origin}/?${query}`);
  expect(response?.status()).toBe(200);
  opened.documentHeaders = response?.headers() ?? {};
  await page.waitForSelector(`body[data-state="${waitFor}"]`, { timeout: 15_000 });
  return opened;
}

const toWorker = (o: OpenedPage) =>
  o.requests.filter((r) => r.url.startsWith(pipeline.endpoints.workerUrl));

async function posthogEvents(distinctId: string, n: number): Promise<SinkEvent[]> {
  return pipeline.sinkApi.waitForEvents({ destination: 'posthog', distinct_id: distinctId }, n);
}

describe('the worker answers the browser preflight', () => {
  it('a listed origin gets 204 with the allow headers; an unlisted one and /v1/batch get none', async () => {
    const preflight = async (path: string, origin: string) => {
      const res = await request(`${pipeline.endpoints.workerUrl}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-telemetry-key',
        },
      });
      await res.body.dump();
      return { status: res.statusCode, headers: res.headers };
    };
    for (const path of ['/v1/t', '/ingest']) {
      const ok = await preflight(path, listed.origin);
      console.log(
        `preflight ${path} from ${listed.origin}: ${ok.status} ${JSON.stringify(ok.headers)}`,
      );
      expect(ok.status).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe(listed.origin);
      expect(ok.headers['access-control-allow-methods']).toBe('POST');
      expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toBe(
        'content-type, x-telemetry-key',
      );
      expect(Number(ok.headers['access-control-max-age'])).toBeGreaterThan(0);
      expect(String(ok.headers.vary)).toMatch(/origin/i);
      expect(ok.headers['access-control-allow-credentials']).toBeUndefined();

      const refused = await preflight(path, unlisted.origin);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      expect(refused.headers['access-control-allow-methods']).toBeUndefined();
      expect(refused.headers['access-control-allow-headers']).toBeUndefined();
    }
    const batch = await preflight('/v1/batch', listed.origin);
    expect(batch.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('a browser host page', () => {
  it('cross-origin, delivers runtime.run.started and runtime.run.finished with the host id as distinct id', async () => {
    const id = freshId('host');
    const opened = await openHostPage(listed, `id=${id}`);
    try {
      const result = await opened.result();
      expect(result.clientId).toBe(id);
      expect(result.stats).toMatchObject({ sent: 2, failed: 0, beacons: 0 });
      const posts = toWorker(opened);
      expect(posts).toHaveLength(2);
      for (const r of posts) {
        expect(r.method).toBe('POST');
        expect(r.url).toBe(pipeline.endpoints.httpEndpoint);
        expect(r.headers['content-type']).toBe('application/json');
        expect(r.headers['x-telemetry-key']).toBe(pipeline.key);
      }
      expect(opened.failed).toEqual([]);
      const events = await posthogEvents(id, 2);
      expect(events.map((e) => e.event).sort()).toEqual([
        'runtime.run.finished',
        'runtime.run.started',
      ]);
      expect(events.every((e) => e.distinct_id === id)).toBe(true);
      const ga4 = await pipeline.sinkApi.waitForEvents({ destination: 'ga4', distinct_id: id }, 2);
      expect(ga4.map((e) => e.event).sort()).toEqual([
        'runtime_run_finished',
        'runtime_run_started',
      ]);
      console.log(
        `cross-origin page: ${events.map((e) => `${e.event} distinct_id=${e.distinct_id}`).join('; ')}`,
      );
    } finally {
      await opened.close();
    }
  });

  it('under a strict CSP (script-src self, no unsafe-eval) loads the module and delivers, with no violation and no error', async () => {
    const id = freshId('csp');
    const opened = await openHostPage(listed, `csp=strict&route=ingest&id=${id}`);
    try {
      expect(opened.documentHeaders['content-security-policy']).toBe(
        strictCsp(pipeline.endpoints.workerUrl),
      );
      const violations = await opened.page.evaluate(
        () => (globalThis as { __violations?: unknown[] }).__violations,
      );
      const errors = await opened.page.evaluate(
        () => (globalThis as { __errors?: unknown[] }).__errors,
      );
      expect(violations).toEqual([]);
      expect(errors).toEqual([]);
      expect(opened.pageErrors).toEqual([]);
      const result = await opened.result();
      expect(result.stats).toMatchObject({ sent: 2, failed: 0 });
      // Last, as it raises a violation itself: the policy is in force (connect-src refuses the page's own origin).
      const selfFetch = await opened.page.evaluate(() =>
        fetch('/csp-watch.js').then(
          () => 'allowed',
          (err: unknown) => `refused: ${String(err)}`,
        ),
      );
      expect(selfFetch).toMatch(/^refused/);
      expect(toWorker(opened).map((r) => r.url)).toEqual([
        `${pipeline.endpoints.workerUrl}/ingest`,
        `${pipeline.endpoints.workerUrl}/ingest`,
      ]);
      const events = await posthogEvents(id, 2);
      expect(events.map((e) => e.event).sort()).toEqual([
        'runtime.run.finished',
        'runtime.run.started',
      ]);
    } finally {
      await opened.close();
    }
  });

  it('control: the same CSP refuses new Function on the page (so the case above would catch an eval)', async () => {
    const opened = await openHostPage(listed, 'csp=strict&mode=eval-probe');
    try {
      const result = await opened.result();
      expect(result.evalResult).toBeUndefined();
      expect(result.evalError).toBe('EvalError');
      const violations = (await opened.page.evaluate(
        () => (globalThis as { __violations?: { directive: string }[] }).__violations,
      )) as { directive: string }[];
      expect(violations.map((v) => v.directive)).toContain('script-src');
    } finally {
      await opened.close();
    }
  });

  it('without consent sends zero requests and still returns the local summary', async () => {
    const id = freshId('noconsent');
    const opened = await openHostPage(listed, `consent=false&id=${id}`);
    try {
      const result = await opened.result();
      expect(result.deliveryEnabled).toBe(false);
      expect(result.clientId).toBe(id);
      expect(result.summary).toMatchObject({
        kind: 'repl',
        success: true,
        emitted: false,
        counters: { total_executions: 3, jit_compiled: 0, interpreter_fallback: 0 },
      });
      expect(result.summary?.durationUs).toBeGreaterThanOrEqual(0);
      // No GPU/provider counters gathered without consent.
      expect(result.summary?.gpu).toBeUndefined();
      expect(result.stats).toMatchObject({ sent: 0, failed: 0, queued: 0 });
      // Leaving the page (pagehide) must not send anything either.
      await opened.page.close({ runBeforeUnload: true });
      await settle(pipeline);
      expect(opened.requests.length).toBeGreaterThan(0); // the page's own files: requests are seen
      expect(opened.requests.filter((r) => !r.url.startsWith(listed.origin))).toEqual([]);
      expect(await pipeline.sinkApi.events({ distinct_id: id })).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('a tab closed right after finish() still delivers the finished event', async () => {
    const id = freshId('close');
    const opened = await openHostPage(listed, `mode=unload-click&id=${id}`, 'ready');
    try {
      await posthogEvents(id, 1);
      await opened.page.click('#finish');
      await opened.page.close({ runBeforeUnload: true });
      const events = await posthogEvents(id, 2);
      expect(events.map((e) => e.event).sort()).toEqual([
        'runtime.run.finished',
        'runtime.run.started',
      ]);
    } finally {
      await opened.close();
    }
  });

  it('a run that finishes while the tab closes (beforeunload) still arrives', async () => {
    const id = freshId('unload');
    const opened = await openHostPage(listed, `mode=unload-beforeunload&id=${id}`, 'ready');
    try {
      await posthogEvents(id, 1);
      await opened.page.close({ runBeforeUnload: true });
      const events = await posthogEvents(id, 2);
      expect(events.map((e) => e.event)).toContain('runtime.run.finished');
    } finally {
      await opened.close();
    }
  });

  it('a run that finishes in the host page pagehide handler (the tab closing) still arrives', async () => {
    const id = freshId('pagehide');
    const opened = await openHostPage(listed, `mode=finish-on-pagehide&id=${id}`, 'ready');
    try {
      await posthogEvents(id, 1);
      await opened.page.close({ runBeforeUnload: true });
      const events = await posthogEvents(id, 2);
      expect(events.map((e) => e.event)).toContain('runtime.run.finished');
    } finally {
      await opened.close();
    }
  });

  it('from an unlisted origin is refused: the browser reports a CORS failure and nothing arrives', async () => {
    const id = freshId('unlisted');
    const opened = await openHostPage(unlisted, `id=${id}`);
    try {
      const result = await opened.result();
      expect(result.stats).toMatchObject({ sent: 0, failed: 2 });
      const cors = opened.console.filter((line) =>
        line.includes(`from origin '${unlisted.origin}' has been blocked by CORS policy`),
      );
      expect(cors.length).toBeGreaterThanOrEqual(1);
      console.log(`unlisted origin, the browser says: ${cors[0]}`);
      const failedToWorker = opened.failed.filter((f) =>
        f.url.startsWith(pipeline.endpoints.workerUrl),
      );
      expect(failedToWorker.length).toBeGreaterThanOrEqual(2);
      await settle(pipeline);
      expect(await pipeline.sinkApi.events({ distinct_id: id })).toEqual([]);
    } finally {
      await opened.close();
    }
  });

  it('from an unlisted origin, a beacon with ?k= is refused by the worker: nothing arrives', async () => {
    const id = freshId('unlisted-beacon');
    const opened = await openHostPage(unlisted, `fetch=off&id=${id}`);
    try {
      const result = await opened.result();
      // The browser accepted the beacons; the worker refuses a query key from an unlisted origin.
      expect(result.stats).toMatchObject({ beacons: 2 });
      expect(toWorker(opened).every((r) => r.url.includes('?k='))).toBe(true);
      await settle(pipeline);
      expect(await pipeline.sinkApi.events({ distinct_id: id })).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});

describe('the beacon path', () => {
  it('a browser without fetch sends beacons (text/plain, key as ?k=) and they arrive; the key is never logged', async () => {
    const id = freshId('beacon');
    const linesBefore = workerLines.length;
    const opened = await openHostPage(listed, `fetch=off&id=${id}`);
    try {
      const result = await opened.result();
      expect(result.stats).toMatchObject({ sent: 2, beacons: 2, failed: 0 });
      const beacons = toWorker(opened);
      expect(beacons).toHaveLength(2);
      for (const b of beacons) {
        expect(b.method).toBe('POST');
        expect(b.url).toBe(
          `${pipeline.endpoints.httpEndpoint}?k=${encodeURIComponent(pipeline.key)}`,
        );
        expect(b.headers['content-type']).toMatch(/^text\/plain/);
        expect(b.headers['x-telemetry-key']).toBeUndefined();
      }
      const events = await posthogEvents(id, 2);
      expect(events.map((e) => e.event).sort()).toEqual([
        'runtime.run.finished',
        'runtime.run.started',
      ]);
      await settle(pipeline);
      const logged = workerLines.slice(linesBefore);
      expect(logged.some((l) => l.includes('/v1/t'))).toBe(true); // requests are logged...
      expect(logged.filter((l) => l.includes(pipeline.key))).toEqual([]); // ...never the key
    } finally {
      await opened.close();
    }
  });

  it('past the 64 KiB keepalive budget at pagehide, tries the beacon, then a plain fetch, and everything arrives', async () => {
    const id = freshId('quota');
    const runs = 100; // 200 events, about 100 KB of bodies: past the keepalive budget
    const opened = await openHostPage(listed, `mode=quota&n=${runs}&id=${id}`);
    try {
      const result = await opened.result();
      expect(result.stats).toMatchObject({ sent: 2 * runs, failed: 0, dropped: 0 });
      const calls = result.beaconCalls ?? { accepted: 0, refused: 0 };
      // Past the budget the client turns to the beacon. Chromium counts
      // beacons against the same 64 KiB as keepalive fetches and refuses
      // them; the page lives on here, so a plain fetch carries the rest.
      expect(calls.accepted + calls.refused).toBeGreaterThan(0);
      expect(result.stats?.beacons).toBe(calls.accepted);
      console.log(
        `quota page: ${result.stats?.sent} sent (${result.stats?.beacons} by beacon); sendBeacon accepted ${calls.accepted}, refused ${calls.refused}`,
      );
      const events = await pipeline.sinkApi.waitForEvents(
        { destination: 'posthog', distinct_id: id },
        (e) => e.length >= 2 * runs,
      );
      expect(new Set(events.map((e) => e.uuid)).size).toBe(2 * runs);
    } finally {
      await opened.close();
    }
  });
});
