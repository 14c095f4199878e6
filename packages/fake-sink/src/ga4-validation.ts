import type { Ga4ValidationMessage } from './event-store.js';

// GA4's Measurement Protocol rules, written here from GA4's documentation rather
// than imported from the schema package: the sink is the oracle that checks the
// worker's GA4 mapping, so it must not share that mapping's code.

/** GA4's Measurement Protocol limits, as documented. */
export const GA4_RULES = {
  maxEventsPerRequest: 25,
  maxParamsPerEvent: 25,
  maxUserProperties: 25,
  maxEventNameLength: 40,
  maxParamNameLength: 40,
  maxParamValueLength: 100,
  maxUserPropertyNameLength: 24,
  maxUserPropertyValueLength: 36,
} as const;

const RESERVED_EVENT_NAMES = new Set([
  'ad_activeview',
  'ad_click',
  'ad_exposure',
  'ad_impression',
  'ad_query',
  'ad_reward',
  'adunit_exposure',
  'app_background',
  'app_clear_data',
  'app_exception',
  'app_install',
  'app_remove',
  'app_store_refund',
  'app_update',
  'app_upgrade',
  'dynamic_link_app_open',
  'dynamic_link_app_update',
  'dynamic_link_first_open',
  'error',
  'firebase_campaign',
  'firebase_in_app_message_action',
  'firebase_in_app_message_dismiss',
  'firebase_in_app_message_impression',
  'first_open',
  'first_visit',
  'in_app_purchase',
  'notification_dismiss',
  'notification_foreground',
  'notification_open',
  'notification_receive',
  'notification_send',
  'os_update',
  'session_start',
  'session_start_with_rollout',
  'user_engagement',
]);
const RESERVED_PARAM_NAMES = new Set(['firebase_conversion']);
const RESERVED_USER_PROPERTY_NAMES = new Set([
  'first_open_time',
  'first_visit_time',
  'last_deep_link_referrer',
  'user_id',
  'first_open_after_install',
]);
// "_" and "gtag." are reserved too, but a name starting with either already
// fails the alphabet rule, which GA4 reports first (as NAME_INVALID).
const RESERVED_PREFIXES = ['ga_', 'google_', 'firebase_'];

const NAME_ALPHABET = /^[A-Za-z0-9_]*$/;
const STARTS_WITH_LETTER = /^[A-Za-z]/;

type Code = Ga4ValidationMessage['validationCode'];

function msg(fieldPath: string, validationCode: Code, description: string): Ga4ValidationMessage {
  return { fieldPath, description, validationCode };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why a name breaks the alphabet/length rules, or undefined when it does not. */
function nameShapeProblem(name: string, maxLength: number): string | undefined {
  if (name.length === 0) return 'Names must not be empty.';
  if (!STARTS_WITH_LETTER.test(name)) return 'Names must start with an alphabetic character.';
  if (!NAME_ALPHABET.test(name)) {
    return 'Only alphanumeric characters and underscores are allowed.';
  }
  if (name.length > maxLength) return `Names must be ${maxLength} characters or fewer.`;
  return undefined;
}

function reservedPrefix(name: string): string | undefined {
  return RESERVED_PREFIXES.find((p) => name.startsWith(p));
}

/** GA4's findings for one request body, split by where they belong. */
export interface Ga4Validation {
  /** Problems with the request as a whole (client_id, event count, user properties). */
  request: Ga4ValidationMessage[];
  /** Problems with each event, parallel to `body.events` (empty when events is not an array). */
  events: Ga4ValidationMessage[][];
  /** Every message in request order, as `/debug/mp/collect` answers them. */
  all: Ga4ValidationMessage[];
}

/** Options that are not part of the JSON body. */
export interface Ga4RequestContext {
  /** `measurement_id` from the query string; GA4 drops requests without one. */
  measurementId?: string | undefined;
  /** `firebase_app_id`, which app streams send instead of measurement_id. */
  firebaseAppId?: string | undefined;
  /**
   * `api_secret` from the query string, checked only when `requireApiSecret`
   * is set: GA4's validation server ignores it, but `/mp/collect` drops
   * requests without one, so the sink flags its absence there.
   */
  apiSecret?: string | undefined;
  requireApiSecret?: boolean;
}

function validateEvent(event: unknown, index: number): Ga4ValidationMessage[] {
  const out: Ga4ValidationMessage[] = [];
  if (!isRecord(event)) {
    out.push(msg('events', 'VALUE_INVALID', `Event at index: [${index}] must be an object.`));
    return out;
  }
  const { name, params } = event;
  if (
    event.timestamp_micros !== undefined &&
    !(typeof event.timestamp_micros === 'number' && Number.isInteger(event.timestamp_micros))
  ) {
    out.push(
      msg(
        'events.timestamp_micros',
        'VALUE_INVALID',
        `Event at index: [${index}] has a timestamp_micros that is not an integer.`,
      ),
    );
  }
  if (name === undefined || name === null || name === '') {
    out.push(msg('events', 'VALUE_REQUIRED', `Event at index: [${index}] is missing a name.`));
  } else if (typeof name !== 'string') {
    out.push(msg('events', 'VALUE_INVALID', `Event at index: [${index}] has a non-string name.`));
  } else {
    const problem = nameShapeProblem(name, GA4_RULES.maxEventNameLength);
    if (problem !== undefined) {
      out.push(
        msg(
          'events',
          'NAME_INVALID',
          `Event at index: [${index}] has invalid name [${name}]. ${problem}`,
        ),
      );
    } else if (RESERVED_EVENT_NAMES.has(name)) {
      out.push(
        msg('events', 'NAME_RESERVED', `Event at index: [${index}] has reserved name [${name}].`),
      );
    } else {
      const prefix = reservedPrefix(name);
      if (prefix !== undefined) {
        out.push(
          msg(
            'events',
            'NAME_RESERVED',
            `Event at index: [${index}] has name [${name}] with reserved prefix [${prefix}].`,
          ),
        );
      }
    }
  }
  if (params === undefined) return out;
  if (!isRecord(params)) {
    out.push(
      msg(
        'events.params',
        'VALUE_INVALID',
        `Event at index: [${index}] has params that are not an object.`,
      ),
    );
    return out;
  }
  const names = Object.keys(params);
  if (names.length > GA4_RULES.maxParamsPerEvent) {
    out.push(
      msg(
        'events.params',
        'EXCEEDED_MAX_ENTITIES',
        `Event at index: [${index}] has ${names.length} params; at most ${GA4_RULES.maxParamsPerEvent} are allowed.`,
      ),
    );
  }
  for (const key of names) {
    const value = params[key];
    const problem = nameShapeProblem(key, GA4_RULES.maxParamNameLength);
    if (problem !== undefined) {
      out.push(
        msg(
          'events.params',
          'NAME_INVALID',
          `Event at index: [${index}] has param with invalid name [${key}]. ${problem}`,
        ),
      );
    } else if (RESERVED_PARAM_NAMES.has(key) || reservedPrefix(key) !== undefined) {
      out.push(
        msg(
          'events.params',
          'NAME_RESERVED',
          `Event at index: [${index}] has reserved param name [${key}].`,
        ),
      );
    }
    // GA4 takes arrays of objects only for `items`; other params must be scalars.
    if (key === 'items' && Array.isArray(value)) continue;
    if (typeof value === 'string') {
      if (value.length > GA4_RULES.maxParamValueLength) {
        out.push(
          msg(
            'events.params',
            'VALUE_OUT_OF_BOUNDS',
            `Event at index: [${index}] has param [${key}] with a value of ${value.length} characters; at most ${GA4_RULES.maxParamValueLength} are allowed.`,
          ),
        );
      }
    } else if (typeof value !== 'number' && typeof value !== 'boolean') {
      out.push(
        msg(
          'events.params',
          'VALUE_INVALID',
          `Event at index: [${index}] has param [${key}] whose value is not a string, number or boolean.`,
        ),
      );
    }
  }
  return out;
}

function validateUserProperties(props: unknown): Ga4ValidationMessage[] {
  const out: Ga4ValidationMessage[] = [];
  if (props === undefined) return out;
  if (!isRecord(props)) {
    return [msg('user_properties', 'VALUE_INVALID', 'user_properties must be an object.')];
  }
  const names = Object.keys(props);
  if (names.length > GA4_RULES.maxUserProperties) {
    out.push(
      msg(
        'user_properties',
        'EXCEEDED_MAX_ENTITIES',
        `${names.length} user properties; at most ${GA4_RULES.maxUserProperties} are allowed.`,
      ),
    );
  }
  for (const key of names) {
    const problem = nameShapeProblem(key, GA4_RULES.maxUserPropertyNameLength);
    if (problem !== undefined) {
      out.push(
        msg(
          'user_properties',
          'NAME_INVALID',
          `User property [${key}] has an invalid name. ${problem}`,
        ),
      );
    } else if (RESERVED_USER_PROPERTY_NAMES.has(key) || reservedPrefix(key) !== undefined) {
      out.push(
        msg('user_properties', 'NAME_RESERVED', `User property [${key}] has a reserved name.`),
      );
    }
    const entry = props[key];
    const value = isRecord(entry) ? entry.value : undefined;
    if (typeof value === 'string' && value.length > GA4_RULES.maxUserPropertyValueLength) {
      out.push(
        msg(
          'user_properties',
          'VALUE_OUT_OF_BOUNDS',
          `User property [${key}] has a value of ${value.length} characters; at most ${GA4_RULES.maxUserPropertyValueLength} are allowed.`,
        ),
      );
    }
  }
  return out;
}

/**
 * Checks one Measurement Protocol request body against GA4's rules and
 * returns the messages GA4's validation server would give, in its shape.
 */
export function validateGa4Request(body: unknown, context: Ga4RequestContext = {}): Ga4Validation {
  const request: Ga4ValidationMessage[] = [];
  const events: Ga4ValidationMessage[][] = [];
  if (!isRecord(body)) {
    request.push(msg('', 'VALUE_INVALID', 'The request body must be a JSON object.'));
    return { request, events, all: request };
  }
  if (!context.measurementId && !context.firebaseAppId) {
    request.push(
      msg('measurement_id', 'VALUE_REQUIRED', 'The measurement_id query parameter is required.'),
    );
  }
  if (context.requireApiSecret && !context.apiSecret) {
    request.push(
      msg('api_secret', 'VALUE_REQUIRED', 'The api_secret query parameter is required.'),
    );
  }
  const clientId = body.client_id;
  if (clientId === undefined || clientId === null || clientId === '') {
    if (body.app_instance_id === undefined) {
      request.push(msg('client_id', 'VALUE_REQUIRED', 'Measurement requires a client_id.'));
    }
  } else if (typeof clientId !== 'string') {
    request.push(msg('client_id', 'VALUE_INVALID', 'client_id must be a string.'));
  }
  if (
    body.timestamp_micros !== undefined &&
    !(typeof body.timestamp_micros === 'number' && Number.isInteger(body.timestamp_micros))
  ) {
    request.push(msg('timestamp_micros', 'VALUE_INVALID', 'timestamp_micros must be an integer.'));
  }
  request.push(...validateUserProperties(body.user_properties));
  const list = body.events;
  if (!Array.isArray(list) || list.length === 0) {
    request.push(msg('events', 'VALUE_REQUIRED', 'Measurement requires at least one event.'));
  } else {
    if (list.length > GA4_RULES.maxEventsPerRequest) {
      request.push(
        msg(
          'events',
          'EXCEEDED_MAX_ENTITIES',
          `${list.length} events in one request; at most ${GA4_RULES.maxEventsPerRequest} are allowed.`,
        ),
      );
    }
    list.forEach((event, i) => {
      events.push(validateEvent(event, i));
    });
  }
  return { request, events, all: [...request, ...events.flat()] };
}
