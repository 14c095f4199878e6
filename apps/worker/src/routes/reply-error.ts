import type { FastifyReply } from 'fastify';
import {
  type ErrorBody,
  HTTP_STATUS,
  type HttpErrorCode,
  RETRY_AFTER_SECONDS,
} from '../http-errors.js';
import type { WorkerMetrics } from '../metrics.js';

/** Sends `{"error": code}` with the status mapped in `HTTP_STATUS` and counts it. */
export function replyError(
  reply: FastifyReply,
  metrics: WorkerMetrics,
  code: HttpErrorCode,
): FastifyReply {
  metrics.rejected.labels(code).inc();
  const status = HTTP_STATUS[code];
  if (status === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const body: ErrorBody = { error: code };
  return reply.code(status).send(body);
}

/** Response schema shared by every error status (fast serialization, no leaks). */
export const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, path: { type: 'string' } },
  required: ['error'],
} as const;
