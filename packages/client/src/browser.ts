/**
 * RunMat telemetry client, browser entry (WASM hosts). Same run API as the
 * Node entry; HTTP only, no file system, nothing from `node:`, and nothing
 * that evaluates code at run time (it loads under `script-src 'self'`
 * without `'unsafe-eval'`).
 *
 * Delivery: one `fetch` per event, cross-origin (`mode: 'cors'`,
 * `credentials: 'omit'`) with `keepalive: true`, so a request started just
 * before the page goes away is still sent. When the page is hidden or
 * closed (`pagehide`, `visibilitychange` to hidden) whatever is queued is
 * sent at once. Where fetch cannot carry it (no fetch, or the 64 KiB
 * budget browsers give the bodies of keepalive requests in flight is used
 * up), the event goes as a beacon: `navigator.sendBeacon` with the JSON as
 * a `text/plain` blob and the ingestion key as `?k=` (a beacon cannot set
 * headers; the worker accepts a query key only from its CORS_ORIGINS).
 */
import {
  anonymousId,
  DEFAULT_HTTP_ENDPOINT,
  INGESTION_KEY_HEADER,
  utf8ByteLength,
} from '@runmat-telemetry/schema/browser';
import type { EnvelopeContext } from './run/build-events.js';
import type { RunEmitter } from './run/run-guard.js';
import { type DebugLog, RunApi } from './run-api.js';

export type * from './run-api.js';

/**
 * What browsers allow in the bodies of keepalive requests in flight at once
 * (the Fetch standard's 64 KiB, per page). A keepalive fetch past it is
 * refused, so the client keeps its own keepalive bodies within it.
 */
export const KEEPALIVE_BODY_QUOTA = 64 * 1024;

/** Query parameter that carries the ingestion key on a beacon (it cannot set headers). */
export const BEACON_KEY_PARAM = 'k';

/** Options for {@link createBrowserTelemetry}. */
export interface BrowserTelemetryOptions {
  /** The user's consent (default true). False: nothing leaves the page and GPU/provider counters are not gathered. */
  telemetryConsent?: boolean;
  /**
   * Host-supplied anonymous id, emitted as `cid` (1-64 chars of
   * `[A-Za-z0-9._:-]`, starting alphanumeric). Without one, or with one
   * outside that bound, a random id per page load.
   */
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
  /** sendBeacon implementation (default navigator.sendBeacon); `false` never sends beacons. */
  sendBeacon?: ((url: string, data: Blob) => boolean) | false;
  log?: DebugLog;
  /** Send what is queued when the page is hidden or closed (default true). */
  flushOnPageHide?: boolean;
}

/** Counters for a browser telemetry instance. */
export interface BrowserTelemetryStats {
  queued: number;
  /** Events the collector acknowledged, plus beacons the browser accepted to send. */
  sent: number;
  /** Of `sent`, the beacons (their answer cannot be read). */
  beacons: number;
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

/**
 * A v4 UUID. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost); `getRandomValues` exists everywhere, so pages served over plain
 * http still get ids instead of an exception.
 */
export function browserUuid(): string {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(b);
  // No Web Crypto at all (a stripped-down host): an id is still better than an exception.
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Telemetry for a browser host. No method throws into the host. */
export class BrowserTelemetry extends RunApi {
  /** The host's consent as given (default true). */
  readonly consent: boolean;
  /** True when events leave the page (consent given, a key present or not required, fetch or sendBeacon there). */
  readonly deliveryEnabled: boolean;
  /** The id emitted as `cid`: the host's `telemetryId`, else a per-page random id; undefined without consent and host id. */
  readonly clientId: string | undefined;
  readonly sessionId: string;

  readonly #endpoint: string;
  readonly #beaconUrl: string;
  readonly #key: string;
  readonly #fetch: typeof fetch | undefined;
  readonly #sendBeacon: ((url: string, data: Blob) => boolean) | undefined;
  readonly #show: boolean;
  readonly #queueSize: number;
  readonly #queue: string[] = [];
  protected readonly runEmitter: RunEmitter;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #onPageHide: () => void;
  readonly #onVisibility: () => void;
  #scheduled = false;
  #keepaliveBytes = 0;
  #sent = 0;
  #beacons = 0;
  #failed = 0;
  #dropped = 0;

  constructor(given: BrowserTelemetryOptions = {}) {
    // Hosts call this from plain JS too: anything but an object means defaults.
    const options: BrowserTelemetryOptions = given && typeof given === 'object' ? given : {};
    super(typeof options.log === 'function' ? options.log : () => {});
    this.consent = options.telemetryConsent !== false;
    this.#endpoint =
      typeof options.httpEndpoint === 'string' && options.httpEndpoint !== ''
        ? options.httpEndpoint
        : DEFAULT_HTTP_ENDPOINT;
    this.#key = typeof options.ingestionKey === 'string' ? options.ingestionKey : '';
    this.#beaconUrl = this.#key
      ? `${this.#endpoint}${this.#endpoint.includes('?') ? '&' : '?'}${BEACON_KEY_PARAM}=${encodeURIComponent(this.#key)}`
      : this.#endpoint;
    this.#fetch =
      options.fetch ?? (typeof fetch === 'function' ? fetch.bind(globalThis) : undefined);
    const nav = (globalThis as { navigator?: BeaconNavigator }).navigator;
    this.#sendBeacon =
      options.sendBeacon === false
        ? undefined
        : (options.sendBeacon ??
          (typeof nav?.sendBeacon === 'function' ? nav.sendBeacon.bind(nav) : undefined));
    this.#show = options.showPayloads === true;
    this.#queueSize = Math.max(8, options.queueSize ?? 256);
    const keyOk = this.#key !== '' || options.requireIngestionKey === false;
    this.deliveryEnabled =
      this.consent && keyOk && (this.#fetch !== undefined || this.#sendBeacon !== undefined);
    this.sessionId = browserUuid();
    // The schema's own rule for `cid`: an id it would refuse would cost every event.
    const asked = options.telemetryId;
    const hostId = typeof asked === 'string' && anonymousId.check(asked).ok ? asked : undefined;
    if (asked !== undefined && hostId === undefined) {
      this.debugLog('telemetryId outside the anonymous id bound: a random id is used', {});
    }
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

    // pagehide: the page is being left or closed (its visibility may still
    // read 'visible' then). visibilitychange to hidden: a tab switch, or the
    // last event a mobile browser fires before it discards the page.
    this.#onPageHide = () => {
      void this.#flush(true);
    };
    this.#onVisibility = () => {
      try {
        const doc = (globalThis as { document?: { visibilityState?: string } }).document;
        if (doc?.visibilityState === 'hidden') void this.#flush(true);
      } catch {
        // A listener must never throw into the page.
      }
    };
    if (this.deliveryEnabled && options.flushOnPageHide !== false) {
      const target = globalThis as EventTargetLike;
      target.addEventListener?.('pagehide', this.#onPageHide);
      target.addEventListener?.('visibilitychange', this.#onVisibility);
    }
  }

  protected accepting(): boolean {
    return this.consent;
  }

  protected enqueue(_event: Record<string, unknown>, body: string): boolean {
    if (this.#show) console.log(`[runmat telemetry] ${body}`);
    if (!this.deliveryEnabled) return false;
    if (this.#queue.length >= this.#queueSize) {
      this.#dropped++;
      return false;
    }
    this.#queue.push(body);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        void this.flush();
      }, 0);
    }
    return true;
  }

  /** Sends everything queued (fetch with keepalive, so it survives page unload) and waits for it. Never rejects. */
  flush(): Promise<void> {
    return this.#flush(false);
  }

  async #flush(hiding: boolean): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const body = this.#queue.shift();
        if (body !== undefined) this.#track(this.#send(body, hiding));
      }
      await Promise.all([...this.#inFlight]);
    } catch (err) {
      this.debugLog('flush failed', { error: String(err) });
    }
  }

  stats(): BrowserTelemetryStats {
    return {
      queued: this.#queue.length,
      sent: this.#sent,
      beacons: this.#beacons,
      failed: this.#failed,
      dropped: this.#dropped,
      invalid: this.invalidCount,
    };
  }

  /** Flushes and removes page listeners. Never rejects. */
  async shutdown(): Promise<void> {
    try {
      const target = globalThis as EventTargetLike;
      target.removeEventListener?.('pagehide', this.#onPageHide);
      target.removeEventListener?.('visibilitychange', this.#onVisibility);
    } catch {
      // Nothing to undo.
    }
    await this.flush();
  }

  #track(attempt: Promise<'sent' | 'beacon'>): void {
    const tracked: Promise<void> = attempt
      .then(
        (how) => {
          this.#sent++;
          if (how === 'beacon') this.#beacons++;
        },
        (err: unknown) => {
          this.#failed++;
          this.debugLog('delivery failed', { error: String(err) });
        },
      )
      .finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  /**
   * One event: a keepalive fetch while its body fits the keepalive budget;
   * past it, a beacon when the page is going away (or fetch is missing),
   * else a plain fetch (the page lives on, so it needs no keepalive).
   */
  async #send(body: string, hiding: boolean): Promise<'sent' | 'beacon'> {
    const doFetch = this.#fetch;
    const bytes = utf8ByteLength(body);
    const keepalive = this.#keepaliveBytes + bytes <= KEEPALIVE_BODY_QUOTA;
    if (!doFetch || (!keepalive && hiding)) {
      if (this.#beacon(body)) return 'beacon';
      if (!doFetch) throw new Error('neither fetch nor sendBeacon could send');
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#key) headers[INGESTION_KEY_HEADER] = this.#key;
    if (keepalive) this.#keepaliveBytes += bytes;
    try {
      let pending: Promise<Response>;
      try {
        pending = doFetch(this.#endpoint, {
          method: 'POST',
          headers,
          body,
          keepalive,
          mode: 'cors',
          credentials: 'omit',
        });
      } catch (err) {
        // Some browsers throw at once while the document unloads.
        if (this.#beacon(body)) return 'beacon';
        throw err;
      }
      const res = await pending;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return 'sent';
    } finally {
      if (keepalive) this.#keepaliveBytes -= bytes;
    }
  }

  // The key rides in the URL (`?k=`): the worker takes it only with an
  // Origin in its CORS_ORIGINS and never logs it. `text/plain` keeps the
  // beacon a simple request (no preflight, which a beacon cannot answer).
  #beacon(body: string): boolean {
    const send = this.#sendBeacon;
    if (!send) return false;
    try {
      return send(this.#beaconUrl, new Blob([body], { type: 'text/plain' }));
    } catch {
      return false;
    }
  }
}

/** Creates browser telemetry. See {@link BrowserTelemetryOptions}. */
export function createBrowserTelemetry(options: BrowserTelemetryOptions = {}): BrowserTelemetry {
  return new BrowserTelemetry(options);
}
