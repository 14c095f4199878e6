import type { FastifyInstance, FastifyRequest } from 'fastify';
import { faultHook } from './fault-hook.js';
import { parsePostHogPayload } from './posthog-payload.js';
import { decodeBody, MAX_BODY_BYTES } from './request-body.js';
import type { SinkState } from './sink-state.js';

/** PostHog's capture paths; each answers with and without the trailing slash. */
export const POSTHOG_PATHS = ['/batch', '/capture', '/e', '/i/v0/e'] as const;

interface PostHogQuery {
  Querystring: { token?: string; api_key?: string };
}

function pathOf(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q === -1 ? request.url : request.url.slice(0, q);
}

/** PostHog's capture API. Register in its own context: it replaces the body parsers. */
export async function posthogRoutes(app: FastifyInstance, opts: { state: SinkState }) {
  const { state } = opts;
  // SDKs send gzip labelled as JSON, text/plain, form data or nothing at all:
  // take every body as bytes and decide from its content.
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

  const preHandler = faultHook(state, 'posthog');
  const handler = async (request: FastifyRequest<PostHogQuery>) => {
    const reject = (status: number, type: string, code: string, detail: string) => {
      state.countRejected();
      return { status, body: { type, code, detail, attr: null } };
    };
    const decoded = decodeBody(request.body);
    let outcome: { status: number; body: unknown };
    if (!decoded.ok) {
      outcome = reject(400, 'validation_error', 'invalid_payload', decoded.reason);
    } else {
      const query = request.query;
      const parsed = parsePostHogPayload(decoded.value, query.token ?? query.api_key);
      if (!parsed.ok) {
        const type = parsed.status === 401 ? 'authentication_error' : 'validation_error';
        outcome = reject(parsed.status, type, parsed.code, parsed.detail);
      } else if (state.apiKey !== undefined && parsed.apiKey !== state.apiKey) {
        outcome = reject(401, 'authentication_error', 'invalid_api_key', 'Project API key invalid');
      } else {
        const receivedAt = Date.now();
        const path = pathOf(request);
        for (const e of parsed.events) {
          state.store.add({
            receivedAt,
            destination: 'posthog',
            path,
            ...e,
            api_key: parsed.apiKey,
          });
        }
        state.countEvents('posthog', parsed.events.length);
        outcome = { status: 200, body: { status: 'Ok' } };
      }
    }
    return outcome;
  };

  for (const base of POSTHOG_PATHS) {
    for (const url of [base, `${base}/`]) {
      app.post<PostHogQuery>(url, { preHandler }, async (request, reply) => {
        const { status, body } = await handler(request);
        return reply.code(status).send(body);
      });
    }
  }
}
