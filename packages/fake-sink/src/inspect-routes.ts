import type { FastifyInstance } from 'fastify';
import type { EventFilter } from './event-store.js';
import { type FaultSpec, FaultSpecError } from './fault-injector.js';
import { computeInsights, computeReleaseInsights } from './insights.js';
import { PAGE_CSP, renderPage } from './page.js';
import type { SinkState } from './sink-state.js';

interface EventsQuery {
  destination?: string;
  event?: string;
  distinct_id?: string;
  /** Only events with a larger `seq`: lets the page fetch just what is new. */
  after?: string;
  /** Only the newest N matching events: lets the page open on a full store cheaply. */
  limit?: string;
}

/** Routes for tests and people: events, stats, faults and the page at `/`. */
export async function inspectRoutes(app: FastifyInstance, opts: { state: SinkState }) {
  const { state } = opts;
  // `curl -d '{...}'` labels JSON as a form; accept any content type as JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        Object.assign(new Error('request body is not valid JSON'), {
          statusCode: 400,
          code: 'invalid_json',
        }),
      );
    }
  });

  app.get('/', async (_request, reply) => {
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', PAGE_CSP)
      .send(renderPage());
  });

  app.get('/_sink/health', async () => ({ status: 'ok' }));

  app.get<{ Querystring: EventsQuery }>('/_sink/events', async (request, reply) => {
    const q = request.query;
    const filter: EventFilter = {};
    if (q.destination !== undefined && q.destination !== '') {
      if (q.destination !== 'posthog' && q.destination !== 'ga4') {
        return reply
          .code(400)
          .send({ error: 'invalid_query', message: 'destination must be posthog or ga4' });
      }
      filter.destination = q.destination;
    }
    if (q.event !== undefined && q.event !== '') filter.event = q.event;
    if (q.distinct_id !== undefined && q.distinct_id !== '') filter.distinct_id = q.distinct_id;
    let events = state.store.list(filter);
    if (q.after !== undefined && q.after !== '') {
      const after = Number(q.after);
      if (!Number.isInteger(after) || after < 0) {
        return reply
          .code(400)
          .send({ error: 'invalid_query', message: 'after must be a non-negative integer' });
      }
      events = events.filter((e) => e.seq > after);
    }
    if (q.limit !== undefined && q.limit !== '') {
      const limit = Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        return reply
          .code(400)
          .send({ error: 'invalid_query', message: 'limit must be a positive integer' });
      }
      if (events.length > limit) events = events.slice(events.length - limit);
    }
    return { events, evicted: state.store.evicted };
  });

  app.delete('/_sink/events', async () => {
    const cleared = state.store.size;
    state.clear();
    return { cleared };
  });

  app.get('/_sink/stats', async () => state.stats());

  // Computed on request from the events held: bounded by the store, O(stored),
  // and reset by DELETE /_sink/events (or eviction) with nothing else to keep in step.
  app.get('/_sink/insights', async () => computeInsights(state.store.list()));

  app.get('/_sink/insights/releases', async () => computeReleaseInsights(state.store.list()));

  app.get('/_sink/faults', async () => ({ faults: state.faults.active() }));

  app.post<{ Body: unknown }>('/_sink/faults', async (request, reply) => {
    try {
      const faults = state.faults.set(request.body as FaultSpec | FaultSpec[]);
      return { faults };
    } catch (err) {
      if (err instanceof FaultSpecError) {
        return reply.code(400).send({ error: err.code, message: err.message });
      }
      throw err;
    }
  });

  app.delete('/_sink/faults', async () => {
    state.faults.clear();
    return { faults: [] };
  });
}
