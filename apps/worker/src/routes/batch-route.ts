import { isIP } from 'node:net';
import { ROUTES, TIMESTAMP_MAX_AGE_MS, TIMESTAMP_MAX_SKEW_MS } from '@runmat-telemetry/schema';
import type { FastifyInstance } from 'fastify';
import { RETRY_AFTER_SECONDS } from '../http-errors.js';
import type { BatchItem, EventIntake } from '../ingest/event-intake.js';
import type { WorkerMetrics } from '../metrics.js';
import { errorSchema, replyError } from './reply-error.js';

/** Most items one `/v1/batch` request may carry. */
export const MAX_BATCH_ITEMS = 1000;

/** Settings for the batch route. */
export interface BatchRouteOptions {
  intake: EventIntake;
  metrics: WorkerMetrics;
  bodyLimit: number;
}

const batchSchema = {
  type: 'object',
  properties: {
    accepted: { type: 'integer' },
    duplicates: { type: 'integer' },
    rejected: { type: 'integer' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          status: { type: 'string' },
          code: { type: 'string' },
          path: { type: 'string' },
        },
        required: ['status'],
      },
    },
  },
  required: ['accepted', 'duplicates', 'rejected', 'results'],
} as const;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The forwarder's receipt time when it is a number within the window the
 * schema trusts client clocks in (72 h back, 10 min ahead); anything else is
 * ignored and the worker's own receipt time is used.
 */
function plausibleReceipt(at: unknown, now: number): number | undefined {
  if (typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  return at >= now - TIMESTAMP_MAX_AGE_MS && at <= now + TIMESTAMP_MAX_SKEW_MS ? at : undefined;
}

/**
 * Unwraps `{"events":[{"event":{...},"client_ip"?,"received_at"?}]}`. Returns
 * null when the envelope itself is malformed; a malformed item becomes an
 * item whose event is not an object, so it is rejected on its own.
 */
export function readBatchItems(body: unknown): BatchItem[] | null {
  if (!isRecord(body) || !Array.isArray(body.events)) return null;
  const events = body.events as unknown[];
  if (events.length === 0 || events.length > MAX_BATCH_ITEMS) return null;
  const items: BatchItem[] = new Array(events.length);
  const now = Date.now();
  for (let i = 0; i < events.length; i++) {
    const raw = events[i];
    if (!isRecord(raw)) {
      items[i] = { event: undefined, clientIp: undefined, receivedAt: undefined };
      continue;
    }
    const ip = raw.client_ip;
    const at = raw.received_at;
    items[i] = {
      event: raw.event,
      // Transport metadata from the forwarder: ignored (never forwarded) when malformed.
      clientIp: typeof ip === 'string' && ip.length <= 45 && isIP(ip) !== 0 ? ip : undefined,
      receivedAt: plausibleReceipt(at, now),
    };
  }
  return items;
}

/** `POST /v1/batch`: the forwarder's route, answered per event. */
export function registerBatchRoute(app: FastifyInstance, opts: BatchRouteOptions): void {
  const { intake, metrics } = opts;
  app.post(
    ROUTES.batch,
    {
      bodyLimit: opts.bodyLimit,
      schema: { response: { 200: batchSchema, '4xx': errorSchema, '5xx': errorSchema } },
    },
    async (request, reply) => {
      const items = readBatchItems(request.body);
      if (items === null) return replyError(reply, metrics, 'invalid_batch');
      const outcome = await intake.acceptBatch(items);
      if (outcome.kind === 'queue_full') {
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        return reply.code(503).send({ error: 'queue_full' });
      }
      return reply.code(200).send(outcome);
    },
  );
}
