/**
 * Why events admitted for delivery were given up on.
 * - `refused`: the destination answered with a status that would only repeat (4xx other than 408/413/429);
 * - `rejected`: the destination took the request but refused these events one by one;
 * - `too_large`: 413 on a single event;
 * - `retries_exhausted`: still failing when the elapsed budget ran out;
 * - `encode_error`: the event could not be serialized for this destination;
 * - `shutdown`: still held when the shutdown deadline passed.
 */
export const FAIL_REASONS = [
  'refused',
  'rejected',
  'too_large',
  'retries_exhausted',
  'encode_error',
  'shutdown',
] as const;
export type FailReason = (typeof FAIL_REASONS)[number];

/** Why events were never admitted: `queue_full` (a bound was reached) or `closed` (offered after close). */
export const DROP_REASONS = ['queue_full', 'closed'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * Exact counts of what became of every event offered to one destination.
 * At any moment `admitted = delivered + Σ failed + pending`, and every
 * offered event is either admitted or counted in `dropped`.
 */
export class DeliveryOutcomes {
  admitted = 0;
  delivered = 0;
  readonly failed: Record<FailReason, number> = Object.fromEntries(
    FAIL_REASONS.map((r) => [r, 0]),
  ) as Record<FailReason, number>;
  readonly dropped: Record<DropReason, number> = Object.fromEntries(
    DROP_REASONS.map((r) => [r, 0]),
  ) as Record<DropReason, number>;
  /** Retries by the reason of the attempt that failed (an HTTP status or `network`). */
  readonly retries: Record<string, number> = {};
  /** Requests by HTTP status, or `network` for none. */
  readonly requests: Record<string, number> = {};

  constructor(readonly destination: string) {}

  fail(reason: FailReason, n: number): void {
    this.failed[reason] += n;
  }

  drop(reason: DropReason, n: number): void {
    this.dropped[reason] += n;
  }

  retry(reason: string): void {
    this.retries[reason] = (this.retries[reason] ?? 0) + 1;
  }

  request(status: number | 'network'): void {
    const key = String(status);
    this.requests[key] = (this.requests[key] ?? 0) + 1;
  }

  /** Events failed for any reason. */
  failedTotal(): number {
    let n = 0;
    for (const r of FAIL_REASONS) n += this.failed[r];
    return n;
  }

  /** A plain copy, for logs and tests. */
  snapshot(): {
    destination: string;
    admitted: number;
    delivered: number;
    failed: Record<FailReason, number>;
    dropped: Record<DropReason, number>;
    retries: Record<string, number>;
    requests: Record<string, number>;
  } {
    return {
      destination: this.destination,
      admitted: this.admitted,
      delivered: this.delivered,
      failed: { ...this.failed },
      dropped: { ...this.dropped },
      retries: { ...this.retries },
      requests: { ...this.requests },
    };
  }
}
