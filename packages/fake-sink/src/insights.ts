// The product questions RunMat's telemetry exists to answer, computed from the
// PostHog events the sink holds: do installs succeed per OS/arch, how often are
// JIT and acceleration active, how often does a run do GPU work and on what,
// and where do failures cluster. One pass over the bounded store, so the cost
// is O(stored events) and the result is bounded by it.

import type { SinkEvent } from './event-store.js';

/** Counts keyed by a property value, largest first. */
export type Tally = Record<string, number>;

/** One os/arch pair's installer events. */
export interface InstallInsight {
  os: string;
  arch: string;
  /** `install_start` events. */
  started: number;
  /** `install_complete` events. */
  completed: number;
  /** `install_failed` events. */
  failed: number;
}

/** What `GET /_sink/insights` answers; the shape is fixed (tests and the page read it). */
export interface SinkInsights {
  /** Distinct PostHog events held (each uuid once). */
  events: number;
  /** Installer events per os/arch, sorted by os then arch. */
  installs: InstallInsight[];
  /** `runtime.run.finished` events. */
  runs: {
    finished: number;
    by_kind: Tally;
    jit_enabled: number;
    jit_used: number;
    accelerate_enabled: number;
    /** Finished runs with `gpu_dispatches > 0`. */
    gpu_used: number;
    succeeded: number;
  };
  /** Finished runs with `success: false`, by their `runtime.failure.*` buckets. */
  failures: { by_stage: Tally; by_code: Tally; by_component: Tally; by_host: Tally };
  /** Finished runs naming a device, by `gpu_backend` and `gpu_device_vendor`. */
  devices: { by_backend: Tally; by_vendor: Tally };
}

/** One release's finished runs. */
export interface ReleaseInsight {
  release: string;
  finished: number;
  jit_enabled: number;
  jit_used: number;
  accelerate_enabled: number;
  gpu_used: number;
  succeeded: number;
}

/** What `GET /_sink/insights/releases` answers: oldest release first. */
export interface ReleaseInsights {
  releases: ReleaseInsight[];
}

/** Bucket for a run or install without the property (the contract's own word for it). */
export const UNKNOWN = 'unknown';

export const INSTALL_EVENTS = {
  install_start: 'started',
  install_complete: 'completed',
  install_failed: 'failed',
} as const;

const FINISHED = 'runtime.run.finished';

function label(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function add(counts: Map<string, number>, key: string | undefined): void {
  if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Largest count first, then by name, so the JSON reads top-first and is stable. */
function tally(counts: Map<string, number>): Tally {
  const entries = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  // fromEntries defines own properties, so a key such as `__proto__` stays data.
  return Object.fromEntries(entries);
}

/**
 * Orders release strings by their numeric parts (`0.4.10` after `0.4.9`, a
 * leading `v` ignored, a pre-release before its release); `unknown` last.
 */
export function compareReleases(a: string, b: string): number {
  if (a === b) return 0;
  if (a === UNKNOWN) return 1;
  if (b === UNKNOWN) return -1;
  const pa = a.replace(/^v/i, '').split(/[^0-9]+/);
  const pb = b.replace(/^v/i, '').split(/[^0-9]+/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] === undefined || pa[i] === '' ? -1 : Number(pa[i]);
    const y = pb[i] === undefined || pb[i] === '' ? -1 : Number(pb[i]);
    if (x !== y) return x - y;
  }
  // Same numbers: a pre-release (`1.0.0-beta`) comes before the release itself.
  if (b.startsWith(a)) return 1;
  if (a.startsWith(b)) return -1;
  return a < b ? -1 : 1;
}

/**
 * Every PostHog event held, each uuid once (the first arrival wins; an event
 * without a uuid counts on its own). This is what analytics would see after
 * PostHog's own uuid deduplication.
 */
export function distinctPostHogEvents(events: Iterable<SinkEvent>): SinkEvent[] {
  const seen = new Set<string>();
  const out: SinkEvent[] = [];
  for (const e of events) {
    if (e.destination !== 'posthog') continue;
    if (e.uuid !== undefined) {
      if (seen.has(e.uuid)) continue;
      seen.add(e.uuid);
    }
    out.push(e);
  }
  return out;
}

/** Both answers from one pass over the events. */
export function computeAllInsights(events: Iterable<SinkEvent>): {
  insights: SinkInsights;
  releases: ReleaseInsights;
} {
  const distinct = distinctPostHogEvents(events);
  const installs = new Map<string, InstallInsight>();
  const runs = {
    finished: 0,
    jit_enabled: 0,
    jit_used: 0,
    accelerate_enabled: 0,
    gpu_used: 0,
    succeeded: 0,
  };
  const byKind = new Map<string, number>();
  const byStage = new Map<string, number>();
  const byCode = new Map<string, number>();
  const byComponent = new Map<string, number>();
  const byHost = new Map<string, number>();
  const byBackend = new Map<string, number>();
  const byVendor = new Map<string, number>();
  const releases = new Map<string, ReleaseInsight>();

  for (const e of distinct) {
    const p = e.properties;
    // hasOwn first: an event named `toString` is not an install step.
    const step = Object.hasOwn(INSTALL_EVENTS, e.event)
      ? INSTALL_EVENTS[e.event as keyof typeof INSTALL_EVENTS]
      : undefined;
    if (step !== undefined) {
      const os = label(p.os) ?? UNKNOWN;
      const arch = label(p.arch) ?? UNKNOWN;
      const key = `${os}/${arch}`;
      let row = installs.get(key);
      if (row === undefined) {
        row = { os, arch, started: 0, completed: 0, failed: 0 };
        installs.set(key, row);
      }
      row[step]++;
      continue;
    }
    if (e.event !== FINISHED) continue;

    const jitEnabled = p.jit_enabled === true;
    const jitUsed = p.jit_used === true;
    const accelerate = p.accelerate_enabled === true;
    const gpu = typeof p.gpu_dispatches === 'number' && p.gpu_dispatches > 0;
    const succeeded = p.success === true;
    runs.finished++;
    if (jitEnabled) runs.jit_enabled++;
    if (jitUsed) runs.jit_used++;
    if (accelerate) runs.accelerate_enabled++;
    if (gpu) runs.gpu_used++;
    if (succeeded) runs.succeeded++;
    add(byKind, label(p.run_kind) ?? UNKNOWN);
    add(byBackend, label(p.gpu_backend));
    add(byVendor, label(p.gpu_device_vendor));

    if (p.success === false) {
      add(byStage, label(p['runtime.failure.stage']) ?? UNKNOWN);
      add(byCode, label(p['runtime.failure.code']));
      add(byComponent, label(p['runtime.failure.component']));
      add(byHost, label(p['runtime.failure.host']));
    }

    const release = label(p.release) ?? UNKNOWN;
    let r = releases.get(release);
    if (r === undefined) {
      r = {
        release,
        finished: 0,
        jit_enabled: 0,
        jit_used: 0,
        accelerate_enabled: 0,
        gpu_used: 0,
        succeeded: 0,
      };
      releases.set(release, r);
    }
    r.finished++;
    if (jitEnabled) r.jit_enabled++;
    if (jitUsed) r.jit_used++;
    if (accelerate) r.accelerate_enabled++;
    if (gpu) r.gpu_used++;
    if (succeeded) r.succeeded++;
  }

  const installRows = [...installs.values()].sort((a, b) =>
    a.os !== b.os ? (a.os < b.os ? -1 : 1) : a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0,
  );
  return {
    insights: {
      events: distinct.length,
      installs: installRows,
      runs: {
        finished: runs.finished,
        by_kind: tally(byKind),
        jit_enabled: runs.jit_enabled,
        jit_used: runs.jit_used,
        accelerate_enabled: runs.accelerate_enabled,
        gpu_used: runs.gpu_used,
        succeeded: runs.succeeded,
      },
      failures: {
        by_stage: tally(byStage),
        by_code: tally(byCode),
        by_component: tally(byComponent),
        by_host: tally(byHost),
      },
      devices: { by_backend: tally(byBackend), by_vendor: tally(byVendor) },
    },
    releases: {
      releases: [...releases.values()].sort((a, b) => compareReleases(a.release, b.release)),
    },
  };
}

/** `GET /_sink/insights`: the product questions answered from the events held. */
export function computeInsights(events: Iterable<SinkEvent>): SinkInsights {
  return computeAllInsights(events).insights;
}

/** `GET /_sink/insights/releases`: JIT, acceleration and GPU per release. */
export function computeReleaseInsights(events: Iterable<SinkEvent>): ReleaseInsights {
  return computeAllInsights(events).releases;
}
