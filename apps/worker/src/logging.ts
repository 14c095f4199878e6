import { INGESTION_KEY_HEADER } from '@runmat-telemetry/schema';

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
 * Logger options for the worker: pino JSON at `level`, and no secret ever
 * printed. The `x-telemetry-key` header is redacted; a request is logged by
 * its path only (never its query string, where a beacon's key travels);
 * every string argument and every error's message and stack have query
 * strings replaced by `?[redacted]`.
 */
export function workerLoggerOptions(level: string) {
  return {
    level,
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
