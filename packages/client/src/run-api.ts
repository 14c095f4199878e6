/**
 * What the Node and browser entries share: the run API's public types, and
 * {@link RunApi}, the base of both telemetry classes (`startRun`, `installer`
 * and the schema and size check every emitted event passes). Platform-neutral:
 * no Node built-ins, so the browser entry can import it.
 */
import { MAX_EVENT_BYTES, parseEvent, utf8ByteLength } from '@runmat-telemetry/schema/browser';
import type { InstallerInfo, StartRunOptions } from './run/build-events.js';
import { InstallerSession } from './run/installer-events.js';
import { type RunEmitter, RunGuard } from './run/run-guard.js';
import type { DebugLog } from './transport/transport.js';

export type {
  FailureBuckets,
  FinishRunOptions,
  GpuSummary,
  InstallerInfo,
  RunSummary,
  StartRunOptions,
} from './run/build-events.js';
export { InstallerSession } from './run/installer-events.js';
export { RunGuard } from './run/run-guard.js';
export type { DebugLog } from './transport/transport.js';

/** The run API over one emitter, and validation of every emitted event. No method throws into the host. */
export abstract class RunApi {
  protected readonly debugLog: DebugLog;
  /** What the run and installer events are built with and emitted through. */
  protected abstract readonly runEmitter: RunEmitter;
  #invalid = 0;

  protected constructor(log: DebugLog) {
    this.debugLog = log;
  }

  /** Whether events are accepted at all (the user's consent / telemetry enabled). */
  protected abstract accepting(): boolean;

  /** Hands on an event that passed validation, serialized; true when queued for delivery. */
  protected abstract enqueue(event: Record<string, unknown>, body: string): boolean;

  /** Events that did not fit the schema or the size limit and were dropped. */
  protected get invalidCount(): number {
    return this.#invalid;
  }

  /** Starts a run and emits `runtime.run.started`; call `finish()` on the result when it ends. */
  startRun(options: StartRunOptions): RunGuard {
    return new RunGuard(this.runEmitter, options);
  }

  /** An installer session that emits each installer event at most once. */
  installer(info: InstallerInfo): InstallerSession {
    return new InstallerSession(this.runEmitter, info);
  }

  /**
   * Validates an event against the schema's field policy and queues what the
   * policy keeps. Returns true when it was queued for delivery. An event whose
   * identity is wrong is dropped with a debug log; a cosmetic field outside
   * its bound is normalized or dropped and the event still goes.
   */
  emit(event: Record<string, unknown>): boolean {
    try {
      if (!this.accepting()) return false;
      const parsed = parseEvent(event);
      if (!parsed.ok) {
        this.#invalid++;
        this.debugLog('event dropped: does not fit the schema', { ...parsed.error });
        return false;
      }
      // What leaves is the parsed event: contract fields only, each within its
      // bound. A cosmetic field outside it was normalized or dropped, never the run.
      if (parsed.fixes.length > 0) {
        this.debugLog('event fields normalized or dropped', { fixes: parsed.fixes });
      }
      const clean = parsed.event as unknown as Record<string, unknown>;
      const body = JSON.stringify(clean);
      const size = utf8ByteLength(body);
      if (size > MAX_EVENT_BYTES) {
        this.#invalid++;
        this.debugLog('event dropped: too large', { size, limit: MAX_EVENT_BYTES });
        return false;
      }
      return this.enqueue(clean, body);
    } catch (err) {
      this.debugLog('emit failed', { error: String(err) });
      return false;
    }
  }
}
