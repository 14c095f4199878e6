import { ROUTES } from '@runmat-telemetry/schema';
import type { FastifyInstance } from 'fastify';
import { RETRY_AFTER_SECONDS } from '../http-errors.js';
import type { EventIntake } from '../ingest/event-intake.js';
import { errorSchema } from './reply-error.js';

/** Settings for the single-event routes. */
export interface IngestRouteOptions {
  intake: EventIntake;
  bodyLimit: number;
  /** Whether the sender's IP is forwarded at all (FORWARD_CLIENT_IP). */
  forwardClientIp: boolean;
}

const acceptedSchema = {
  type: 'object',
  properties: { status: { type: 'string' }, uuid: { type: 'string' } },
  required: ['status', 'uuid'],
} as const;

/** `POST /ingest` and `POST /v1/t`: one event per request, answered 202 once queued. */
export function registerIngestRoutes(app: FastifyInstance, opts: IngestRouteOptions): void {
  const { intake, forwardClientIp } = opts;
  for (const url of [ROUTES.ingest, ROUTES.ingestV1]) {
    app.post(
      url,
      {
        bodyLimit: opts.bodyLimit,
        schema: {
          response: {
            202: acceptedSchema,
            '4xx': errorSchema,
            '5xx': errorSchema,
          },
        },
      },
      async (request, reply) => {
        // request.ip walks X-Forwarded-For under trustProxy: only when it is forwarded.
        const outcome = await intake.acceptOne(
          request.body,
          forwardClientIp ? request.ip : undefined,
        );
        switch (outcome.kind) {
          case 'accepted':
          case 'duplicate':
            return reply.code(202).send({ status: outcome.kind, uuid: outcome.uuid });
          case 'rejected':
            return reply.code(400).send({ error: outcome.code, path: outcome.path });
          case 'queue_full':
            // Counted by the intake; replyError would count it twice.
            reply.header('retry-after', String(RETRY_AFTER_SECONDS));
            return reply.code(503).send({ error: 'queue_full' });
        }
      },
    );
  }
}
