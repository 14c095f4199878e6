import { randomUUID } from 'node:crypto';
import { arch as osArch, platform as osPlatform } from 'node:os';
import { TelemetryConfigError } from './config/config-error.js';
import {
  type ResolveConfigOptions,
  type ResolvedConfig,
  resolveConfig,
} from './config/resolve-config.js';
import { effectiveHttpEndpoint } from './config/telemetry-config.js';
import {
  DeliveryQueue,
  type DeliveryResult,
  type DeliveryStats,
} from './delivery/delivery-queue.js';
import { runmatArch, runmatOs } from './identity/platform-info.js';
import {
  type IdSource,
  isValidTelemetryId,
  loadOrCreateTelemetryId,
} from './identity/telemetry-id.js';
import { defaultDebugLog } from './log/debug-log.js';
import type { EnvelopeContext } from './run/build-events.js';
import type { RunEmitter } from './run/run-guard.js';
import { RunApi } from './run-api.js';
import { createHttpTransport } from './transport/http-transport.js';
import type { DebugLog, Transport } from './transport/transport.js';
import { createUdpTransport } from './transport/udp-transport.js';

/** Options for {@link createTelemetry}. File-system and env inputs are injectable for tests and embedders. */
export interface TelemetryOptions extends ResolveConfigOptions {
  /** Host-supplied anonymous id; emitted as `cid` instead of the id file's. */
  telemetryId?: string;
  /** RunMat version, e.g. `0.4.9`. */
  release?: string;
  /** Override the reported os / arch (defaults: RunMat's names for this machine). */
  os?: string;
  arch?: string;
  /** Throw {@link TelemetryConfigError} from `createTelemetry` instead of turning telemetry off. */
  strictConfig?: boolean;
  /** Debug logger (default: silent unless NODE_DEBUG=runmat-telemetry or RUNMAT_TELEMETRY_DEBUG=1). */
  log?: DebugLog;
  /** Where `show_payloads` / `RUNMAT_TELEMETRY_SHOW` lines go (default process stdout / stderr). */
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  /** Called once per event per transport after each delivery attempt. */
  onResult?: (result: DeliveryResult) => void;
  /** Called when an event passed validation and was queued for delivery. */
  onQueued?: (label: string, uuid: string | undefined) => void;
  /** Per-request HTTP timeout (default 2000 ms). */
  httpTimeoutMs?: number;
  /** DNS servers for collector names (default: the system's), e.g. `['127.0.0.1:5353']`. */
  dnsServers?: string[];
  /** Drain automatically when the event loop empties (default true). */
  drainOnExit?: boolean;
  /** Override the drain wait for this instance (the CLI's `emit` waits longer than a host's exit). */
  drainTimeoutMs?: number;
}

/** Counters for a telemetry instance. */
export interface TelemetryStats extends DeliveryStats {
  /** Events that did not fit the schema (or the datagram budget) and were dropped. */
  invalid: number;
}

/**
 * A telemetry instance for one RunMat process. Every method is safe to call
 * whether or not telemetry is enabled, and none throws into the host.
 */
export class Telemetry extends RunApi {
  /** The resolved configuration; undefined when it could not be read (see `configError`). */
  readonly resolved: ResolvedConfig | undefined;
  /** Why the configuration could not be used; telemetry is then off. */
  readonly configError: TelemetryConfigError | undefined;
  /** True when no opt-out applies and the config was readable. */
  readonly enabled: boolean;
  /** True when events actually leave the process. */
  readonly deliveryEnabled: boolean;
  /** The anonymous id emitted as `cid` (undefined when disabled without a host id). */
  readonly clientId: string | undefined;
  readonly clientIdSource: IdSource | undefined;
  readonly sessionId: string;

  readonly #context: EnvelopeContext;
  readonly #queue: DeliveryQueue | undefined;
  readonly #show: ((json: string) => void) | undefined;
  readonly #drainMode: 'all' | 'none';
  readonly #drainTimeoutMs: number;
  protected readonly runEmitter: RunEmitter;
  readonly #onQueued: ((label: string, uuid: string | undefined) => void) | undefined;
  #shutdown: Promise<void> | undefined;
  #onBeforeExit: (() => void) | undefined;

  constructor(options: TelemetryOptions = {}) {
    const env = options.env ?? process.env;
    super(options.log ?? defaultDebugLog(env));
    this.#onQueued = options.onQueued;
    let resolved: ResolvedConfig | undefined;
    try {
      resolved = resolveConfig(options);
    } catch (err) {
      if (options.strictConfig) throw err;
      this.configError =
        err instanceof TelemetryConfigError
          ? err
          : new TelemetryConfigError('unreadable_file', String(err), {}, { cause: err });
      this.debugLog('config unusable, telemetry off', { error: this.configError.message });
    }
    this.resolved = resolved;
    this.enabled = resolved?.enabled ?? false;
    this.deliveryEnabled = resolved?.deliveryEnabled ?? false;
    this.sessionId = randomUUID();

    const hostId =
      options.telemetryId && isValidTelemetryId(options.telemetryId)
        ? options.telemetryId
        : undefined;
    if (options.telemetryId && !hostId)
      this.debugLog('telemetryId ignored: not a safe anonymous id');
    if (hostId) {
      this.clientId = hostId;
      this.clientIdSource = 'host';
    } else if (resolved && this.deliveryEnabled) {
      const id = loadOrCreateTelemetryId(resolved.paths.idFile);
      if (id.problem)
        this.debugLog('id file unusable, using a per-process id', { problem: id.problem });
      this.clientId = id.id;
      this.clientIdSource = id.source;
    } else if (this.enabled) {
      // Enabled but nothing leaves the process: show payloads with a throwaway id, create no file.
      this.clientId = randomUUID();
      this.clientIdSource = 'ephemeral';
    }

    this.#context = {
      os: options.os ?? runmatOs(options.platform ?? osPlatform()),
      arch: options.arch ?? runmatArch(osArch()),
      session_id: this.sessionId,
    };
    if (options.release) this.#context.release = options.release;
    if (this.clientId) this.#context.cid = this.clientId;

    const config = resolved?.config;
    this.#drainMode = config?.drain_mode ?? 'none';
    this.#drainTimeoutMs = options.drainTimeoutMs ?? config?.drain_timeout_ms ?? 0;

    if (this.enabled && config && resolved) {
      const stdout = options.stdout ?? ((line: string) => process.stdout.write(`${line}\n`));
      const stderr = options.stderr ?? ((line: string) => process.stderr.write(`${line}\n`));
      const toStdout = config.show_payloads;
      const toStderr = resolved.showOnStderr;
      if (toStdout || toStderr) {
        this.#show = (json) => {
          if (toStdout) stdout(`[runmat telemetry] ${json}`);
          if (toStderr) stderr(`[runmat telemetry] ${json}`);
        };
      }
    }

    if (this.deliveryEnabled && config && resolved) {
      const transports: Transport[] = [];
      if (config.udp_endpoint !== '')
        transports.push(createUdpTransport(config.udp_endpoint, options.dnsServers));
      transports.push(
        createHttpTransport({
          endpoint: effectiveHttpEndpoint(config),
          ingestionKey: resolved.ingestionKey,
          timeoutMs: options.httpTimeoutMs,
          dnsServers: options.dnsServers,
        }),
      );
      this.#queue = new DeliveryQueue({
        transports,
        queueSize: config.queue_size,
        syncMode: config.sync_mode,
        log: this.debugLog,
        onResult: options.onResult,
      });
      if (options.drainOnExit !== false) {
        // beforeExit fires when the loop is empty, i.e. the host finished
        // without calling shutdown(); drain then, within the same bound.
        this.#onBeforeExit = () => void this.shutdown();
        process.once('beforeExit', this.#onBeforeExit);
      }
    }

    this.runEmitter = {
      context: this.#context,
      newUuid: randomUUID,
      emit: (event) => this.emit(event),
      collectProvider: this.enabled,
    };
  }

  protected accepting(): boolean {
    return this.enabled;
  }

  protected enqueue(event: Record<string, unknown>, body: string): boolean {
    this.#show?.(body);
    if (!this.#queue) return false;
    const uuid = typeof event.uuid === 'string' ? event.uuid : undefined;
    const label = String(event.event_label);
    const queued = this.#queue.enqueue({ label, uuid, body });
    if (queued) this.#onQueued?.(label, uuid);
    return queued;
  }

  /** Delivery counters. */
  stats(): TelemetryStats {
    const delivery = this.#queue?.stats() ?? {
      queued: 0,
      inFlight: 0,
      sent: 0,
      failed: 0,
      dropped: 0,
    };
    return { ...delivery, invalid: this.invalidCount };
  }

  /**
   * Flushes and stops. With `drain_mode = "all"` waits for outstanding events
   * at most `drain_timeout_ms` (capped at 5000); with `"none"` (or
   * `RUNMAT_TELEMETRY_DRAIN=none`) returns at once. Idempotent; never rejects.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    if (this.#onBeforeExit) process.removeListener('beforeExit', this.#onBeforeExit);
    const queue = this.#queue;
    if (!queue) return;
    try {
      if (this.#drainMode === 'all' && !queue.idle) await queue.drain(this.#drainTimeoutMs);
    } catch (err) {
      this.debugLog('drain failed', { error: String(err) });
    }
    queue.close();
  }
}

/** Creates the telemetry instance for this process. See {@link TelemetryOptions}. */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  return new Telemetry(options);
}
