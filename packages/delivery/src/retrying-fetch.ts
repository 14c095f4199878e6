import type { DeliveryOutcomes, FailReason } from './outcomes.js';
import { type RetryPolicy, runAttempts } from './retry-policy.js';

/** A request as an SDK's injectable `fetch` receives it (posthog-node's `PostHogFetchOptions`). */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
}

/** The response shape an SDK's injectable `fetch` returns (posthog-node's `PostHogFetchResponse`). */
export interface FetchLikeResponse {
  status: number;
  text(): Promise<string>;
  json(): Promise<unknown>;
  headers: { get(name: string): string | null };
}

/** One HTTP answer as {@link RetryingFetchOptions.request} returns it, body read. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** How a request's events ended, for the caller's own bookkeeping. */
export type FetchSettlement = 'delivered' | FailReason;

export interface RetryingFetchOptions {
  policy: RetryPolicy;
  outcomes: DeliveryOutcomes;
  /** Makes one attempt; throws when there is no answer (network error, timeout). */
  request(
    url: string,
    init: { method: string; headers: Record<string, string>; body: Uint8Array | string },
    signal: AbortSignal,
  ): Promise<RawAnswer>;
  /** The identifiers of the events a request body carries (its length is what is counted). */
  eventsOf(body: unknown): string[];
  /** Prepares the body once for every attempt (e.g. compresses it); default: as given. */
  prepare?(
    init: FetchInit,
  ): Promise<{ headers: Record<string, string>; body: Uint8Array | string }>;
  /** Aborted at the shutdown deadline: retries stop and the request throws. */
  shutdown: AbortSignal;
  /** Called once a request's events are settled (delivered or failed); not for a 413 the SDK will split. */
  onSettled?(events: string[], how: FetchSettlement, detail: string): void;
  onRetry?(reason: string, attempt: number, delayMs: number): void;
}

const headersOf = (h: RawAnswer['headers']) => ({
  get(name: string): string | null {
    const v = h[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  },
});

function responseOf(answer: RawAnswer): FetchLikeResponse {
  return {
    status: answer.status,
    headers: headersOf(answer.headers),
    text: async () => answer.body,
    json: async () => JSON.parse(answer.body) as unknown,
  };
}

/**
 * A `fetch` for an SDK that batches on its own (posthog-node): every request
 * the SDK makes is retried here under the shared {@link RetryPolicy} (so the
 * SDK's own retries are turned off), and the events it carries are counted
 * exactly in `outcomes` when it settles.
 *
 * What the SDK is told:
 * - the final answer, when there was one: 2xx (delivered), a 413 on several
 *   events (the SDK halves its batch and sends both halves here again, so
 *   nothing is counted yet), or the status it was refused or given up with;
 * - 504 when the retry budget ran out without any answer (the upstream never
 *   answered: the SDK drops the batch, counted `retries_exhausted` here);
 * - an error (no answer) only when `shutdown` aborted it: the SDK keeps those
 *   events, and its owner counts what is still held once it gives up.
 */
export function createRetryingFetch(
  options: RetryingFetchOptions,
): (url: string, init: FetchInit) => Promise<FetchLikeResponse> {
  const { policy, outcomes } = options;
  return async (url, init) => {
    const events = options.eventsOf(init.body);
    const prepared = options.prepare
      ? await options.prepare(init)
      : { headers: init.headers, body: (init.body ?? '') as Uint8Array | string };
    const signal = init.signal
      ? AbortSignal.any([options.shutdown, init.signal])
      : options.shutdown;
    let last: RawAnswer | undefined;
    const result = await runAttempts(
      policy,
      async (attemptSignal) => {
        let answer: RawAnswer;
        try {
          answer = await options.request(
            url,
            { method: init.method, headers: prepared.headers, body: prepared.body },
            attemptSignal,
          );
        } catch (err) {
          last = undefined;
          outcomes.request('network');
          throw err;
        }
        last = answer;
        outcomes.request(answer.status);
        return {
          verdict: policy.classify(answer.status, answer.headers['retry-after']),
          value: answer,
        };
      },
      signal,
      {
        onRetry: (reason, attempt, delay) => {
          outcomes.retry(reason);
          options.onRetry?.(reason, attempt, delay);
        },
      },
    );
    const settle = (how: FetchSettlement, detail: string) => {
      if (how === 'delivered') outcomes.delivered += events.length;
      else outcomes.fail(how, events.length);
      options.onSettled?.(events, how, detail);
    };
    if (result.kind === 'aborted') {
      const err = new Error('request aborted at the shutdown deadline');
      err.name = 'AbortError';
      throw err;
    }
    if (result.kind === 'exhausted') {
      settle('retries_exhausted', `last: ${result.last}`);
      const answer = last ?? { status: 504, headers: {}, body: '' };
      return responseOf(answer);
    }
    const answer = result.value;
    switch (result.verdict.kind) {
      case 'delivered':
        settle('delivered', `HTTP ${answer.status}`);
        break;
      case 'too_large':
        if (events.length <= 1) settle('too_large', 'HTTP 413');
        break;
      default:
        settle('refused', `HTTP ${answer.status}`);
    }
    return responseOf(answer);
  };
}
