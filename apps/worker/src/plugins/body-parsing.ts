import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** Fastify's JSON body parser as configured here (the signature `addContentTypeParser` takes). */
export type JsonBodyParser = (
  request: FastifyRequest,
  body: string,
  done: (err: Error | null, body?: unknown) => void,
) => void;

declare module 'fastify' {
  interface FastifyInstance {
    /** The JSON parser every route uses, for scopes that accept JSON under another media type. */
    jsonBodyParser: JsonBodyParser;
  }
}

// Only JSON is accepted (415 otherwise; beacons may label theirs text/plain,
// see single-event-routes.ts). `__proto__` / `constructor.prototype`
// keys are removed rather than failing the body: they are just more fields
// outside the allowlist, and one hostile event must not sink a batch.
const plugin: FastifyPluginAsync = async (app) => {
  app.removeAllContentTypeParsers();
  const jsonParser = app.getDefaultJsonParser('remove', 'remove');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser);
  app.decorate('jsonBodyParser', jsonParser as JsonBodyParser);
};

/** JSON only, prototype-polluting keys removed; decorates `app.jsonBodyParser`. */
export const bodyParsingPlugin = fp(plugin, { name: 'worker-body-parsing', fastify: '5.x' });
