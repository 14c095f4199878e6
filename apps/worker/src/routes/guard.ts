import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { IngestionKeyVerifier } from '../auth/ingestion-key.js';
import type { WorkerMetrics } from '../metrics.js';
import { replyError } from './reply-error.js';

/** Settings for {@link createIngestGuard}. */
export interface GuardOptions {
  verifier: IngestionKeyVerifier;
  metrics: WorkerMetrics;
  isClosing: () => boolean;
  /** True when the forward queue cannot take `n` more events. */
  lacksRoom: (n: number) => boolean;
  /** True while memory is past the budget's shed line (503 overloaded). */
  shedMemory?: () => boolean;
  /**
   * Room the route's requests need before their body is worth reading: 1 for
   * a single event, a whole maximal batch for `/v1/batch`.
   */
  minRoom: number;
  /**
   * Accept the key as the `k` query parameter (beacons cannot set headers),
   * only from these exact origins. Absent (`/v1/batch`): header key only.
   */
  queryKey?: QueryKeyOptions;
}

/** Where a query-string key is accepted, and where its requests are recorded. */
export interface QueryKeyOptions {
  /** CORS_ORIGINS; empty means a query key is always refused. */
  origins: ReadonlySet<string>;
  /** Requests authenticated by a query key (they may send `text/plain`). */
  authenticated: WeakSet<FastifyRequest>;
}

/** Query parameter that carries the ingestion key for beacons. */
export const QUERY_KEY_PARAM = 'k';

function queryKeyOf(request: FastifyRequest): unknown {
  const query = request.query;
  return typeof query === 'object' && query !== null
    ? (query as Record<string, unknown>)[QUERY_KEY_PARAM]
    : undefined;
}

/**
 * `onRequest` hook for the ingest routes: runs before the body is read, so a
 * worker that is shutting down, a caller without a valid key, or a request
 * the queue has no room for costs no parsing, and nothing from a refused
 * request is ever forwarded. Shedding a full queue here, before the body is
 * parsed and validated, is what keeps an overloaded worker's CPU on
 * forwarding what it already accepted; the route still checks exact room
 * for the events it actually admits.
 */
export function createIngestGuard(opts: GuardOptions): onRequestHookHandler {
  const { metrics, minRoom, verifier, queryKey } = opts;
  // The header decides whenever it is sent. Without it, a `?k=` key counts
  // only on a route that takes one and only with a listed Origin: a beacon
  // from a listed page sends it, and a page elsewhere cannot forge it (the
  // browser sets Origin). A request without Origin, or from an unlisted one,
  // is refused like a wrong key. A non-browser client can send any Origin:
  // this narrows where a URL-borne key works, it is not a second secret.
  const authenticated = (request: FastifyRequest): boolean => {
    const header = request.headers[INGESTION_KEY_HEADER];
    if (header !== undefined || queryKey === undefined) return verifier.verify(header);
    const candidate = queryKeyOf(request);
    if (candidate === undefined) return false;
    const origin = request.headers.origin;
    if (origin === undefined || !queryKey.origins.has(origin)) return false;
    if (typeof candidate !== 'string' || !verifier.verify(candidate)) return false;
    queryKey.authenticated.add(request);
    return true;
  };
  return function ingestGuard(request, reply, done) {
    if (opts.isClosing()) {
      replyError(reply, metrics, 'shutting_down');
      return;
    }
    if (!authenticated(request)) {
      replyError(reply, metrics, 'unauthorized');
      return;
    }
    if (opts.shedMemory?.()) {
      replyError(reply, metrics, 'overloaded');
      return;
    }
    if (opts.lacksRoom(minRoom)) {
      replyError(reply, metrics, 'queue_full');
      return;
    }
    done();
  };
}
