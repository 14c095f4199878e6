import {
  buildFinishedEvent,
  buildStartedEvent,
  type EnvelopeContext,
  type FinishRunOptions,
  type RunSummary,
  type StartRunOptions,
  summarizeGpu,
} from './build-events.js';

/** What a run needs from the telemetry instance that started it. */
export interface RunEmitter {
  readonly context: EnvelopeContext;
  newUuid(): string;
  /** Validates and queues; false when the event was not accepted (disabled, invalid, queue full). */
  emit(event: Record<string, unknown>): boolean;
  /** False when the host withheld consent: GPU/provider counters are then not gathered at all. */
  readonly collectProvider: boolean;
}

/**
 * One run, mirroring RunMat's run guard: created by `startRun` (which emits
 * `runtime.run.started`), closed by {@link RunGuard.finish} (which emits
 * `runtime.run.finished` with the measured duration). Finishing twice returns
 * the first summary and emits nothing more.
 */
export class RunGuard {
  readonly #emitter: RunEmitter;
  readonly #run: StartRunOptions;
  readonly #startedAt: number;
  #summary: RunSummary | undefined;

  constructor(emitter: RunEmitter, run: StartRunOptions) {
    this.#emitter = emitter;
    // Hosts call this from JS too: tolerate a missing argument rather than throw.
    this.#run = run && typeof run === 'object' ? run : ({} as StartRunOptions);
    this.#startedAt = performance.now();
    try {
      emitter.emit(buildStartedEvent(emitter.context, emitter.newUuid(), this.#run, Date.now()));
    } catch {
      // Malformed host input must cost the host its telemetry, never its run.
    }
  }

  /** Microseconds since the run started. */
  elapsedUs(): number {
    return Math.max(0, Math.round((performance.now() - this.#startedAt) * 1000));
  }

  /** Ends the run, emits `runtime.run.finished`, and returns the local summary. */
  finish(finishOptions: FinishRunOptions): RunSummary {
    if (this.#summary) return this.#summary;
    const options =
      finishOptions && typeof finishOptions === 'object' ? finishOptions : ({} as FinishRunOptions);
    const durationUs = this.elapsedUs();
    let gpu: RunSummary['gpu'];
    let emitted = false;
    try {
      gpu = this.#emitter.collectProvider ? summarizeGpu(options.provider, durationUs) : undefined;
      const event = buildFinishedEvent(
        this.#emitter.context,
        this.#emitter.newUuid(),
        this.#run,
        options,
        durationUs,
        Date.now(),
        gpu,
      );
      emitted = this.#emitter.emit(event);
    } catch {
      // As in the constructor: a malformed finish still returns a summary.
    }
    const summary: RunSummary = {
      kind: this.#run.kind,
      durationUs,
      success: options.success === true,
      jitUsed: options.jitUsed === true,
      emitted,
    };
    if (options.counters && typeof options.counters === 'object') {
      summary.counters = { ...options.counters };
    }
    if (gpu) summary.gpu = gpu;
    this.#summary = summary;
    return summary;
  }
}
