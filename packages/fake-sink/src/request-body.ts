import { gunzipSync } from 'node:zlib';

/** Largest request body the analytics routes read, compressed (PostHog's own cap is 20 MB). */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;
// A small gzip bomb must not take the sink down with it.
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

export type DecodedBody = { ok: true; value: unknown } | { ok: false; reason: string };

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Turns a raw analytics request body into JSON. Gzip is recognised by its
 * magic bytes rather than Content-Encoding, because SDKs disagree on the
 * header and PostHog itself sniffs. A `data=<base64 JSON>` form body (what
 * older PostHog browser SDKs send) is accepted too.
 */
export function decodeBody(body: unknown): DecodedBody {
  if (body === undefined || body === null) return { ok: false, reason: 'empty body' };
  let buf: Buffer = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
  if (buf.length === 0) return { ok: false, reason: 'empty body' };
  if (isGzip(buf)) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (err) {
      return { ok: false, reason: `invalid gzip body: ${(err as Error).message}` };
    }
  }
  let text = buf.toString('utf8');
  if (text.startsWith('data=')) {
    const data = new URLSearchParams(text).get('data') ?? '';
    text =
      data.trimStart().startsWith('{') || data.trimStart().startsWith('[')
        ? data
        : Buffer.from(data, 'base64').toString('utf8');
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
}
