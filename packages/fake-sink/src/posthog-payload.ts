/** One event from a PostHog capture request, with its key resolved. */
export interface PostHogCapture {
  event: string;
  distinct_id: string;
  uuid?: string;
  timestamp?: string;
  properties: Record<string, unknown>;
}

export type PostHogPayload =
  | { ok: true; apiKey: string; events: PostHogCapture[] }
  | { ok: false; status: 400 | 401; code: string; detail: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

function keyOf(item: Record<string, unknown>): string | undefined {
  const props = isRecord(item.properties) ? item.properties : {};
  return nonEmptyString(item.api_key) ?? nonEmptyString(item.token) ?? nonEmptyString(props.token);
}

function distinctIdOf(item: Record<string, unknown>): string | undefined {
  const props = isRecord(item.properties) ? item.properties : {};
  const raw = item.distinct_id ?? item.$distinct_id ?? props.distinct_id;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return nonEmptyString(raw);
}

/**
 * Reads the three body shapes PostHog's capture endpoint accepts: a batch
 * object `{api_key, batch: [...]}`, a bare array of events, or one event.
 * The project key may sit on the body, on each event, in `properties.token`,
 * or in the query string (`?token=` / `?api_key=`). Like PostHog, a missing
 * key is checked before the events, and one bad event fails the request.
 */
export function parsePostHogPayload(body: unknown, queryKey?: string): PostHogPayload {
  let items: unknown[];
  let bodyKey: string | undefined;
  if (Array.isArray(body)) {
    items = body;
  } else if (isRecord(body) && Array.isArray(body.batch)) {
    items = body.batch;
    bodyKey = keyOf(body);
  } else if (isRecord(body)) {
    items = [body];
  } else {
    return {
      ok: false,
      status: 400,
      code: 'invalid_payload',
      detail: 'body must be a JSON object or array',
    };
  }

  const firstItem = items.find(isRecord);
  const apiKey = bodyKey ?? (firstItem ? keyOf(firstItem) : undefined) ?? nonEmptyString(queryKey);
  if (apiKey === undefined) {
    return {
      ok: false,
      status: 401,
      code: 'missing_api_key',
      detail: 'API key is missing: send api_key or token with the request',
    };
  }
  if (items.length === 0) {
    return { ok: false, status: 400, code: 'empty_batch', detail: 'the batch has no events' };
  }

  const events: PostHogCapture[] = [];
  for (const [i, item] of items.entries()) {
    if (!isRecord(item)) {
      return {
        ok: false,
        status: 400,
        code: 'invalid_payload',
        detail: `event ${i} is not an object`,
      };
    }
    const event = nonEmptyString(item.event);
    if (event === undefined) {
      return {
        ok: false,
        status: 400,
        code: 'missing_event_name',
        detail: `event ${i} has no event name`,
      };
    }
    const distinctId = distinctIdOf(item);
    if (distinctId === undefined) {
      return {
        ok: false,
        status: 400,
        code: 'missing_distinct_id',
        detail: `event ${i} has no distinct_id`,
      };
    }
    const capture: PostHogCapture = {
      event,
      distinct_id: distinctId,
      properties: isRecord(item.properties) ? item.properties : {},
    };
    const uuid = nonEmptyString(item.uuid);
    if (uuid !== undefined) capture.uuid = uuid;
    const timestamp = nonEmptyString(item.timestamp);
    if (timestamp !== undefined) capture.timestamp = timestamp;
    events.push(capture);
  }
  return { ok: true, apiKey, events };
}
