import type { RejectCode } from '@runmat-telemetry/schema';

/** Request-level error codes the worker answers with, besides the schema's reject codes. */
export type HttpErrorCode =
  | 'invalid_json'
  | 'invalid_batch'
  | 'unauthorized'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'queue_full'
  | 'overloaded'
  | 'shutting_down'
  | 'internal_error';

/** The one place codes map to HTTP statuses. */
export const HTTP_STATUS: Record<HttpErrorCode, number> = {
  invalid_json: 400,
  invalid_batch: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  queue_full: 503,
  overloaded: 503,
  shutting_down: 503,
  internal_error: 500,
};

/** Seconds a client should wait after a 503 before retrying. */
export const RETRY_AFTER_SECONDS = 1;

/** Body of every error response. */
export interface ErrorBody {
  error: HttpErrorCode | RejectCode;
  path?: string;
}

/** Maps an error thrown inside Fastify (parser, limits, plugins) to a stable code. */
export function codeForFastifyError(err: {
  code?: string;
  statusCode?: number;
  name?: string;
}): HttpErrorCode {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'unsupported_media_type'
        : 'invalid_json';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'invalid_json';
  }
  if (err.name === 'SyntaxError') return 'invalid_json';
  switch (err.statusCode) {
    case 400:
      return 'invalid_json';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'rate_limited';
    case 503:
      return 'overloaded';
    default:
      return 'internal_error';
  }
}
