/**
 * The generated sections of docs/architecture.md. The file is hand-written
 * prose with marked sections between `<!-- generated:<name>:start -->` and
 * `<!-- generated:<name>:end -->`; each section here is rendered from the
 * code that is its source (the schema's constants, field policy and reject
 * codes, the apps' config defaults and routes), and `spliceSections`
 * rewrites only what is between the markers. A test fails when a section on
 * disk differs from what the code renders.
 */
import { loadSinkConfig, SINK_ENV } from '@runmat-telemetry/fake-sink';
import {
  CANONICAL_EVENTS,
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  DEFAULT_GA_HOST,
  DEFAULT_HTTP_ENDPOINT,
  DEFAULT_POSTHOG_HOST,
  DEFAULT_UDP_ENDPOINT,
  type EventClass,
  FAILURE_COMPONENTS,
  FAILURE_HOSTS,
  FAILURE_STAGES,
  FAKE_SINK_PORT,
  FIELD_POLICY,
  GA4_LIMITS,
  HEALTH_PORT,
  INGESTION_KEY_HEADER,
  INSTALL_COMPLETE_EXAMPLE,
  INSTALL_EVENT_ALIASES,
  INSTALL_EVENTS,
  INSTALL_METHODS,
  LEGACY_EVENTS,
  MAX_DEVICE_NAME_LENGTH,
  MAX_ERROR_CLASS_LENGTH,
  MAX_EVENT_BYTES,
  MAX_IDENTIFIER_LENGTH,
  MAX_INGEST_EVENT_BYTES,
  normalizeEvent,
  parseEvent,
  REJECT_CODES,
  type RejectCode,
  RUN_KINDS,
  toGa4Event,
  toPostHogEvent,
  UDP_PORT,
  WORKER_METRICS_PORT,
  WORKER_PORT,
} from '@runmat-telemetry/schema';
import { FORWARDER_ENV, loadForwarderConfig } from '@runmat-telemetry/udp-forwarder';
import {
  HTTP_STATUS,
  type HttpErrorCode,
  MAX_BATCH_ITEMS,
  WORKER_ENV,
} from '@runmat-telemetry/worker';
import {
  collectRoutes,
  docsWorkerConfig,
  type Listener,
  type RouteEntry,
  type RouteInventory,
} from './route-inventory.js';

export const ARCHITECTURE_PATH = 'docs/architecture.md';

/** The generated sections, in the order they appear in the file. */
export const SECTION_NAMES = ['ports', 'routes', 'events', 'limits', 'codes'] as const;
export type SectionName = (typeof SECTION_NAMES)[number];

const startMarker = (name: string) => `<!-- generated:${name}:start -->`;
const endMarker = (name: string) => `<!-- generated:${name}:end -->`;

const cell = (s: string) => s.replace(/\|/g, '\\|');
const row = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head: string[], rows: string[][]) =>
  [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
const code = (s: string | number) => `\`${s}\``;
const kib = (bytes: number) =>
  bytes % 1048576 === 0
    ? `${bytes / 1048576} MiB (${bytes} bytes)`
    : bytes % 1024 === 0
      ? `${bytes / 1024} KiB (${bytes} bytes)`
      : `${bytes} bytes`;

// ---------------------------------------------------------------- ports

function renderPorts(): string {
  // Defaults as each app reads them from an environment without the variable.
  const worker = docsWorkerConfig();
  const forwarder = loadForwarderConfig({
    TELEMETRY_HTTP_ENDPOINT: 'http://127.0.0.1:9/v1/batch',
    TELEMETRY_INGESTION_KEY: 'docs-key-0001',
  });
  const sink = loadSinkConfig({});
  const rows: Array<{
    port: number;
    constant: string;
    constantValue: number;
    protocol: string;
    process: string;
    serves: string;
    portVar: string;
    host: string;
    hostVar: string;
  }> = [
    {
      port: forwarder.udpPort,
      constant: 'UDP_PORT',
      constantValue: UDP_PORT,
      protocol: 'UDP',
      process: 'udp-forwarder',
      serves: 'one JSON event per datagram',
      portVar: FORWARDER_ENV.udpPort,
      host: forwarder.udpHost,
      hostVar: FORWARDER_ENV.udpHost,
    },
    {
      port: forwarder.healthPort,
      constant: 'HEALTH_PORT',
      constantValue: HEALTH_PORT,
      protocol: 'TCP/HTTP',
      process: 'udp-forwarder',
      serves: 'TCP health checks, `/healthz`, `/readyz`, `/metrics`',
      portVar: FORWARDER_ENV.healthPort,
      host: forwarder.healthHost,
      hostVar: FORWARDER_ENV.healthHost,
    },
    {
      port: worker.port,
      constant: 'WORKER_PORT',
      constantValue: WORKER_PORT,
      protocol: 'TCP/HTTP',
      process: 'worker (public)',
      serves: 'ingest routes and probes; `/metrics` is a 404 here',
      portVar: WORKER_ENV.port,
      host: worker.host,
      hostVar: WORKER_ENV.host,
    },
    {
      port: worker.metricsPort,
      constant: 'WORKER_METRICS_PORT',
      constantValue: WORKER_METRICS_PORT,
      protocol: 'TCP/HTTP',
      process: 'worker (metrics)',
      serves: '`GET /metrics` only',
      portVar: WORKER_ENV.metricsPort,
      host: worker.metricsHost,
      hostVar: WORKER_ENV.metricsHost,
    },
    {
      port: sink.port,
      constant: 'FAKE_SINK_PORT',
      constantValue: FAKE_SINK_PORT,
      protocol: 'TCP/HTTP',
      process: 'fake-sink',
      serves: 'PostHog and GA4 stand-in, inspection, the page',
      portVar: SINK_ENV.port,
      host: sink.host,
      hostVar: SINK_ENV.host,
    },
  ];
  for (const r of rows) {
    if (r.port !== r.constantValue) {
      throw new Error(
        `${r.process} listens on ${r.port} by default, but the schema's ${r.constant} is ${r.constantValue}`,
      );
    }
  }
  const ports = table(
    ['port', 'protocol', 'process', 'serves', 'variable', 'default bind', 'schema constant'],
    rows.map((r) => [
      code(r.port),
      r.protocol,
      r.process,
      r.serves,
      code(r.portVar),
      `${code(r.host)} (${code(r.hostVar)})`,
      code(r.constant),
    ]),
  );
  const endpoints = table(
    ['what', 'default', 'schema constant'],
    [
      [
        'client HTTP endpoint (`http_endpoint = ""`)',
        code(DEFAULT_HTTP_ENDPOINT),
        code('DEFAULT_HTTP_ENDPOINT'),
      ],
      ['client UDP endpoint', code(DEFAULT_UDP_ENDPOINT), code('DEFAULT_UDP_ENDPOINT')],
      ['PostHog host (`POSTHOG_HOST`)', code(DEFAULT_POSTHOG_HOST), code('DEFAULT_POSTHOG_HOST')],
      ['GA4 host (`GA_HOST`)', code(DEFAULT_GA_HOST), code('DEFAULT_GA_HOST')],
      ['ingestion key header', code(INGESTION_KEY_HEADER), code('INGESTION_KEY_HEADER')],
    ],
  );
  return `${ports}\n\n${endpoints}`;
}

// ---------------------------------------------------------------- routes

const LISTENER_LABEL: Record<Listener, string> = {
  worker: `worker, public (${code(WORKER_PORT)})`,
  'worker-metrics': `worker, metrics (${code(WORKER_METRICS_PORT)})`,
  'forwarder-health': `forwarder, health (${code(HEALTH_PORT)})`,
  'fake-sink': `fake sink (${code(FAKE_SINK_PORT)})`,
};

/**
 * What each route is for, by `<listener> <path>`. A route the apps answer
 * without an entry here, or an entry for a route they no longer answer,
 * fails the generator: the table cannot silently drift from the code.
 */
const ROUTE_NOTES: Readonly<Record<string, string>> = {
  'worker /healthz': 'alive: 200 `{"status":"ok"}`',
  'worker /readyz':
    'ready to accept: 200, or 503 `not_ready` (`shutting_down`, `queue_full`, `memory_pressure`)',
  'worker /ingest': `one event (JSON); key in ${code(INGESTION_KEY_HEADER)} or a beacon's \`?k=\`; 202. \`OPTIONS\`: CORS preflight, only with \`CORS_ORIGINS\``,
  'worker /v1/t':
    "the same as `/ingest` (the client's default path); `OPTIONS` only with `CORS_ORIGINS`",
  'worker /v1/batch': `up to ${MAX_BATCH_ITEMS} events from the forwarder, one result per event; 200`,
  'worker-metrics /metrics': 'Prometheus text (`runmat_worker_*`); bound to loopback by default',
  'forwarder-health /healthz': 'alive: 200 `{"status":"ok"}`',
  'forwarder-health /readyz': 'started and the queue has room: 200; else 503',
  'forwarder-health /metrics':
    'Prometheus text (`runmat_forwarder_*`, `runmat_delivery_*`, process metrics)',
  'fake-sink /': 'the page: arrivals and the insights view',
  'fake-sink /batch': 'PostHog batch capture (posthog-node); gzip by magic bytes',
  'fake-sink /batch/': 'the same, with the trailing slash PostHog uses',
  'fake-sink /capture': 'PostHog capture',
  'fake-sink /capture/': 'PostHog capture',
  'fake-sink /e': 'PostHog capture',
  'fake-sink /e/': 'PostHog capture',
  'fake-sink /i/v0/e': 'PostHog capture',
  'fake-sink /i/v0/e/': 'PostHog capture',
  'fake-sink /mp/collect': 'GA4 Measurement Protocol: always 204, rule findings recorded',
  'fake-sink /debug/mp/collect': "GA4's validation server: `validationMessages`, nothing recorded",
  'fake-sink /_sink/events':
    'what arrived (filters: destination, event, distinct_id, after, limit); `DELETE` clears',
  'fake-sink /_sink/stats': 'request, event, rejection and violation counts',
  'fake-sink /_sink/health': 'alive',
  'fake-sink /_sink/insights': 'the product questions answered from what arrived',
  'fake-sink /_sink/insights/releases': 'the same, per release',
  'fake-sink /_sink/faults': 'fault injection: status codes, delays, dropped connections',
};

function renderRoutes(inventory: RouteInventory): string {
  const seen = new Set<string>();
  const rows = inventory.routes.map((r: RouteEntry) => {
    const key = `${r.listener} ${r.path}`;
    const note = ROUTE_NOTES[key];
    if (note === undefined) {
      throw new Error(`route ${r.methods.join(',')} ${key} has no entry in ROUTE_NOTES`);
    }
    seen.add(key);
    return [LISTENER_LABEL[r.listener], r.methods.join(', '), code(r.path), note];
  });
  const stale = Object.keys(ROUTE_NOTES).filter((k) => !seen.has(k));
  if (stale.length > 0) {
    throw new Error(`ROUTE_NOTES lists routes no app answers: ${stale.join(', ')}`);
  }
  const { status, body } = inventory.publicMetrics;
  return `${table(['listener (default port)', 'methods', 'path', 'what'], rows)}

On the worker's public port, \`GET /metrics\` answers ${status} \`${body}\`.`;
}

// ---------------------------------------------------------------- events

const RECEIVED_AT = Date.UTC(2026, 0, 1);

/** One valid event of each class, in the contract's canonical shape. */
const EXAMPLES: Record<EventClass, Readonly<Record<string, unknown>>> = {
  started: CANONICAL_STARTED_EXAMPLE,
  finished: CANONICAL_FINISHED_EXAMPLE,
  install: INSTALL_COMPLETE_EXAMPLE,
};

/** The name an accepted wire name becomes at PostHog and at GA4, read off the mappings. */
function destinationNames(label: string): { posthog: string; ga4: string } {
  const base: Record<string, unknown> = label.startsWith('install')
    ? { ...INSTALL_COMPLETE_EXAMPLE }
    : label.endsWith('started')
      ? { ...CANONICAL_STARTED_EXAMPLE }
      : { ...CANONICAL_FINISHED_EXAMPLE };
  base.event_label = label;
  const parsed = parseEvent(base);
  if (!parsed.ok) throw new Error(`${label}: ${parsed.error.code} ${parsed.error.message}`);
  const normalized = normalizeEvent(parsed.event, { receivedAt: RECEIVED_AT });
  return { posthog: toPostHogEvent(normalized).event, ga4: toGa4Event(normalized).name };
}

function renderEvents(): string {
  const names: Array<{ wire: string; also: string[] }> = [
    { wire: CANONICAL_EVENTS.runStarted, also: [LEGACY_EVENTS.runStarted] },
    { wire: CANONICAL_EVENTS.runFinished, also: [LEGACY_EVENTS.runFinished] },
    ...INSTALL_EVENTS.map((e) => ({
      wire: e as string,
      also: Object.entries(INSTALL_EVENT_ALIASES)
        .filter(([, to]) => to === e)
        .map(([alias]) => alias),
    })),
  ];
  const nameTable = table(
    ['wire name', 'also accepted', 'PostHog `event`', 'GA4 event `name`'],
    names.map(({ wire, also }) => {
      const { posthog, ga4 } = destinationNames(wire);
      for (const a of also) {
        const other = destinationNames(a);
        if (other.posthog !== posthog || other.ga4 !== ga4) {
          throw new Error(`${a} does not map like ${wire}`);
        }
      }
      return [code(wire), also.map(code).join(', ') || '—', code(posthog), code(ga4)];
    }),
  );

  const classes: EventClass[] = ['started', 'finished', 'install'];
  const envelope = FIELD_POLICY.filter((p) => !p.field.startsWith('payload.'));
  const envelopeFields = [...new Set(envelope.map((p) => p.field))];
  const envelopeTable = table(
    ['field', ...classes, 'role', 'kept as', 'note'],
    envelopeFields.map((field) => {
      const rows = envelope.filter((p) => p.field === field);
      const on = (c: EventClass) => {
        if (!rows.some((r) => r.events.includes(c))) return '—';
        // Read off the parser: the class's example without the field is refused, or not.
        const example: Record<string, unknown> = { ...EXAMPLES[c] };
        if (!(field in example)) return 'optional';
        delete example[field];
        return parseEvent(example).ok ? 'optional' : 'required';
      };
      const first = rows[0]!;
      const kept =
        first.to === undefined ? 'never forwarded' : first.to === field ? 'itself' : code(first.to);
      const noted = rows.filter((r) => r.note !== undefined);
      const notes =
        noted.length > 1
          ? noted.map((r) => `${r.events.join(', ')}: ${r.note}`).join('; ')
          : (noted[0]?.note ?? '');
      return [code(field), ...classes.map(on), first.role, kept, notes];
    }),
  );

  const payloadKeys = (c: EventClass) =>
    [
      ...new Set(
        FIELD_POLICY.filter((p) => p.field.startsWith('payload.') && p.events.includes(c)).map(
          (p) => {
            const rest = p.field.slice('payload.'.length);
            // Keys such as `runtime.failure.stage` hold dots themselves.
            return rest.startsWith('runtime.failure.') ? rest : rest.split('.')[0]!;
          },
        ),
      ),
    ]
      .map(code)
      .join(', ');

  const vocab = table(
    ['field', 'values'],
    [
      ['`run_kind`', RUN_KINDS.map(code).join(', ')],
      ['`payload.runtime.failure.stage`', FAILURE_STAGES.map(code).join(', ')],
      ['`payload.runtime.failure.host`', FAILURE_HOSTS.map(code).join(', ')],
      ['`payload.runtime.failure.component`', FAILURE_COMPONENTS.map(code).join(', ')],
      ['`method` (installers)', INSTALL_METHODS.map(code).join(', ')],
    ],
  );

  const json = (v: unknown) => `\`\`\`json\n${JSON.stringify(v, null, 2)}\n\`\`\``;
  const finished = parseEvent(CANONICAL_FINISHED_EXAMPLE);
  if (!finished.ok) throw new Error('CANONICAL_FINISHED_EXAMPLE does not parse');
  const posthog = toPostHogEvent(normalizeEvent(finished.event, { receivedAt: RECEIVED_AT }));

  return `Event names (\`CANONICAL_EVENTS\`, \`LEGACY_EVENTS\`, \`INSTALL_EVENTS\`,
\`INSTALL_EVENT_ALIASES\`), and what each becomes at the destinations:

${nameTable}

Envelope fields (\`FIELD_POLICY\`, top level), per event class; "required" is read off
\`parseEvent\`: the class's example without the field is refused:

${envelopeTable}

Payload keys per class (each one's type and bound: [telemetry-fields.md](telemetry-fields.md)):

- started: ${payloadKeys('started')}
- finished: ${payloadKeys('finished')}
- install: ${payloadKeys('install') || '—'}

Vocabularies:

${vocab}

\`runtime.run.started\` (\`CANONICAL_STARTED_EXAMPLE\`):

${json(CANONICAL_STARTED_EXAMPLE)}

\`runtime.run.finished\` (\`CANONICAL_FINISHED_EXAMPLE\`):

${json(CANONICAL_FINISHED_EXAMPLE)}

An installer event (\`INSTALL_COMPLETE_EXAMPLE\`):

${json(INSTALL_COMPLETE_EXAMPLE)}

The finished example as PostHog receives it (\`toPostHogEvent(normalizeEvent(...))\`;
the worker's encoder adds posthog-node's \`$lib_version\` and \`$is_server\`):

${json(posthog)}`;
}

// ---------------------------------------------------------------- limits

function renderLimits(): string {
  const worker = docsWorkerConfig();
  return table(
    ['limit', 'value', 'source'],
    [
      ['an event a client may send (the contract)', kib(MAX_EVENT_BYTES), code('MAX_EVENT_BYTES')],
      [
        'an event a collector takes (one datagram, one `/ingest` body)',
        kib(MAX_INGEST_EVENT_BYTES),
        code('MAX_INGEST_EVENT_BYTES'),
      ],
      [
        'worker body limit, `/ingest` and `/v1/t`',
        kib(worker.singleBodyLimit),
        code(WORKER_ENV.singleBodyLimit),
      ],
      [
        'worker body limit, `/v1/batch`',
        kib(worker.batchBodyLimit),
        code(WORKER_ENV.batchBodyLimit),
      ],
      ['events per `/v1/batch` request', String(MAX_BATCH_ITEMS), code('MAX_BATCH_ITEMS')],
      [
        'identifier strings (os, arch, release, ids, codes)',
        `${MAX_IDENTIFIER_LENGTH} chars`,
        code('MAX_IDENTIFIER_LENGTH'),
      ],
      ['error class', `${MAX_ERROR_CLASS_LENGTH} chars`, code('MAX_ERROR_CLASS_LENGTH')],
      ['GPU device name', `${MAX_DEVICE_NAME_LENGTH} chars`, code('MAX_DEVICE_NAME_LENGTH')],
      [
        'GA4: events per request, params per event, name length, value length',
        `${GA4_LIMITS.maxEventsPerRequest}, ${GA4_LIMITS.maxParamsPerEvent}, ${GA4_LIMITS.maxNameLength}, ${GA4_LIMITS.maxParamValueLength}`,
        code('GA4_LIMITS'),
      ],
    ],
  );
}

// ---------------------------------------------------------------- codes

/** What each schema code means; typed by `RejectCode`, so a new code fails the build until it is described. */
const REJECT_MEANING: Record<RejectCode, string> = {
  invalid_json: 'not UTF-8 JSON',
  too_large: 'over the byte budget before decoding (the forwarder counts it as `oversize`)',
  not_object: 'not a JSON object',
  unknown_event: 'the event name is none of the accepted spellings',
  missing_field:
    'an identity field is absent (`uuid` on `runtime.run.*`, `session_id`, `run_kind`, `payload`, `success`...)',
  wrong_type: 'an identity field has the wrong JSON type',
  invalid_string: 'an identity string is empty, too long or outside its alphabet',
  invalid_value: 'an identity value is not one of the allowed values (`run_kind`)',
};

/** What each worker code means; typed by `HttpErrorCode`. */
const HTTP_MEANING: Record<HttpErrorCode, string> = {
  invalid_json: 'the body is not JSON',
  invalid_batch: 'a `/v1/batch` body that is not `{ "events": [...] }` within its bounds',
  unauthorized:
    'missing or wrong ingestion key (header, or a beacon `?k=` without a listed `Origin`)',
  not_found: 'no such route (also `/metrics` on the public port)',
  payload_too_large: "the body is over the route's limit",
  unsupported_media_type: 'not `application/json` (beacons may send `text/plain`)',
  rate_limited: 'too many requests from one address in the window',
  queue_full: 'the forward queue has no room; nothing of the request was accepted',
  overloaded: 'event-loop delay or memory over its line: load is shed',
  shutting_down: 'the worker is draining',
  internal_error: 'a bug; no internals are sent',
};

function renderCodes(): string {
  const schema = table(
    ['code', 'when'],
    REJECT_CODES.map((c) => [code(c), REJECT_MEANING[c]]),
  );
  const codes = Object.keys(HTTP_STATUS) as HttpErrorCode[];
  codes.sort((a, b) => HTTP_STATUS[a] - HTTP_STATUS[b] || (a < b ? -1 : 1));
  const http = table(
    ['status', 'code', 'when'],
    codes.map((c) => [String(HTTP_STATUS[c]), code(c), HTTP_MEANING[c]]),
  );
  return `Schema reject codes (\`REJECT_CODES\`): a refused event, in the worker's 400 body
(\`{"error":"<code>","path":"<JSON pointer>"}\`), per item in a \`/v1/batch\` answer, and
as the forwarder's drop reason:

${schema}

Worker request codes (\`HTTP_STATUS\`, the one place codes map to statuses); every
error body is \`{"error":"<code>"}\`, and 503s carry \`Retry-After\`:

${http}`;
}

// ---------------------------------------------------------------- file

/** Every generated section, rendered from the code. */
export async function renderSections(): Promise<Record<SectionName, string>> {
  const inventory = await collectRoutes();
  return {
    ports: renderPorts(),
    routes: renderRoutes(inventory),
    events: renderEvents(),
    limits: renderLimits(),
    codes: renderCodes(),
  };
}

/** The text between one section's markers, or an error naming what is missing. */
export function readSection(doc: string, name: SectionName): string {
  const a = doc.indexOf(startMarker(name));
  const b = doc.indexOf(endMarker(name));
  if (a < 0 || b < a) {
    throw new Error(`${ARCHITECTURE_PATH} has no ${startMarker(name)} ... ${endMarker(name)}`);
  }
  return doc.slice(a + startMarker(name).length, b);
}

/** The document with every section's body replaced; prose outside the markers is kept. */
export function spliceSections(doc: string, sections: Record<SectionName, string>): string {
  let out = doc;
  for (const name of SECTION_NAMES) {
    const body = readSection(out, name);
    const at = out.indexOf(startMarker(name)) + startMarker(name).length;
    out = `${out.slice(0, at)}\n\n${sections[name]}\n\n${out.slice(at + body.length)}`;
  }
  return out;
}
