import { readFileSync } from 'node:fs';

/**
 * Resident set size of a process in bytes, read from `/proc/<pid>/status`
 * (Linux). Reading the kernel's figure rather than the process's own metrics
 * keeps working when the process is too busy to answer `/metrics`.
 * Returns undefined where /proc is not available.
 */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; reports the peak. */
export class RssSampler {
  private peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 50,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const rss = residentBytes(this.pid);
    if (rss !== undefined && rss > this.peak) this.peak = rss;
  }

  /** Stops sampling and returns the highest RSS seen, in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
