import type { Destination } from './event-store.js';

/** Status codes a fault may answer with: what real analytics APIs send when unhappy. */
export const FAULT_STATUSES = [413, 429, 500, 503] as const;
export type FaultStatus = (typeof FAULT_STATUSES)[number];

/**
 * What to do to the next analytics requests. At least one of `status`,
 * `delayMs` or `drop`; `delayMs` may be combined with either of the others
 * (the delay happens first). Lasts `count` requests, or `durationMs`, or
 * whichever ends first when both are given; one request when neither is.
 */
export interface FaultSpec {
  status?: FaultStatus;
  delayMs?: number;
  drop?: boolean;
  count?: number;
  durationMs?: number;
  /** Only requests to this destination are affected; both when absent. */
  destination?: Destination;
}

/** A fault as it stands now, as `GET /_sink/faults` shows it. */
export interface ActiveFault extends FaultSpec {
  /** Requests left, when the fault is bounded by count. */
  remaining?: number;
  /** Epoch ms at which the fault stops, when bounded by duration. */
  until?: number;
}

/** The action for one request; `undefined` from `take` means no fault. */
export interface FaultAction {
  status?: FaultStatus;
  delayMs?: number;
  drop?: boolean;
}

/** Thrown for a fault spec that cannot be applied; `code` is stable. */
export class FaultSpecError extends Error {
  readonly code = 'invalid_fault';
}

// A delay longer than this would outlive every client timeout worth testing.
const MAX_DELAY_MS = 120_000;
const MAX_DURATION_MS = 3_600_000;

function isNonNegativeInt(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Checks an untrusted fault spec (from JSON or a caller) and returns it typed. */
export function parseFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FaultSpecError('a fault must be a JSON object');
  }
  const raw = input as Record<string, unknown>;
  const known = new Set(['status', 'delayMs', 'drop', 'count', 'durationMs', 'destination']);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new FaultSpecError(`unknown fault field "${key}"`);
  }
  const spec: FaultSpec = {};
  if (raw.status !== undefined) {
    if (!FAULT_STATUSES.includes(raw.status as FaultStatus)) {
      throw new FaultSpecError(`status must be one of ${FAULT_STATUSES.join(', ')}`);
    }
    spec.status = raw.status as FaultStatus;
  }
  if (raw.delayMs !== undefined) {
    if (!isNonNegativeInt(raw.delayMs, MAX_DELAY_MS)) {
      throw new FaultSpecError(`delayMs must be an integer 0-${MAX_DELAY_MS}`);
    }
    spec.delayMs = raw.delayMs;
  }
  if (raw.drop !== undefined) {
    if (typeof raw.drop !== 'boolean') throw new FaultSpecError('drop must be a boolean');
    if (raw.drop) spec.drop = true;
  }
  if (spec.status !== undefined && spec.drop) {
    throw new FaultSpecError('a fault cannot both answer with a status and drop the connection');
  }
  if (spec.status === undefined && spec.delayMs === undefined && !spec.drop) {
    throw new FaultSpecError('a fault needs status, delayMs or drop');
  }
  if (raw.count !== undefined) {
    if (!isNonNegativeInt(raw.count, Number.MAX_SAFE_INTEGER) || raw.count < 1) {
      throw new FaultSpecError('count must be a positive integer');
    }
    spec.count = raw.count;
  }
  if (raw.durationMs !== undefined) {
    if (!isNonNegativeInt(raw.durationMs, MAX_DURATION_MS) || raw.durationMs < 1) {
      throw new FaultSpecError(`durationMs must be an integer 1-${MAX_DURATION_MS}`);
    }
    spec.durationMs = raw.durationMs;
  }
  if (raw.destination !== undefined) {
    if (raw.destination !== 'posthog' && raw.destination !== 'ga4') {
      throw new FaultSpecError('destination must be "posthog" or "ga4"');
    }
    spec.destination = raw.destination;
  }
  return spec;
}

/**
 * Holds the injected faults and hands one action to each analytics request.
 * Faults are consulted in the order they were set; the first live one that
 * matches the request's destination applies.
 */
export class FaultInjector {
  private faults: ActiveFault[] = [];
  private injectedCount = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Replaces every fault with the given one(s). */
  set(specs: FaultSpec | FaultSpec[]): ActiveFault[] {
    const list = (Array.isArray(specs) ? specs : [specs]).map(parseFaultSpec);
    const at = this.now();
    this.faults = list.map((spec) => {
      const fault: ActiveFault = { ...spec };
      if (spec.durationMs !== undefined) fault.until = at + spec.durationMs;
      if (spec.count !== undefined || spec.durationMs === undefined) {
        fault.remaining = spec.count ?? 1;
      }
      return fault;
    });
    return this.active();
  }

  clear(): void {
    this.faults = [];
  }

  /** Faults still live, with what is left of each. */
  active(): ActiveFault[] {
    const at = this.now();
    this.faults = this.faults.filter(
      (f) =>
        (f.remaining === undefined || f.remaining > 0) && (f.until === undefined || at < f.until),
    );
    return this.faults.map((f) => ({ ...f }));
  }

  /** The action for one request to `destination`, consuming one use of the fault. */
  take(destination: Destination): FaultAction | undefined {
    const at = this.now();
    for (const f of this.faults) {
      if (f.remaining !== undefined && f.remaining <= 0) continue;
      if (f.until !== undefined && at >= f.until) continue;
      if (f.destination !== undefined && f.destination !== destination) continue;
      if (f.remaining !== undefined) f.remaining--;
      this.injectedCount++;
      const action: FaultAction = {};
      if (f.status !== undefined) action.status = f.status;
      if (f.delayMs !== undefined) action.delayMs = f.delayMs;
      if (f.drop) action.drop = true;
      return action;
    }
    return undefined;
  }

  /** Requests a fault has been applied to since the last reset. */
  get injected(): number {
    return this.injectedCount;
  }

  resetCount(): void {
    this.injectedCount = 0;
  }
}
