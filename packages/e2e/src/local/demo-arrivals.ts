import type { SentLine, SinkApi, SinkEvent } from '../harness/index.js';

/** One event of a demo run as it reached one destination. */
export interface Arrival {
  destination: 'posthog' | 'ga4';
  event: string;
  distinctId: string;
  uuid: string;
  via: string;
  violations: number;
}

// GA4 events carry no uuid; within one demo run (its own id, one event of
// each name) the client id plus the GA4 name identifies the event.
const ga4Name = (event: string) => event.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * Polls the sink until every event a demo run sent has reached PostHog and,
 * when GA4 is on, GA4; returns one arrival per event per destination.
 */
export async function waitForArrivals(
  sink: SinkApi,
  sent: readonly SentLine[],
  via: string,
  options: { ga4: boolean; timeoutMs: number },
): Promise<Arrival[]> {
  const arrivals: Arrival[] = [];
  for (const line of sent) {
    const ph: SinkEvent = await sink.waitForUuid(line.uuid, { timeoutMs: options.timeoutMs });
    arrivals.push({
      destination: 'posthog',
      event: ph.event,
      distinctId: ph.distinct_id,
      uuid: line.uuid,
      via,
      violations: 0,
    });
    if (!options.ga4) continue;
    const [ga] = await sink.waitForEvents(
      { destination: 'ga4', distinct_id: ph.distinct_id, event: ga4Name(ph.event) },
      1,
      { timeoutMs: options.timeoutMs },
    );
    if (ga) {
      arrivals.push({
        destination: 'ga4',
        event: ga.event,
        distinctId: ga.distinct_id,
        uuid: line.uuid,
        via,
        violations: ga.violations?.length ?? 0,
      });
    }
  }
  return arrivals;
}

/** `posthog  runtime.run.finished  distinct=<id>  uuid=<uuid>  via udp`, aligned in columns. */
export function formatArrival(a: Arrival): string {
  const warn = a.violations > 0 ? `  !! ${a.violations} GA4 validation problem(s)` : '';
  return `${a.destination.padEnd(8)} ${a.event.padEnd(22)} distinct=${a.distinctId}  uuid=${a.uuid}  via ${a.via}${warn}`;
}
