/**
 * RunMat telemetry client, browser entry (WASM hosts). Same run API as the
 * Node entry; HTTP only, no file system, and nothing from `node:`.
 */
import { DEFAULT_HTTP_ENDPOINT, INGESTION_KEY_HEADER } from '@runmat-telemetry/schema/browser';
import type { EnvelopeContext } from './run/build-events.js';
import type { RunEmitter } from './run/run-guard.js';
import { type DebugLog, RunApi } from './run-api.js';

export type * from './run-api.js';

/** Options for {@link createBrowserTelemetry}. */
export interface BrowserTelemetryOptions {
  /** The user's consent (default true). False: nothing leaves the page and GPU/provider counters are not gathered. */
  telemetryConsent?: boolean;
  /** Host-supplied anonymous id, emitted as `cid`. Without one, a random id per page load. */
  telemetryId?: string;
  /** Collector URL (default the built-in `https://api.runmat.com/v1/t`). */
  httpEndpoint?: string;
  ingestionKey?: string;
  /** Without a key nothing is sent unless this is false (default true). */
  requireIngestionKey?: boolean;
  release?: string;
  /** Reported os / arch (default `browser` / `wasm32`). */
  os?: string;
  arch?: string;
  /** Log each payload with `console.log('[runmat telemetry]', json)`. */
  showPayloads?: boolean;
  /** Queue bound (default 256, minimum 8). */
  queueSize?: number;
  /** fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  log?: DebugLog;
  /** Flush with keepalive when the page is hidden (default true). */
  flushOnPageHide?: boolean;
}

/** Counters for a browser telemetry instance. */
export interface BrowserTelemetryStats {
  queued: number;
  sent: number;
  failed: number;
  dropped: number;
  invalid: number;
}

interface BeaconNavigator {
  sendBeacon?: (url: string, data: Blob) => boolean;
}
interface EventTargetLike {
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * A v4 UUID. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost); `getRandomValues` exists everywhere, so pages served over plain
 * http still get ids instead of an exception.
 */
export function browserUuid(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Telemetry for a browser host. No method throws into the host. */
export class BrowserTelemetry extends RunApi {
  /** The host's consent as given (default true). */
  readonly consent: boolean;
  /** True when events leave the page (consent given and a key present or not required). */
  readonly deliveryEnabled: boolean;
  /** The id emitted as `cid`: the host's `telemetryId`, else a per-page random id; undefined without consent and host id. */
  readonly clientId: string | undefined;
  readonly sessionId: string;

  readonly #endpoint: string;
  readonly #key: string;
  readonly #fetch: typeof fetch | undefined;
  readonly #show: boolean;
  readonly #queueSize: number;
  readonly #queue: { label: string; body: string }[] = [];
  protected readonly runEmitter: RunEmitter;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #onHide: () => void;
  #scheduled = false;
  #sent = 0;
  #failed = 0;
  #dropped = 0;

  constructor(options: BrowserTelemetryOptions = {}) {
    super(options.log ?? (() => {}));
    this.consent = options.telemetryConsent !== false;
    this.#endpoint = options.httpEndpoint || DEFAULT_HTTP_ENDPOINT;
    this.#key = options.ingestionKey ?? '';
    this.#fetch =
      options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
    this.#show = options.showPayloads === true;
    this.#queueSize = Math.max(8, options.queueSize ?? 256);
    const keyOk = this.#key !== '' || options.requireIngestionKey === false;
    this.deliveryEnabled = this.consent && keyOk && this.#fetch !== undefined;
    this.sessionId = browserUuid();
    const hostId =
      options.telemetryId && SAFE_ID.test(options.telemetryId) ? options.telemetryId : undefined;
    this.clientId = hostId ?? (this.consent ? browserUuid() : undefined);

    const context: EnvelopeContext = {
      os: options.os ?? 'browser',
      arch: options.arch ?? 'wasm32',
      session_id: this.sessionId,
    };
    if (options.release) context.release = options.release;
    if (this.clientId) context.cid = this.clientId;
    this.runEmitter = {
      context,
      newUuid: () => browserUuid(),
      emit: (event) => this.emit(event),
      collectProvider: this.consent,
    };

    this.#onHide = () => {
      const doc = (globalThis as { document?: { visibilityState?: string } }).document;
      if (doc?.visibilityState === undefined || doc.visibilityState === 'hidden') void this.flush();
    };
    if (this.deliveryEnabled && options.flushOnPageHide !== false) {
      const target = globalThis as EventTargetLike;
      target.addEventListener?.('pagehide', this.#onHide);
      target.addEventListener?.('visibilitychange', this.#onHide);
    }
  }

  protected accepting(): boolean {
    return this.consent;
  }

  protected enqueue(event: Record<string, unknown>, body: string): boolean {
    if (this.#show) console.log(`[runmat telemetry] ${body}`);
    if (!this.deliveryEnabled) return false;
    if (this.#queue.length >= this.#queueSize) {
      this.#dropped++;
      return false;
    }
    this.#queue.push({ label: String(event.event_label), body });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        void this.flush();
      }, 0);
    }
    return true;
  }

  /** Sends everything queued (fetch with keepalive, so it survives page unload) and waits for it. */
  async flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const item = this.#queue.shift();
      if (item) this.#inFlight.add(this.#send(item.body));
    }
    await Promise.all([...this.#inFlight]);
  }

  stats(): BrowserTelemetryStats {
    return {
      queued: this.#queue.length,
      sent: this.#sent,
      failed: this.#failed,
      dropped: this.#dropped,
      invalid: this.invalidCount,
    };
  }

  /** Flushes and removes page listeners. */
  async shutdown(): Promise<void> {
    const target = globalThis as EventTargetLike;
    target.removeEventListener?.('pagehide', this.#onHide);
    target.removeEventListener?.('visibilitychange', this.#onHide);
    await this.flush();
  }

  #send(body: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#key) headers[INGESTION_KEY_HEADER] = this.#key;
    let attempt: Promise<void>;
    try {
      const doFetch = this.#fetch;
      if (!doFetch) throw new Error('no fetch');
      attempt = doFetch(this.#endpoint, { method: 'POST', headers, body, keepalive: true }).then(
        (res) => {
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
        },
      );
    } catch (err) {
      attempt = this.#beacon(body) ? Promise.resolve() : Promise.reject(err);
    }
    const tracked: Promise<void> = attempt
      .then(
        () => {
          this.#sent++;
        },
        (err: unknown) => {
          this.#failed++;
          this.debugLog('delivery failed', { error: String(err) });
        },
      )
      .finally(() => this.#inFlight.delete(tracked));
    return tracked;
  }

  // Last resort when fetch is unavailable or refuses (some browsers during
  // unload). Beacons cannot carry the key header, so collectors that require
  // a key will reject them; that is accepted as lost telemetry.
  #beacon(body: string): boolean {
    const nav = (globalThis as { navigator?: BeaconNavigator }).navigator;
    if (!nav?.sendBeacon) return false;
    try {
      return nav.sendBeacon(this.#endpoint, new Blob([body], { type: 'application/json' }));
    } catch {
      return false;
    }
  }
}

/** Creates browser telemetry. See {@link BrowserTelemetryOptions}. */
export function createBrowserTelemetry(options: BrowserTelemetryOptions = {}): BrowserTelemetry {
  return new BrowserTelemetry(options);
}
