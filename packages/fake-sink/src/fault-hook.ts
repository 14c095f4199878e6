import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Destination } from './event-store.js';
import type { SinkState } from './sink-state.js';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    // Unref'd so a pending delay never keeps a closing sink's process alive.
    setTimeout(resolve, ms).unref();
  });
}

/**
 * A preHandler for analytics routes: counts the request, then applies the
 * next injected fault (delay, status, or a dropped connection) if there is one.
 * It runs after the body is read, so a dropped request was fully sent, as when
 * a real load balancer dies mid-request.
 */
export function faultHook(state: SinkState, destination: Destination) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    state.countRequest(destination);
    const action = state.faults.take(destination);
    if (action === undefined) return;
    if (action.delayMs !== undefined && action.delayMs > 0) await sleep(action.delayMs);
    if (action.drop) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    if (action.status !== undefined) {
      if (action.status === 429 || action.status === 503) reply.header('retry-after', '1');
      await reply.code(action.status).send({
        type: 'server_error',
        code: 'injected_fault',
        detail: `fake sink: injected ${action.status}`,
        attr: null,
      });
    }
  };
}
