/** What a probe route answers: a status and a small JSON body. */
export interface ProbeReply {
  statusCode: 200 | 503;
  headers: Record<string, string>;
  body: { status: 'ok' } | { status: 'ready' } | { status: 'not_ready'; error?: string };
}

/** `GET /healthz`: the process is alive (it answered). */
export function livenessReply(): ProbeReply {
  return { statusCode: 200, headers: {}, body: { status: 'ok' } };
}

/**
 * `GET /readyz`: 200 `{"status":"ready"}`, or 503 `{"status":"not_ready"}`
 * with the reason's stable code (`shutting_down`, `queue_full`, ...) when
 * there is one, and `retry-after: 1` so a balancer asks again soon.
 */
export function readinessReply(ready: boolean, reason?: string): ProbeReply {
  if (ready) return { statusCode: 200, headers: {}, body: { status: 'ready' } };
  return {
    statusCode: 503,
    headers: { 'retry-after': '1' },
    body: reason === undefined ? { status: 'not_ready' } : { status: 'not_ready', error: reason },
  };
}
