import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import type { onRequestHookHandler } from 'fastify';
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
  /**
   * Room the route's requests need before their body is worth reading: 1 for
   * a single event, a whole maximal batch for `/v1/batch`.
   */
  minRoom: number;
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
  const { metrics, minRoom } = opts;
  return function ingestGuard(request, reply, done) {
    if (opts.isClosing()) {
      replyError(reply, metrics, 'shutting_down');
      return;
    }
    if (!opts.verifier.verify(request.headers[INGESTION_KEY_HEADER])) {
      replyError(reply, metrics, 'unauthorized');
      return;
    }
    if (opts.lacksRoom(minRoom)) {
      replyError(reply, metrics, 'queue_full');
      return;
    }
    done();
  };
}
