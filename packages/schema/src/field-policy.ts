/**
 * The field policy: every wire field real RunMat hosts send, its bound, and
 * what happens outside it. This table is the contract. `parseEvent` is driven
 * by it, the schema README's policy table is rendered from it, and the tests
 * walk it.
 *
 * Strict on identity, lenient on decoration: a field that identifies an event
 * or carries its meaning (`role: 'identity'`) refuses the whole event when it
 * is wrong. Any other field (`role: 'decoration'`) outside its bound is
 * normalized by its type's rule or dropped, the event is kept, and the drop is
 * reported per field and reason.
 */
import {
  ARCH_ALIASES,
  FAILURE_COMPONENTS,
  FAILURE_HOSTS,
  FAILURE_STAGES,
  INSTALL_METHODS,
  OS_ALIASES,
  RUN_KINDS,
} from './constants.js';
import {
  anonymousId,
  boolean,
  type Checked,
  count,
  deviceName,
  errorClass,
  eventId,
  type FieldType,
  identifier,
  oneOf,
  ratio,
  release,
  uuid,
  vendor,
  vocabulary,
} from './field-types.js';

/** Which events a field belongs to. */
export type EventClass = 'started' | 'finished' | 'install';

/** A container every field of a given class lives in. */
export type Container =
  | ''
  | 'payload'
  | 'payload.counters'
  | 'payload.provider'
  | 'payload.provider.device'
  | 'payload.provider.telemetry'
  | `payload.provider.telemetry.${DispatchCategory}`;

/** The six dispatch categories of the Rust runtime's `ProviderTelemetry`. */
export const DISPATCH_CATEGORIES = [
  'fused_elementwise',
  'fused_reduction',
  'matmul',
  'linsolve',
  'mldivide',
  'mrdivide',
] as const;
export type DispatchCategory = (typeof DISPATCH_CATEGORIES)[number];
/** The categories the runtime itself sums into `gpu_dispatches` / `gpu_wall_ns` (`ProviderSnapshot`). */
export const SUMMED_CATEGORIES = ['fused_elementwise', 'fused_reduction', 'matmul'] as const;

export interface FieldPolicy {
  /** Where the field is on the wire, dotted (`payload.provider.device.name`). */
  readonly field: string;
  readonly events: readonly EventClass[];
  readonly role: 'identity' | 'decoration';
  /** The field's type, or `forwarded: false` with no type for fields that are read and never kept. */
  readonly type?: FieldType;
  /** Canonical place of the value (dotted), when it is kept; absent: checked, never forwarded. */
  readonly to?: string;
  /** Required on these classes: without it the event is refused (`missing_field`). */
  readonly requiredOn?: readonly EventClass[];
  /** Documentation: where the field comes from, or why it is shaped so. */
  readonly note?: string;
}

const RUNTIME: readonly EventClass[] = ['started', 'finished'];
const FINISHED: readonly EventClass[] = ['finished'];
const INSTALL: readonly EventClass[] = ['install'];
const ALL: readonly EventClass[] = ['started', 'finished', 'install'];

const os = vocabulary(
  'os',
  OS_ALIASES,
  'lower-cased; `darwin` → `macos`, `win32`/`windows_nt` → `windows`',
);
const arch = vocabulary(
  'arch',
  ARCH_ALIASES,
  'lower-cased; `arm64`/`ARM64` → `aarch64`, `AMD64`/`x64` → `x86_64`, `i686` → `x86`',
);
const backend = vocabulary('backend', {}, 'lower-cased (`Vulkan` → `vulkan`)');
const runKind = oneOf(RUN_KINDS);
const installRunKind = oneOf(['install'] as const);

const stage: FieldType<string> = {
  name: 'stage',
  bound: oneOf(FAILURE_STAGES).bound,
  rule: 'lower-cased; a well-formed stage outside the list becomes `unknown`',
  check(value): Checked<string> {
    const base = identifier.check(value);
    if (!base.ok) return base;
    const lower = base.value.toLowerCase();
    const known = (FAILURE_STAGES as readonly string[]).includes(lower) ? lower : 'unknown';
    return { ok: true, value: known, normalized: known !== base.value };
  },
};

function lowerOneOf(values: readonly string[]): FieldType<string> {
  const exact = oneOf(values);
  return {
    name: 'enum',
    bound: exact.bound,
    rule: 'lower-cased; any other value is dropped',
    check(value): Checked<string> {
      if (typeof value !== 'string') return { ok: false, problem: 'wrong_type' };
      const lower = value.toLowerCase();
      const checked = exact.check(lower);
      return checked.ok ? { ok: true, value: lower, normalized: lower !== value } : checked;
    },
  };
}
const component = lowerOneOf(FAILURE_COMPONENTS);
const host = lowerOneOf(FAILURE_HOSTS);
const method = lowerOneOf(INSTALL_METHODS);

const id = (
  field: string,
  type: FieldType,
  events: readonly EventClass[],
  more: Partial<FieldPolicy> = {},
): FieldPolicy => ({
  field,
  events,
  role: 'identity',
  type,
  to: field,
  ...more,
});
const deco = (
  field: string,
  type: FieldType,
  events: readonly EventClass[],
  more: Partial<FieldPolicy> = {},
): FieldPolicy => ({
  field,
  events,
  role: 'decoration',
  type,
  to: field,
  ...more,
});
/** Read from the Rust snapshot and never forwarded (ids, sizes, logs, layout tags). */
const notForwarded = (
  field: string,
  note: string,
  events: readonly EventClass[] = FINISHED,
): FieldPolicy => ({
  field,
  events,
  role: 'decoration',
  note,
});

const categoryFields = (): FieldPolicy[] =>
  DISPATCH_CATEGORIES.flatMap((category): FieldPolicy[] => {
    const base = `payload.provider.telemetry.${category}`;
    const summed = (SUMMED_CATEGORIES as readonly string[]).includes(category);
    return [
      deco(`${base}.count`, count, FINISHED, {
        to: summed ? `payload.gpu_${category}_dispatches` : undefined,
        note: summed
          ? `forwarded as \`gpu_${category}_dispatches\`; summed into \`gpu_dispatches\` when the event has none`
          : 'read, never forwarded (solver dispatches; the runtime leaves them out of `gpu_dispatches`)',
      }),
      deco(`${base}.total_wall_time_ns`, count, FINISHED, {
        to: undefined,
        note: summed
          ? 'summed into `gpu_wall_ns` when the event has none; not forwarded itself'
          : 'read, never forwarded',
      }),
    ];
  });

/** The policy, in wire order. Earlier rows win when two spellings of one field are present. */
export const FIELD_POLICY: readonly FieldPolicy[] = [
  // Envelope.
  id('uuid', uuid, RUNTIME, {
    note: 'required on `runtime.run.*`; legacy events without one get a deterministic id',
  }),
  id('uuid', eventId, INSTALL, {
    note: 'without one, a deterministic id; a non-UUID token is hashed into a UUID',
  }),
  id('cid', anonymousId, ALL, {
    note: 'the anonymous client id; PostHog `distinct_id`, GA4 `client_id`',
  }),
  id('distinctId', anonymousId, INSTALL, {
    to: 'cid',
    note: 'installer envelope spelling of `cid`',
  }),
  id('session_id', anonymousId, ALL, { requiredOn: RUNTIME }),
  id('sessionId', anonymousId, INSTALL, { to: 'session_id', note: 'installer envelope spelling' }),
  id('run_kind', runKind, RUNTIME, { requiredOn: RUNTIME }),
  id('run_kind', installRunKind, INSTALL),
  id('runKind', installRunKind, INSTALL, { to: 'run_kind', note: 'installer envelope spelling' }),
  deco('os', os, ALL),
  deco('arch', arch, ALL),
  deco('release', release, ALL),
  deco('platform', identifier, INSTALL, { note: 'e.g. `macos-aarch64`, kept as sent' }),
  deco('payload.platform', identifier, INSTALL, {
    to: 'platform',
    note: 'installer envelope place',
  }),
  deco('method', method, INSTALL),
  deco('payload.method', method, INSTALL, { to: 'method', note: 'installer envelope place' }),
  deco('timestamp_ms', count, INSTALL),
  notForwarded('source', 'installer envelope (`website-install-script`); never forwarded', INSTALL),
  notForwarded('properties', 'installer envelope, always `{}`; never forwarded', INSTALL),
  notForwarded('context', 'installer envelope, always `{}`; never forwarded', INSTALL),
  deco('payload.timestamp_ms', count, INSTALL, { to: 'timestamp_ms' }),
  // Payloads.
  id('payload.jit_enabled', boolean, RUNTIME, { requiredOn: ['started'] }),
  id('payload.accelerate_enabled', boolean, RUNTIME, { requiredOn: ['started'] }),
  id('payload.success', boolean, FINISHED, { requiredOn: FINISHED }),
  deco('payload.timestamp_ms', count, RUNTIME),
  deco('payload.duration_us', count, FINISHED),
  deco('payload.jit_used', boolean, FINISHED),
  deco('payload.error', errorClass, FINISHED, {
    note: 'a class token; free text (a message) is dropped, never cut down to a prefix',
  }),
  deco('payload.runtime.failure.stage', stage, FINISHED, { to: 'payload.runtime.failure.stage' }),
  deco('payload.runtime.failure.code', identifier, FINISHED),
  deco('payload.runtime.failure.has_span', boolean, FINISHED),
  deco('payload.runtime.failure.host', host, FINISHED),
  deco('payload.runtime.failure.component', component, FINISHED),
  deco('payload.counters.total_executions', count, FINISHED),
  deco('payload.counters.jit_compiled', count, FINISHED),
  deco('payload.counters.interpreter_fallback', count, FINISHED),
  deco('payload.gpu_wall_ns', count, FINISHED),
  deco('payload.gpu_ratio', ratio, FINISHED),
  deco('payload.gpu_dispatches', count, FINISHED),
  deco('payload.gpu_upload_bytes', count, FINISHED),
  deco('payload.gpu_download_bytes', count, FINISHED),
  deco('payload.fusion_cache_hits', count, FINISHED),
  deco('payload.fusion_cache_misses', count, FINISHED),
  deco('payload.fusion_hit_ratio', ratio, FINISHED),
  deco('payload.gpu_matmul_dispatches', count, FINISHED),
  deco('payload.gpu_fused_elementwise_dispatches', count, FINISHED),
  deco('payload.gpu_fused_reduction_dispatches', count, FINISHED),
  // Provider snapshot: the device's identity is kept, its ids and sizes never.
  deco('payload.provider.device.name', deviceName, FINISHED),
  deco('payload.provider.device.vendor', vendor, FINISHED),
  deco('payload.provider.device.backend', backend, FINISHED, {
    note: '`null` (in-process provider) means absent',
  }),
  notForwarded('payload.provider.device.device_id', 'adapter index; never forwarded'),
  notForwarded('payload.provider.device.memory_bytes', 'device memory size; never forwarded'),
  // Legacy page shape of the counters, then the Rust runtime's.
  deco('payload.provider.telemetry.gpu_dispatches', count, FINISHED, {
    to: 'payload.gpu_dispatches',
  }),
  deco('payload.provider.telemetry.gpu_wall_ns', count, FINISHED, { to: 'payload.gpu_wall_ns' }),
  deco('payload.provider.telemetry.upload_bytes', count, FINISHED, {
    to: 'payload.gpu_upload_bytes',
  }),
  deco('payload.provider.telemetry.download_bytes', count, FINISHED, {
    to: 'payload.gpu_download_bytes',
  }),
  deco('payload.provider.telemetry.fusion_cache_hits', count, FINISHED, {
    to: 'payload.fusion_cache_hits',
  }),
  deco('payload.provider.telemetry.fusion_cache_misses', count, FINISHED, {
    to: 'payload.fusion_cache_misses',
  }),
  ...categoryFields(),
  notForwarded(
    'payload.provider.telemetry.solve_fallbacks',
    'solver fallback log; never forwarded',
  ),
  notForwarded(
    'payload.provider.telemetry.bind_group_cache_hits',
    'bind-group cache counter; never forwarded',
  ),
  notForwarded(
    'payload.provider.telemetry.bind_group_cache_misses',
    'bind-group cache counter; never forwarded',
  ),
  notForwarded(
    'payload.provider.telemetry.bind_group_cache_by_layout',
    'layout tags; never forwarded',
  ),
  notForwarded(
    'payload.provider.telemetry.kernel_launches',
    'kernel launch log (up to 64 entries); never forwarded',
  ),
];

/**
 * Keys real hosts send that carry nothing the contract needs: read past
 * without counting them as unknown (the label itself, already resolved).
 */
export const IGNORED_KEYS: ReadonlySet<string> = new Set(['event_label', 'event', 'eventLabel']);

/** Human words for what happens to a field outside its bound. */
export function outsideRule(policy: FieldPolicy): string {
  if (policy.type === undefined) return 'never forwarded (counted `not_forwarded`)';
  if (policy.role === 'identity') {
    return (
      'event refused (`missing_field`, `wrong_type`, `invalid_string` or `invalid_value`); ' +
      'an empty string in an optional id counts as absent'
    );
  }
  return policy.type.rule
    ? `normalized: ${policy.type.rule}; otherwise dropped, event kept`
    : 'dropped, event kept';
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|');

/** The policy as a Markdown table (the schema README embeds it; a test keeps it current). */
export function renderFieldPolicyTable(): string {
  const rows = FIELD_POLICY.map((p) => {
    const required = p.requiredOn?.length ? ` (required: ${p.requiredOn.join(', ')})` : '';
    const kept = p.to === undefined ? '—' : p.to === p.field ? 'yes' : `as \`${p.to}\``;
    const bound = p.type ? p.type.bound : 'any';
    const cells = [
      `\`${p.field}\``,
      p.events.join(', '),
      `${p.role}${required}`,
      bound,
      outsideRule(p),
      kept,
      p.note ?? '',
    ];
    return `| ${cells.map(escapeCell).join(' | ')} |`;
  });
  return [
    '| field | events | role | bound | outside the bound | forwarded | note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * Where a kept field lands at PostHog: a property name from
 * `ALLOWED_PROPERTIES`, or one of the capture's own fields (`uuid`,
 * `distinct_id`, `timestamp`). `normalizeEvent` does the mapping; a test
 * checks this table against it.
 */
export function analyticsNameOf(canonicalPath: string): string {
  switch (canonicalPath) {
    case 'uuid':
      return 'uuid';
    case 'cid':
      return 'distinct_id';
    case 'timestamp_ms':
    case 'payload.timestamp_ms':
      return 'timestamp';
    case 'payload.provider.device.name':
      return 'gpu_device_name';
    case 'payload.provider.device.vendor':
      return 'gpu_device_vendor';
    case 'payload.provider.device.backend':
      return 'gpu_backend';
  }
  if (canonicalPath.startsWith('payload.counters.')) {
    return canonicalPath.slice('payload.counters.'.length);
  }
  if (canonicalPath.startsWith('payload.')) return canonicalPath.slice('payload.'.length);
  return canonicalPath;
}
