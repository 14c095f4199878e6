import { getHeapStatistics } from 'node:v8';
import type { MemoryPlan } from './memory-budget.js';

/** One reading of the process's memory. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
}

export type MemorySampler = () => MemorySample;

export const processMemory: MemorySampler = () => ({
  rss: process.memoryUsage.rss(),
  heapUsed: getHeapStatistics().used_heap_size,
});

export type MemoryPressure = 'shed' | 'not_ready' | null;

/**
 * Samples RSS and heap use on a timer (every {@link SAMPLE_INTERVAL_MS}) and
 * answers, without a syscall, whether the worker is under memory pressure:
 * - `not_ready` once RSS passes the plan's not-ready line: `/readyz` answers
 *   503 so a load balancer that watches readiness sends traffic elsewhere
 *   before the budget is reached;
 * - `shed` once RSS or the V8 heap passes the shed line: ingest requests get
 *   503 `overloaded` with `Retry-After` before their body is read, so the
 *   worker keeps delivering what it holds instead of growing until the
 *   container is killed.
 * The queue bounds (bytes per destination) keep a worker well under these
 * lines in normal overload; they are the backstop for what the queues do not
 * account for.
 */
export class MemoryGuard {
  static readonly SAMPLE_INTERVAL_MS = 100;
  private last: MemorySample;
  private peakRss = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly plan: MemoryPlan,
    private readonly sample: MemorySampler = processMemory,
    intervalMs = MemoryGuard.SAMPLE_INTERVAL_MS,
  ) {
    this.last = sample();
    this.peakRss = this.last.rss;
    this.timer = setInterval(() => this.refresh(), intervalMs);
    this.timer.unref();
  }

  refresh(): MemorySample {
    this.last = this.sample();
    if (this.last.rss > this.peakRss) this.peakRss = this.last.rss;
    return this.last;
  }

  get current(): MemorySample {
    return this.last;
  }

  /** Highest RSS seen by the sampler since start. */
  get peak(): number {
    return this.peakRss;
  }

  pressure(): MemoryPressure {
    const { rss, heapUsed } = this.last;
    if (rss >= this.plan.shedRssBytes || heapUsed >= this.plan.shedHeapUsedBytes) return 'shed';
    if (rss >= this.plan.notReadyRssBytes) return 'not_ready';
    return null;
  }

  shouldShed(): boolean {
    return this.pressure() === 'shed';
  }

  close(): void {
    clearInterval(this.timer);
  }
}
