import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { codeForFastifyError } from '../http-errors.js';
import { redactQueries } from '../logging.js';
import { replyError } from '../routes/reply-error.js';

// Every error Fastify raises (parsing, limits, timeouts, a thrown handler)
// and every unknown route answers `{"error": code}` through replyError: one
// mapping, counted. Only an internal error is logged, its message redacted.
const plugin: FastifyPluginAsync = async (app) => {
  const { metrics } = app;
  app.setErrorHandler((err, request, reply) => {
    const code = codeForFastifyError(err as { code?: string; statusCode?: number; name?: string });
    if (code === 'internal_error') {
      request.log.error({
        err: { name: (err as Error).name, message: redactQueries(String((err as Error).message)) },
      });
    }
    return replyError(reply, metrics, code);
  });
  app.setNotFoundHandler((_request, reply) => replyError(reply, metrics, 'not_found'));
};

/** The error and not-found handlers: stable codes (`http-errors.ts`), counted as rejected. */
export const errorsPlugin = fp(plugin, {
  name: 'worker-errors',
  fastify: '5.x',
  dependencies: ['worker-metrics'],
});
