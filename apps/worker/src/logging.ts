import type { IncomingHttpHeaders } from 'node:http';
import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';
import { cloudLoggingFormat } from '@runmat-telemetry/service';
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

// The Cloud Logging line shape (`severity`, `message`, RFC 3339 `time`) is
// shared with the forwarder; the request trace fields below are the worker's.
export { cloudLoggingFormat, SEVERITY_BY_LEVEL, severityOf } from '@runmat-telemetry/service';

/** Trace fields of one request's log lines, as Cloud Logging names them. */
export interface TraceFields {
  'logging.googleapis.com/trace': string;
  'logging.googleapis.com/spanId'?: string;
  'logging.googleapis.com/trace_sampled'?: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const CLOUD_TRACE = /^([0-9a-fA-F]{32})(?:\/([0-9]{1,20}))?(?:;o=([0-9]+))?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v.length > 256 ? undefined : v.trim();
}

/**
 * The request's trace from W3C `traceparent` (preferred) or Google's
 * `X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=OPTIONS`, in Cloud Logging's
 * fields: `projects/<project>/traces/<id>` (the id alone without a project),
 * the span as 16 hex digits, and whether the trace is sampled. Undefined when
 * neither header holds a valid trace.
 */
export function traceFields(
  headers: IncomingHttpHeaders,
  project: string | undefined,
): TraceFields | undefined {
  let traceId: string | undefined;
  let spanId: string | undefined;
  let sampled: boolean | undefined;
  const parent = TRACEPARENT.exec(headerValue(headers.traceparent)?.toLowerCase() ?? '');
  if (parent && parent[1] !== 'ff' && parent[2] !== ZERO_TRACE && parent[3] !== ZERO_SPAN) {
    traceId = parent[2];
    spanId = parent[3];
    sampled = (Number.parseInt(parent[4] ?? '0', 16) & 1) === 1;
  } else {
    const cloud = CLOUD_TRACE.exec(headerValue(headers['x-cloud-trace-context']) ?? '');
    if (!cloud || cloud[1]?.toLowerCase() === ZERO_TRACE) return undefined;
    traceId = cloud[1]?.toLowerCase();
    // The header's span id is a decimal uint64; Cloud Logging wants 16 hex digits.
    if (cloud[2] !== undefined) {
      const span = BigInt(cloud[2]);
      if (span > 0n && span < 2n ** 64n) spanId = span.toString(16).padStart(16, '0');
    }
    if (cloud[3] !== undefined) sampled = (Number(cloud[3]) & 1) === 1;
  }
  const fields: TraceFields = {
    'logging.googleapis.com/trace': project
      ? `projects/${project}/traces/${traceId}`
      : `${traceId}`,
  };
  if (spanId !== undefined) fields['logging.googleapis.com/spanId'] = spanId;
  if (sampled !== undefined) fields['logging.googleapis.com/trace_sampled'] = sampled;
  return fields;
}

/**
 * Fastify's `childLoggerFactory`: each request's logger carries the request's
 * trace, so every line it logs is grouped with the request in Cloud Logging.
 */
export function traceChildLoggerFactory(
  project: string | undefined,
): NonNullable<FastifyServerOptions['childLoggerFactory']> {
  return (logger, bindings, options, rawRequest) => {
    const trace = traceFields(rawRequest.headers, project);
    return logger.child(trace ? { ...bindings, ...trace } : bindings, options) as FastifyBaseLogger;
  };
}

/**
 * Query strings in a log string: a path-like token (`/ingest`, `/v1/t`, a
 * full URL) followed by `?...`. Beacons carry the ingestion key as `?k=`, and
 * the query parser also decodes `%6B=` as `k`, so the whole query is
 * redacted rather than one parameter.
 */
const QUERY_IN_TEXT = /(\/[^\s"'`?<>]*)\?[^\s"'`<>]+/g;

/** Replaces every query string in `text` with `?[redacted]`. */
export function redactQueries(text: string): string {
  return text.includes('?') ? text.replace(QUERY_IN_TEXT, '$1?[redacted]') : text;
}

/** The path of a request URL, without its query string. */
export function pathOnly(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  headers?: Record<string, string | string[] | undefined>;
  socket?: { remotePort?: number };
}

/** Fastify's default `req` serializer, with the URL cut to its path. */
function serializeRequest(req: LoggedRequest) {
  return {
    method: req.method,
    url: pathOnly(req.url),
    version: req.headers?.['accept-version'] as string | undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

/** What an error is logged as. */
export interface SerializedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

/**
 * Errors as pino prints them (type, message, stack and own fields), with any
 * query string in a string field redacted and raw request bytes (Node's
 * `clientError` `rawPacket`, which holds the request line) left out.
 */
export function serializeError(err: unknown): SerializedError {
  if (typeof err !== 'object' || err === null) {
    return { type: typeof err, message: redactQueries(String(err)), stack: '' };
  }
  const source = err as Record<string, unknown>;
  const out: SerializedError = {
    type: err instanceof Error ? (err.constructor?.name ?? err.name) : 'Object',
    message: redactQueries(String(source.message ?? '')),
    stack: redactQueries(String(source.stack ?? '')),
  };
  for (const key of ['name', ...Object.keys(source)]) {
    if (key === 'rawPacket' || key in out) continue;
    const value = source[key];
    if (value === undefined || typeof value === 'function' || Buffer.isBuffer(value)) continue;
    out[key] = typeof value === 'string' ? redactQueries(value) : value;
  }
  if (err instanceof Error && err.cause !== undefined) out.cause = serializeError(err.cause);
  return out;
}

/**
 * Logger options for the worker: pino JSON at `level` in the shape Cloud
 * Logging reads (`severity`, `message`, `time`), and no secret ever
 * printed. The `x-telemetry-key` header is redacted; a request is logged by
 * its path only (never its query string, where a beacon's key travels);
 * every string argument and every error's message and stack have query
 * strings replaced by `?[redacted]`.
 */
export function workerLoggerOptions(level: string) {
  return {
    level,
    ...cloudLoggingFormat,
    redact: {
      paths: [`req.headers["${INGESTION_KEY_HEADER}"]`, 'req.headers.authorization'],
      censor: '[redacted]',
    },
    serializers: { req: serializeRequest, err: serializeError },
    hooks: {
      logMethod(
        this: unknown,
        args: unknown[],
        method: (this: unknown, ...args: unknown[]) => void,
      ): void {
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (typeof a === 'string') args[i] = redactQueries(a);
        }
        method.apply(this, args);
      },
    },
  };
}
