import type { FastifyInstance } from 'fastify';
import { faultHook } from './fault-hook.js';
import { validateGa4Request } from './ga4-validation.js';
import { decodeBody, MAX_BODY_BYTES } from './request-body.js';
import type { SinkState } from './sink-state.js';

interface Ga4Query {
  Querystring: { measurement_id?: string; api_secret?: string; firebase_app_id?: string };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * GA4's Measurement Protocol. `/mp/collect` answers 204 to anything, as GA4
 * does, so the sink records each event with the rules it broke; the debug
 * route answers with those findings instead of recording.
 */
export async function ga4Routes(app: FastifyInstance, opts: { state: SinkState }) {
  const { state } = opts;
  // GA4 takes any content type (sendBeacon sends text/plain); read raw bytes.
  app.addHook('onRequest', async (request) => {
    // An empty Content-Type header would otherwise be refused with 415.
    if (request.headers['content-type'] === '') delete request.headers['content-type'];
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES },
    (_req, body, done) => {
      done(null, body);
    },
  );
  const preHandler = faultHook(state, 'ga4');

  app.post<Ga4Query>('/mp/collect', { preHandler }, async (request, reply) => {
    const decoded = decodeBody(request.body);
    const { measurement_id: measurementId, api_secret: apiSecret } = request.query;
    const body = decoded.ok ? decoded.value : undefined;
    const validation = validateGa4Request(body, {
      measurementId,
      firebaseAppId: request.query.firebase_app_id,
      apiSecret,
      requireApiSecret: true,
    });
    state.countViolations(validation.all.length);
    // GA4 answers 2xx to a wrong secret and silently discards the data.
    if (state.gaApiSecret !== undefined && apiSecret !== state.gaApiSecret) {
      state.countGa4Dropped();
      return reply.code(204).send();
    }
    if (isRecord(body) && Array.isArray(body.events)) {
      const receivedAt = Date.now();
      const clientId = body.client_id ?? body.app_instance_id;
      body.events.forEach((raw, i) => {
        const event = isRecord(raw) ? raw : {};
        const violations = [...validation.request, ...(validation.events[i] ?? [])];
        const timestamp = event.timestamp_micros ?? body.timestamp_micros;
        state.store.add({
          receivedAt,
          destination: 'ga4',
          path: '/mp/collect',
          event: typeof event.name === 'string' ? event.name : '',
          distinct_id: typeof clientId === 'string' ? clientId : '',
          ...(typeof timestamp === 'number' || typeof timestamp === 'string' ? { timestamp } : {}),
          properties: isRecord(event.params) ? event.params : {},
          ...(measurementId !== undefined ? { measurement_id: measurementId } : {}),
          ...(violations.length > 0 ? { violations } : {}),
        });
      });
      state.countEvents('ga4', body.events.length);
    }
    return reply.code(204).send();
  });

  app.post<Ga4Query>('/debug/mp/collect', { preHandler }, async (request, reply) => {
    state.countDebugRequest();
    const decoded = decodeBody(request.body);
    const validation = validateGa4Request(decoded.ok ? decoded.value : undefined, {
      measurementId: request.query.measurement_id,
      firebaseAppId: request.query.firebase_app_id,
    });
    return reply.code(200).send({ validationMessages: validation.all });
  });
}
