import {
  CANONICAL_EVENTS,
  INSTALL_EVENT_ALIASES,
  INSTALL_EVENTS,
  LEGACY_EVENTS,
  MAX_EVENT_BYTES,
} from './constants.js';
import type { TelemetryEvent, WireEventName } from './event-types.js';
import {
  DISPATCH_CATEGORIES,
  type EventClass,
  FIELD_POLICY,
  type FieldPolicy,
  IGNORED_KEYS,
  SUMMED_CATEGORIES,
} from './field-policy.js';
import type { ValueProblem } from './field-types.js';

/** Stable rejection codes. Clients, the worker's 400 bodies and metrics all use these. */
export const REJECT_CODES = [
  'invalid_json',
  'too_large',
  'not_object',
  'unknown_event',
  'missing_field',
  'wrong_type',
  'invalid_string',
  'invalid_value',
] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** Why an input is not an event: a stable code, the JSON pointer of the offending field, and a human sentence. */
export interface SchemaIssue {
  code: RejectCode;
  path: string;
  message: string;
}

/**
 * What happened to one field of an accepted event:
 * - `normalized`: the value was rewritten by its field's rule and kept;
 * - `wrong_type`, `out_of_range`, `invalid_string`, `invalid_value`: dropped;
 * - `not_forwarded`: a known field the contract never forwards (ids, sizes, logs);
 * - `unknown_field`: not part of the contract (`field` is its container + `.*`).
 */
export type FieldFixReason = 'normalized' | ValueProblem | 'not_forwarded' | 'unknown_field';

/** One field fix. `field` is a bounded label (a policy field or `container.*`), safe as a metric label. */
export interface FieldFix {
  field: string;
  reason: FieldFixReason;
}

export type ParseResult =
  | { ok: true; event: TelemetryEvent; fixes: FieldFix[] }
  | { ok: false; error: SchemaIssue };

const fail = (code: RejectCode, path: string, message: string): ParseResult => ({
  ok: false,
  error: { code, path, message },
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Containers, parents before children. A field's container is the longest
// one its dotted name starts with (keys such as `runtime.failure.stage`
// contain dots themselves).
const CONTAINERS = [
  '',
  'payload',
  'payload.counters',
  'payload.provider',
  'payload.provider.device',
  'payload.provider.telemetry',
  ...DISPATCH_CATEGORIES.map((c) => `payload.provider.telemetry.${c}`),
] as const;

function splitPath(path: string): { container: string; key: string } {
  let container = '';
  for (const c of CONTAINERS) {
    if (c !== '' && path.startsWith(`${c}.`) && c.length > container.length) container = c;
  }
  return { container, key: container === '' ? path : path.slice(container.length + 1) };
}

const pointer = (field: string): string => {
  const { container, key } = splitPath(field);
  return `${container === '' ? '' : `/${container.split('.').join('/')}`}/${key}`;
};

interface Step {
  policy: FieldPolicy;
  key: string;
  /** Output container and key; undefined: read, never kept. */
  out?: { container: string; key: string };
  required: boolean;
}

interface ContainerPlan {
  path: string;
  parent: string;
  /** The key in the parent. */
  key: string;
  steps: Step[];
  known: Set<string>;
}

function plan(eventClass: EventClass): ContainerPlan[] {
  const plans = new Map<string, ContainerPlan>();
  for (const path of CONTAINERS) {
    const { container, key } = splitPath(path);
    plans.set(path, { path, parent: container, key, steps: [], known: new Set() });
  }
  // Containers are known keys of their parents.
  for (const p of plans.values()) if (p.path !== '') plans.get(p.parent)?.known.add(p.key);
  for (const policy of FIELD_POLICY) {
    if (!policy.events.includes(eventClass)) continue;
    const { container, key } = splitPath(policy.field);
    const target = plans.get(container) as ContainerPlan;
    target.known.add(key);
    target.steps.push({
      policy,
      key,
      out: policy.to === undefined ? undefined : splitPath(policy.to),
      required: policy.requiredOn?.includes(eventClass) ?? false,
    });
  }
  for (const key of IGNORED_KEYS) plans.get('')?.known.add(key);
  if (eventClass === 'install') {
    // Installers have no payload of their own beyond the envelope's `payload`.
    return [...plans.values()].filter((p) => p.path === '' || p.path === 'payload');
  }
  return [...plans.values()];
}

const PLANS: Record<EventClass, ContainerPlan[]> = {
  started: plan('started'),
  finished: plan('finished'),
  install: plan('install'),
};

type Label = { wire: WireEventName; eventClass: EventClass };
const LABELS = new Map<string, Label>([
  [CANONICAL_EVENTS.runStarted, { wire: CANONICAL_EVENTS.runStarted, eventClass: 'started' }],
  [CANONICAL_EVENTS.runFinished, { wire: CANONICAL_EVENTS.runFinished, eventClass: 'finished' }],
  [LEGACY_EVENTS.runStarted, { wire: LEGACY_EVENTS.runStarted, eventClass: 'started' }],
  [LEGACY_EVENTS.runFinished, { wire: LEGACY_EVENTS.runFinished, eventClass: 'finished' }],
  ...INSTALL_EVENTS.map((n): [string, Label] => [n, { wire: n, eventClass: 'install' }]),
  ...Object.entries(INSTALL_EVENT_ALIASES).map(([alias, n]): [string, Label] => [
    alias,
    { wire: n, eventClass: 'install' },
  ]),
]);

/** Every spelling of an event name `parseEvent` accepts (canonical, legacy and installer aliases). */
export const ACCEPTED_EVENT_NAMES: readonly string[] = [...LABELS.keys()];

const CANONICAL_RUNTIME = new Set<string>([
  CANONICAL_EVENTS.runStarted,
  CANONICAL_EVENTS.runFinished,
]);

/** The canonical event being built; containers are made when their first field is set. */
class Output {
  readonly root: Record<string, unknown> = {};
  private readonly made = new Map<string, Record<string, unknown>>([['', this.root]]);

  private ensure(path: string): Record<string, unknown> {
    const existing = this.made.get(path);
    if (existing) return existing;
    const { container, key } = splitPath(path);
    const made: Record<string, unknown> = {};
    this.ensure(container)[key] = made;
    this.made.set(path, made);
    return made;
  }

  has(container: string, key: string): boolean {
    return this.made.get(container)?.[key] !== undefined;
  }

  get(container: string, key: string): unknown {
    return this.made.get(container)?.[key];
  }

  set(container: string, key: string, value: unknown): void {
    this.ensure(container)[key] = value;
  }
}

function resolveLabel(input: Record<string, unknown>): Label | SchemaIssue {
  let field = 'event_label';
  let label = input.event_label;
  if (label === undefined || label === null) {
    for (const alt of ['event', 'eventLabel']) {
      if (input[alt] !== undefined && input[alt] !== null) {
        field = alt;
        label = input[alt];
        break;
      }
    }
  }
  if (label === undefined || label === null) {
    return { code: 'missing_field', path: '/event_label', message: 'event_label is required' };
  }
  if (typeof label !== 'string') {
    return { code: 'wrong_type', path: `/${field}`, message: `${field} must be a string` };
  }
  const known = LABELS.get(label);
  if (!known) {
    return { code: 'unknown_event', path: `/${field}`, message: `${field} is not a known event` };
  }
  return known;
}

/** The sum, or undefined when there is nothing to add or any part is missing or invalid. */
function sumOf(values: unknown[]): number | undefined {
  if (values.length === 0) return undefined;
  let total = 0;
  for (const v of values) {
    if (typeof v !== 'number') return undefined;
    total += v;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Checks an already-decoded value against the field policy and returns the
 * event in its canonical wire shape, holding only contract fields, plus what
 * was fixed on the way. Never throws: any input, however hostile, yields the
 * event or a {@link SchemaIssue}.
 *
 * Refused only when what identifies the event or carries its meaning is wrong
 * (name, uuid, ids, run kind, the core booleans, a payload that is not an
 * object). A decoration field outside its bound is normalized or dropped and
 * reported in `fixes`; unknown fields are dropped and reported too.
 */
export function parseEvent(input: unknown): ParseResult {
  try {
    if (!isRecord(input)) return fail('not_object', '', 'an event must be a JSON object');
    const label = resolveLabel(input);
    if ('code' in label) return { ok: false, error: label };
    const { wire, eventClass } = label;
    const fixes: FieldFix[] = [];
    const out = new Output();
    out.set('', 'event_label', wire);
    const objects = new Map<string, Record<string, unknown>>([['', input]]);

    for (const container of PLANS[eventClass]) {
      let source: Record<string, unknown> | undefined;
      if (container.path === '') source = input;
      else {
        const parent = objects.get(container.parent);
        const raw = parent?.[container.key];
        if (raw === undefined || raw === null) source = undefined;
        else if (isRecord(raw)) source = raw;
        else if (container.path === 'payload' && eventClass !== 'install') {
          return fail('wrong_type', '/payload', 'payload must be an object');
        } else {
          fixes.push({ field: container.path, reason: 'wrong_type' });
          source = undefined;
        }
      }
      if (source === undefined) {
        if (container.path === 'payload' && eventClass !== 'install') {
          return fail('missing_field', '/payload', 'payload is required');
        }
        continue;
      }
      objects.set(container.path, source);

      for (const step of container.steps) {
        const raw = source[step.key];
        const { policy } = step;
        if (raw === undefined || raw === null) {
          if (step.required && !(step.out && out.has(step.out.container, step.out.key))) {
            return fail('missing_field', pointer(policy.field), `${policy.field} is required`);
          }
          continue;
        }
        if (policy.type === undefined) {
          fixes.push({ field: policy.field, reason: 'not_forwarded' });
          continue;
        }
        // An empty optional id (an installer whose id file was empty) says
        // nothing: it is treated as absent, not as a malformed identity.
        if (raw === '' && policy.role === 'identity' && !step.required) {
          fixes.push({ field: policy.field, reason: 'invalid_string' });
          continue;
        }
        const checked = policy.type.check(raw);
        if (!checked.ok) {
          if (policy.role === 'identity') {
            return fail(
              checked.problem === 'out_of_range' ? 'invalid_value' : checked.problem,
              pointer(policy.field),
              `${policy.field} must be ${policy.type.bound}`,
            );
          }
          fixes.push({ field: policy.field, reason: checked.problem });
          continue;
        }
        if (step.out === undefined) continue;
        // An earlier spelling of the same field wins.
        if (out.has(step.out.container, step.out.key)) continue;
        if (checked.normalized) fixes.push({ field: policy.field, reason: 'normalized' });
        out.set(step.out.container, step.out.key, checked.value);
      }

      for (const key of Object.keys(source)) {
        if (container.known.has(key)) continue;
        fixes.push({
          field: container.path === '' ? '*' : `${container.path}.*`,
          reason: 'unknown_field',
        });
      }
    }

    if (eventClass === 'finished') deriveSnapshotTotals(objects, out);
    const event = out.root;
    if (eventClass === 'install') {
      event.run_kind = 'install';
      if (event.session_id === undefined && event.cid === undefined && event.uuid === undefined) {
        return fail(
          'missing_field',
          '/session_id',
          'an installer event needs a session_id, a cid or a uuid to be told apart',
        );
      }
    } else if (CANONICAL_RUNTIME.has(wire) && event.uuid === undefined) {
      return fail('missing_field', '/uuid', 'uuid is required on runtime.run.* events');
    }
    return { ok: true, event: event as unknown as TelemetryEvent, fixes };
  } catch {
    // Only exotic inputs get here (proxies, throwing getters); JSON never does.
    return fail('invalid_value', '', 'event could not be inspected');
  }
}

// `gpu_dispatches` / `gpu_wall_ns` as the Rust runtime computes them from its
// snapshot (`ProviderSnapshot::gpu_dispatches`), when the event carries none.
function deriveSnapshotTotals(objects: Map<string, Record<string, unknown>>, out: Output): void {
  if (!objects.has('payload.provider.telemetry')) return;
  const counts: unknown[] = [];
  const walls: unknown[] = [];
  for (const category of SUMMED_CATEGORIES) {
    const path = `payload.provider.telemetry.${category}`;
    if (!objects.has(path)) continue;
    counts.push(out.get('payload', `gpu_${category}_dispatches`));
    const wall = objects.get(path)?.total_wall_time_ns;
    walls.push(
      typeof wall === 'number' && Number.isSafeInteger(wall) && wall >= 0 ? wall : undefined,
    );
  }
  const dispatches = sumOf(counts);
  const wallNs = sumOf(walls);
  if (dispatches !== undefined && !out.has('payload', 'gpu_dispatches')) {
    out.set('payload', 'gpu_dispatches', dispatches);
  }
  if (wallNs !== undefined && !out.has('payload', 'gpu_wall_ns')) {
    out.set('payload', 'gpu_wall_ns', wallNs);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

// Node's native byte count is ~20x faster than the portable loop; browsers get the loop.
const nodeBuffer = (globalThis as { Buffer?: { byteLength(s: string): number } }).Buffer;
const byteLength = nodeBuffer ? (s: string) => nodeBuffer.byteLength(s) : utf8ByteLength;

/**
 * Decodes one serialized event (a datagram or a request body): checks the
 * byte budget first, then UTF-8 and JSON, then {@link parseEvent}.
 */
export function parseEventJson(raw: string | Uint8Array, maxBytes = MAX_EVENT_BYTES): ParseResult {
  const size = typeof raw !== 'string' ? raw.byteLength : byteLength(raw);
  if (size > maxBytes) return fail('too_large', '', `event is ${size} bytes, limit ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : decoder.decode(raw));
  } catch {
    return fail('invalid_json', '', 'event is not valid UTF-8 JSON');
  }
  return parseEvent(value);
}

/** True when `label` is a name (or alias) the contract accepts. */
export function isKnownEventLabel(label: string): boolean {
  return LABELS.has(label);
}

/** UTF-8 size of a string without allocating (works in browsers, where there is no Buffer). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
