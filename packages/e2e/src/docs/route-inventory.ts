/**
 * Every HTTP route the pipeline's processes answer, read from the apps
 * themselves rather than written down: the worker's two Fastify instances
 * and the fake sink's are built in-process with a throwaway config and
 * listed with Fastify's `printRoutes()`; the forwarder's health server is
 * plain node:http, so a real forwarder is started on loopback (ephemeral
 * ports) and asked. docs/architecture.md's routes table is rendered from
 * this; the apps are only ever built through the functions here, so a
 * change to how they are constructed is fixed in one place.
 */
import { buildSinkApp } from '@runmat-telemetry/fake-sink';
import { ROUTES } from '@runmat-telemetry/schema';
import { createForwarder, loadForwarderConfig } from '@runmat-telemetry/udp-forwarder';
import { buildApp, loadWorkerConfig } from '@runmat-telemetry/worker';
import { request } from 'undici';

/** The listeners that serve HTTP, as the docs name them. */
export type Listener = 'worker' | 'worker-metrics' | 'forwarder-health' | 'fake-sink';

export interface RouteEntry {
  listener: Listener;
  /** Sorted, e.g. `['GET', 'HEAD']`. */
  methods: string[];
  path: string;
}

/** What the public worker port answers on `GET /metrics` (the metrics live on their own listener). */
export interface PublicMetricsProbe {
  status: number;
  body: string;
}

export interface RouteInventory {
  routes: RouteEntry[];
  publicMetrics: PublicMetricsProbe;
}

/** A browser origin, so the worker also registers its CORS preflight routes. */
const DOCS_CORS_ORIGIN = 'https://runmat.example';

/** The worker's config for listing routes: nothing is listened on or sent anywhere. */
export function docsWorkerConfig() {
  return loadWorkerConfig({
    INGESTION_KEY: 'docs-key-0001',
    POSTHOG_API_KEY: 'phc_docs',
    POSTHOG_HOST: 'http://127.0.0.1:9',
    LOG_LEVEL: 'silent',
    CORS_ORIGINS: DOCS_CORS_ORIGIN,
  });
}

const TREE_LINE = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, -]+)\))?$/;

/**
 * Parses `printRoutes({ commonPrefix: false })`: a tree whose node labels
 * concatenate to the route's path, with the methods in parentheses on the
 * nodes that have handlers.
 */
export function parsePrintedRoutes(listener: Listener, printed: string): RouteEntry[] {
  const stack: string[] = [];
  const out: RouteEntry[] = [];
  for (const line of printed.split('\n')) {
    if (line.trim() === '') continue;
    const m = TREE_LINE.exec(line);
    if (!m) throw new Error(`printRoutes: cannot read line ${JSON.stringify(line)}`);
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(m[2] ?? '');
    const methods = m[3]
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== '-');
    if (methods && methods.length > 0) {
      out.push({ listener, methods: [...methods].sort(), path: stack.join('') });
    }
  }
  return out;
}

async function workerRoutes(): Promise<{
  routes: RouteEntry[];
  publicMetrics: PublicMetricsProbe;
}> {
  const worker = buildApp(docsWorkerConfig(), { logger: false });
  try {
    await worker.app.ready();
    await worker.metricsApp.ready();
    const res = await worker.app.inject({ method: 'GET', url: ROUTES.metrics });
    return {
      routes: [
        ...parsePrintedRoutes('worker', worker.app.printRoutes({ commonPrefix: false })),
        ...parsePrintedRoutes(
          'worker-metrics',
          worker.metricsApp.printRoutes({ commonPrefix: false }),
        ),
      ],
      publicMetrics: { status: res.statusCode, body: res.body },
    };
  } finally {
    await worker.app.close();
  }
}

async function sinkRoutes(): Promise<RouteEntry[]> {
  const { app } = buildSinkApp();
  try {
    await app.ready();
    return parsePrintedRoutes('fake-sink', app.printRoutes({ commonPrefix: false }));
  } finally {
    await app.close();
  }
}

/** Paths asked of the forwarder's health server: every path of the contract, and `/`. */
const HEALTH_CANDIDATES = ['/', ...new Set(Object.values(ROUTES))].sort();
const HEALTH_METHODS = ['GET', 'HEAD', 'POST'] as const;

async function forwarderHealthRoutes(): Promise<RouteEntry[]> {
  const forwarder = createForwarder(
    loadForwarderConfig({
      UDP_HOST: '127.0.0.1',
      UDP_PORT: '0',
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: '0',
      TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:9/v1/batch',
      TELEMETRY_INGESTION_KEY: 'docs-key-0001',
      LOG_LEVEL: 'silent',
    }),
  );
  const { healthPort } = await forwarder.start();
  try {
    const routes: RouteEntry[] = [];
    for (const path of HEALTH_CANDIDATES) {
      const methods: string[] = [];
      for (const method of HEALTH_METHODS) {
        const res = await request(`http://127.0.0.1:${healthPort}${path}`, { method });
        await res.body.dump();
        if (res.statusCode !== 404) methods.push(method);
      }
      if (methods.length > 0) routes.push({ listener: 'forwarder-health', methods, path });
    }
    return routes;
  } finally {
    await forwarder.stop();
  }
}

/** Every route of every listener, sorted by listener (as declared) then path. */
export async function collectRoutes(): Promise<RouteInventory> {
  const worker = await workerRoutes();
  const routes = [...worker.routes, ...(await forwarderHealthRoutes()), ...(await sinkRoutes())];
  const order: Listener[] = ['worker', 'worker-metrics', 'forwarder-health', 'fake-sink'];
  routes.sort(
    (a, b) =>
      order.indexOf(a.listener) - order.indexOf(b.listener) ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  return { routes, publicMetrics: worker.publicMetrics };
}
