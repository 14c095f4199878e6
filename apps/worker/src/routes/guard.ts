import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IngestionKeyVerifier } from '../auth/ingestion-key.js';
import type { WorkerMetrics } from '../metrics.js';
import { replyError } from './reply-error.js';

/** Settings for {@link createIngestGuard}. */
export interface GuardOptions {
  verifier: IngestionKeyVerifier;
  metrics: WorkerMetrics;
  isClosing: () => boolean;
}

/**
 * `onRequest` hook for the ingest routes: runs before the body is read, so a
 * worker that is shutting down or a caller without a valid key costs no
 * parsing and nothing from that request is ever forwarded.
 */
export function createIngestGuard(opts: GuardOptions) {
  return async function ingestGuard(request: FastifyRequest, reply: FastifyReply) {
    if (opts.isClosing()) return replyError(reply, opts.metrics, 'shutting_down');
    if (!opts.verifier.verify(request.headers[INGESTION_KEY_HEADER])) {
      return replyError(reply, opts.metrics, 'unauthorized');
    }
  };
}
