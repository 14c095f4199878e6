import {
  type FieldFix,
  type NormalizedEvent,
  normalizeEvent,
  parseEvent,
  type RejectCode,
} from '@runmat-telemetry/schema';
import type { DedupeWindow } from '../dedupe/dedupe-window.js';
import type { ForwardQueue } from '../forward/forward-queue.js';
import type { WorkerMetrics } from '../metrics.js';

/** Outcome of one event in a batch, parallel to the request's items. */
export interface ItemResult {
  status: 'accepted' | 'duplicate' | 'rejected';
  code?: RejectCode;
  path?: string;
}

/** Outcome of a single-event request. */
export type SingleOutcome =
  | { kind: 'accepted' | 'duplicate'; uuid: string }
  | { kind: 'rejected'; code: RejectCode; path: string }
  | { kind: 'queue_full' };

/** Outcome of a batch request. */
export type BatchOutcome =
  | {
      kind: 'ok';
      accepted: number;
      duplicates: number;
      rejected: number;
      results: ItemResult[];
    }
  | { kind: 'queue_full' };

/** One item of a `/v1/batch` body, already shape-checked. */
export interface BatchItem {
  event: unknown;
  clientIp: string | undefined;
  receivedAt: number | undefined;
}

/** Settings for {@link EventIntake}. */
export interface EventIntakeOptions {
  queue: ForwardQueue;
  dedupe: DedupeWindow;
  metrics: WorkerMetrics;
  forwardClientIp: boolean;
  now: () => number;
}

const ACCEPTED: ItemResult = { status: 'accepted' };
const DUPLICATE: ItemResult = { status: 'duplicate' };

/**
 * Validation, normalization, dedupe and admission: everything between a
 * parsed body and the forward queue. Kept free of Fastify so both routes and
 * tests share one path, and lean because it runs once per event.
 */
export class EventIntake {
  private readonly acceptedSingle;
  private readonly acceptedBatch;

  constructor(private readonly opts: EventIntakeOptions) {
    this.acceptedSingle = opts.metrics.accepted.labels('single');
    this.acceptedBatch = opts.metrics.accepted.labels('batch');
  }

  /** Validates and queues one event from `/ingest` or `/v1/t`. */
  acceptOne(body: unknown, clientIp: string | undefined): SingleOutcome {
    const { metrics, dedupe, queue } = this.opts;
    const now = this.opts.now();
    const parsed = parseEvent(body);
    if (!parsed.ok) {
      metrics.rejected.labels(parsed.error.code).inc();
      return { kind: 'rejected', code: parsed.error.code, path: parsed.error.path };
    }
    const normalized = normalizeEvent(parsed.event, { receivedAt: now });
    if (dedupe.has(normalized.uuid, now)) {
      metrics.duplicates.inc();
      return { kind: 'duplicate', uuid: normalized.uuid };
    }
    if (!queue.hasRoom(1)) {
      metrics.rejected.labels('queue_full').inc();
      return { kind: 'queue_full' };
    }
    this.admit(normalized, parsed.fixes, clientIp, now);
    this.acceptedSingle.inc();
    return { kind: 'accepted', uuid: normalized.uuid };
  }

  /**
   * Validates every item, then queues all acceptable ones or none: when the
   * queue cannot take them all, nothing is admitted or remembered, so the
   * forwarder's retry of the same batch is safe.
   */
  acceptBatch(items: readonly BatchItem[]): BatchOutcome {
    const { metrics, dedupe, queue } = this.opts;
    const now = this.opts.now();
    const results: ItemResult[] = new Array(items.length);
    const admitted: Array<{
      event: NormalizedEvent;
      fixes: FieldFix[];
      clientIp: string | undefined;
    }> = [];
    const seenHere = new Set<string>();
    let duplicates = 0;
    let rejected = 0;
    const rejectedCodes = new Map<RejectCode, number>();

    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const parsed = parseEvent(item.event);
      if (!parsed.ok) {
        rejected++;
        rejectedCodes.set(parsed.error.code, (rejectedCodes.get(parsed.error.code) ?? 0) + 1);
        results[i] = { status: 'rejected', code: parsed.error.code, path: parsed.error.path };
        continue;
      }
      const normalized = normalizeEvent(parsed.event, { receivedAt: item.receivedAt ?? now });
      if (seenHere.has(normalized.uuid) || dedupe.has(normalized.uuid, now)) {
        duplicates++;
        results[i] = DUPLICATE;
        continue;
      }
      seenHere.add(normalized.uuid);
      admitted.push({ event: normalized, fixes: parsed.fixes, clientIp: item.clientIp });
      results[i] = ACCEPTED;
    }

    if (admitted.length > 0 && !queue.hasRoom(admitted.length)) {
      metrics.rejected.labels('queue_full').inc(admitted.length);
      return { kind: 'queue_full' };
    }
    for (const [code, n] of rejectedCodes) metrics.rejected.labels(code).inc(n);
    if (duplicates > 0) metrics.duplicates.inc(duplicates);
    for (const a of admitted) this.admit(a.event, a.fixes, a.clientIp, now);
    if (admitted.length > 0) this.acceptedBatch.inc(admitted.length);
    return { kind: 'ok', accepted: admitted.length, duplicates, rejected, results };
  }

  private admit(
    event: NormalizedEvent,
    fixes: readonly FieldFix[],
    clientIp: string | undefined,
    now: number,
  ): void {
    if (fixes.length > 0) this.opts.metrics.fieldFixes.add(fixes);
    this.opts.dedupe.add(event.uuid, now);
    this.opts.queue.push(event, this.opts.forwardClientIp ? clientIp : undefined);
  }
}
