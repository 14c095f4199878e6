import {
  type FieldFix,
  type NormalizedEvent,
  normalizeEvent,
  parseEvent,
  type RejectCode,
} from '@runmat-telemetry/schema';
import type { DedupeWindow } from '../dedupe/dedupe-window.js';
import type { SharedDedupe } from '../dedupe/shared-dedupe.js';
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
  /** Dedupe across instances (DEDUPE_REDIS_URL); null: the local window alone. */
  shared?: SharedDedupe | null;
  metrics: WorkerMetrics;
  forwardClientIp: boolean;
  now: () => number;
}

const ACCEPTED: ItemResult = { status: 'accepted' };
const DUPLICATE: ItemResult = { status: 'duplicate' };

interface Admitted {
  event: NormalizedEvent;
  fixes: FieldFix[];
  clientIp: string | undefined;
  /** Index in the batch's results. */
  index: number;
}

/**
 * Validation, normalization, dedupe and admission: everything between a
 * parsed body and the forward queue. Kept free of Fastify so both routes and
 * tests share one path, and lean because it runs once per event.
 *
 * Dedupe is two-level. The local window is asked first, and a uuid it knows
 * is a duplicate at once, without a round trip. The rest are claimed in the
 * shared store (one round trip per request or batch), but only after the
 * queue has set room aside for them: a claim is made only for an event that
 * will then certainly be admitted, so a request refused 503 `queue_full`
 * leaves no claim behind that would make its retry look like a duplicate.
 * Each uuid enters the local window when its claim is sent (every outcome
 * makes it "seen": claimed here, claimed elsewhere, or admitted on a failed
 * claim), so a second copy arriving meanwhile is caught locally. Without a
 * shared store everything runs synchronously, as before.
 */
export class EventIntake {
  private readonly acceptedSingle;
  private readonly acceptedBatch;
  private readonly shared: SharedDedupe | null;

  constructor(private readonly opts: EventIntakeOptions) {
    this.acceptedSingle = opts.metrics.accepted.labels('single');
    this.acceptedBatch = opts.metrics.accepted.labels('batch');
    this.shared = opts.shared ?? null;
  }

  /** Validates and queues one event from `/ingest` or `/v1/t`. */
  acceptOne(body: unknown, clientIp: string | undefined): SingleOutcome | Promise<SingleOutcome> {
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
    const room = queue.reserve(1);
    if (room === null) {
      metrics.rejected.labels('queue_full').inc();
      return { kind: 'queue_full' };
    }
    dedupe.add(normalized.uuid, now);
    const admit = (): SingleOutcome => {
      this.admit(normalized, parsed.fixes, clientIp);
      queue.release(room);
      this.acceptedSingle.inc();
      return { kind: 'accepted', uuid: normalized.uuid };
    };
    if (this.shared === null) return admit();
    return this.shared.claim([normalized.uuid]).then((claim) => {
      if (claim.ok && claim.duplicate[0] === true) {
        queue.release(room);
        metrics.duplicates.inc();
        return { kind: 'duplicate', uuid: normalized.uuid };
      }
      return admit();
    });
  }

  /**
   * Validates every item, then queues all acceptable ones or none: when the
   * queue cannot take them all, nothing is admitted, remembered or claimed,
   * so the forwarder's retry of the same batch is safe.
   */
  acceptBatch(items: readonly BatchItem[]): BatchOutcome | Promise<BatchOutcome> {
    const { metrics, dedupe, queue } = this.opts;
    const now = this.opts.now();
    const results: ItemResult[] = new Array(items.length);
    const admitted: Admitted[] = [];
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
      admitted.push({ event: normalized, fixes: parsed.fixes, clientIp: item.clientIp, index: i });
      results[i] = ACCEPTED;
    }

    const room = admitted.length > 0 ? queue.reserve(admitted.length) : null;
    if (admitted.length > 0 && room === null) {
      metrics.rejected.labels('queue_full').inc(admitted.length);
      return { kind: 'queue_full' };
    }
    for (const [code, n] of rejectedCodes) metrics.rejected.labels(code).inc(n);
    for (const a of admitted) dedupe.add(a.event.uuid, now);

    const finish = (claimed: boolean[] | null): BatchOutcome => {
      let accepted = 0;
      for (let k = 0; k < admitted.length; k++) {
        const a = admitted[k]!;
        if (claimed !== null && claimed[k] === true) {
          duplicates++;
          results[a.index] = DUPLICATE;
          continue;
        }
        this.admit(a.event, a.fixes, a.clientIp);
        accepted++;
      }
      if (room !== null) queue.release(room);
      if (duplicates > 0) metrics.duplicates.inc(duplicates);
      if (accepted > 0) this.acceptedBatch.inc(accepted);
      return { kind: 'ok', accepted, duplicates, rejected, results };
    };
    if (this.shared === null || admitted.length === 0) return finish(null);
    return this.shared
      .claim(admitted.map((a) => a.event.uuid))
      .then((claim) => finish(claim.ok ? claim.duplicate : null));
  }

  private admit(
    event: NormalizedEvent,
    fixes: readonly FieldFix[],
    clientIp: string | undefined,
  ): void {
    if (fixes.length > 0) this.opts.metrics.fieldFixes.add(fixes);
    this.opts.queue.push(event, this.opts.forwardClientIp ? clientIp : undefined);
  }
}
