import type { FastifyBaseLogger } from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';
import type { WorkerMetrics } from '../metrics.js';
import { CIRCUIT_STATE_VALUE, CircuitBreaker, type CircuitState } from './circuit-breaker.js';

/** Why a claim fell back to the local window alone. */
export type FailOpenReason = 'timeout' | 'error' | 'circuit_open';

/**
 * A claim's outcome: `duplicate[i]` tells whether uuid i was already claimed
 * (by this instance or another) within the window; or the claim failed open
 * and the caller decides with its local window alone.
 */
export type ClaimOutcome =
  | { ok: true; duplicate: boolean[] }
  | { ok: false; reason: FailOpenReason };

/** Dedupe shared by every worker instance (Redis/Valkey behind DEDUPE_REDIS_URL). */
export interface SharedDedupe {
  /**
   * Claims the uuids in one round trip. Never rejects, and resolves within
   * the configured timeout (a slow or absent store fails open).
   */
  claim(uuids: readonly string[]): Promise<ClaimOutcome>;
  readonly state: CircuitState;
  close(): Promise<void>;
}

export interface RedisDedupeOptions {
  url: string;
  /** PEM CA bundle the server's certificate must chain to (rediss:// only). */
  ca?: string;
  /** How long a claim is remembered: DEDUPE_WINDOW_MS. */
  ttlMs: number;
  /** Longest a claim may take before the intake goes on without it. */
  timeoutMs: number;
  /** Key namespace, e.g. `runmat:dedupe:`. */
  prefix: string;
  breakerFailures: number;
  breakerCooldownMs: number;
  metrics: WorkerMetrics;
  log: FastifyBaseLogger;
  now?: () => number;
}

/** At most one "still failing" log line per this many ms, so an outage does not flood the logs. */
const LOG_EVERY_MS = 10_000;

/**
 * Shared dedupe on Redis or Valkey through ioredis.
 *
 * A batch's uuids are claimed with one pipelined `SET <prefix><uuid> 1 NX PX
 * <window>` each: one write to the socket and one round trip for the whole
 * batch, and Redis decides atomically per key which instance saw a uuid
 * first (`OK`: this one, nil: someone already had it). Keys expire with the
 * dedupe window, so Redis holds at most a window of uuids.
 *
 * Failing open: a claim that takes longer than `timeoutMs`, or fails, is
 * answered "unknown" and the intake decides with its local window alone; a
 * circuit breaker stops sending claims after `breakerFailures` failures in
 * a row and lets one probe through every `breakerCooldownMs` until one
 * succeeds. Commands are never queued while disconnected (ioredis's offline
 * queue is off), so a down Redis costs a claim nothing but a rejected
 * promise; ioredis keeps reconnecting in the background, and the first
 * probe after it is back closes the circuit again, without a restart.
 */
export class RedisDedupe implements SharedDedupe {
  private readonly redis: Redis;
  private readonly breaker: CircuitBreaker;
  private readonly now: () => number;
  private lastErrorLog = 0;
  private closed = false;

  constructor(private readonly opts: RedisDedupeOptions) {
    this.now = opts.now ?? Date.now;
    const m = opts.metrics;
    this.breaker = new CircuitBreaker({
      failureThreshold: opts.breakerFailures,
      cooldownMs: opts.breakerCooldownMs,
      now: this.now,
      onChange: (state) => {
        m.dedupeCircuitState.set(CIRCUIT_STATE_VALUE[state]);
        if (state === 'open') m.dedupeCircuitOpened.inc();
        const level = state === 'closed' ? 'info' : 'warn';
        opts.log[level]({ circuit: state }, 'shared dedupe circuit');
      },
    });
    m.dedupeCircuitState.set(0);
    m.dedupeConnected.set(0);
    // Commands whose answer never comes are given up on after this, and a
    // connection with commands outstanding and no byte received for this
    // long is dropped and dialled again (a stalled or half-open socket).
    const stallLimitMs = Math.max(1000, opts.timeoutMs * 20);
    const options: RedisOptions = {
      // RESP2: what every Redis and Valkey version (and Memorystore) speaks.
      protocol: 2,
      connectionName: 'runmat-telemetry-worker',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: stallLimitMs,
      socketTimeout: stallLimitMs,
      connectTimeout: Math.max(1000, opts.timeoutMs * 20),
      // Reconnect quickly, then every second while it stays down.
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
      ...(opts.ca !== undefined ? { tls: { ca: opts.ca } } : {}),
    };
    this.redis = new Redis(opts.url, options);
    this.redis.on('ready', () => {
      m.dedupeConnected.set(1);
      opts.log.info('shared dedupe connected');
    });
    this.redis.on('close', () => m.dedupeConnected.set(0));
    // ioredis emits an error per failed (re)connection: log the first and
    // then one every LOG_EVERY_MS; never rethrow (that would crash the process).
    this.redis.on('error', (err: Error) => this.logError(err, 'shared dedupe connection error'));
  }

  get state(): CircuitState {
    return this.breaker.state;
  }

  async claim(uuids: readonly string[]): Promise<ClaimOutcome> {
    const m = this.opts.metrics;
    if (uuids.length === 0) return { ok: true, duplicate: [] };
    const admitted = this.closed ? 'refuse' : this.breaker.admit();
    if (admitted === 'refuse') return this.failOpen('circuit_open', uuids.length);

    const started = process.hrtime.bigint();
    const pipeline = this.redis.pipeline();
    const px = String(this.opts.ttlMs);
    for (const uuid of uuids) pipeline.set(this.opts.prefix + uuid, '1', 'PX', px, 'NX');
    const exec = pipeline.exec();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      // Timers run before I/O in each turn of the event loop: after a stall
      // of our own (GC, a big batch) the timer and Redis's answer can both be
      // due at once. setImmediate runs after the I/O phase, so an answer
      // that has already arrived wins; only a Redis that is really slow loses.
      timer = setTimeout(() => setImmediate(() => resolve('timeout')), this.opts.timeoutMs);
    });
    let result: Awaited<typeof exec> | 'timeout' | Error;
    try {
      result = await Promise.race([exec, timedOut]);
    } catch (err) {
      result = err instanceof Error ? err : new Error(String(err));
    } finally {
      clearTimeout(timer);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result === 'timeout') {
      // The answer may still come; it is ignored (and must not be unhandled).
      exec.catch(() => {});
      m.dedupeRoundTrip.labels('timeout').observe(seconds);
      this.breaker.failure();
      return this.failOpen('timeout', uuids.length);
    }
    // Not connected (the offline queue is off), ioredis answers the pipeline
    // with an error per command rather than rejecting it.
    if (result !== null && !(result instanceof Error) && result.every(([err]) => err !== null)) {
      result = result[0]?.[0] ?? new Error('no reply');
    }
    if (result instanceof Error || result === null) {
      m.dedupeRoundTrip.labels('error').observe(seconds);
      this.breaker.failure();
      if (result instanceof Error) this.logError(result, 'shared dedupe claim failed');
      return this.failOpen('error', uuids.length);
    }
    m.dedupeRoundTrip.labels('ok').observe(seconds);
    this.breaker.success();
    const duplicate: boolean[] = new Array(uuids.length);
    let claimed = 0;
    let dupes = 0;
    let failed = 0;
    for (let i = 0; i < uuids.length; i++) {
      const [err, reply] = result[i] ?? [new Error('no reply'), null];
      if (err) {
        // One key refused (e.g. Redis out of memory): that event is decided locally.
        duplicate[i] = false;
        failed++;
      } else if (reply === 'OK') {
        duplicate[i] = false;
        claimed++;
      } else {
        duplicate[i] = true;
        dupes++;
      }
    }
    if (claimed > 0) m.dedupeKeys.labels('claimed').inc(claimed);
    if (dupes > 0) m.dedupeKeys.labels('duplicate').inc(dupes);
    if (failed > 0) {
      m.dedupeFailOpenEvents.labels('error').inc(failed);
      this.logError(new Error(`${failed} keys refused`), 'shared dedupe claim partly failed');
    }
    return { ok: true, duplicate };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await Promise.race([
        this.redis.quit(),
        new Promise((resolve) => setTimeout(resolve, 500).unref()),
      ]);
    } catch {
      // Not connected: nothing to say goodbye to.
    }
    this.redis.disconnect();
  }

  private failOpen(reason: FailOpenReason, events: number): ClaimOutcome {
    this.opts.metrics.dedupeFailOpen.labels(reason).inc();
    this.opts.metrics.dedupeFailOpenEvents.labels(reason).inc(events);
    return { ok: false, reason };
  }

  private logError(err: Error, msg: string): void {
    const now = this.now();
    if (now - this.lastErrorLog < LOG_EVERY_MS) return;
    this.lastErrorLog = now;
    // Messages from ioredis name the host and port at most, never the password.
    this.opts.log.warn({ err: { name: err.name, message: err.message } }, msg);
  }
}
