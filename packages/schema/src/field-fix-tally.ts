import type { FieldFix, FieldFixReason } from './parse-event.js';

/**
 * Running counts of field fixes by field and reason, for a metrics endpoint.
 * Labels are bounded by construction: `field` is a policy field or a
 * container label (`payload.*`), never a client's key, and `reason` is one of
 * a fixed set, so the series count cannot grow with hostile input.
 */
export class FieldFixTally {
  private readonly counts = new Map<string, { field: string; reason: FieldFixReason; n: number }>();

  add(fixes: readonly FieldFix[]): void {
    for (const fix of fixes) {
      const key = `${fix.field}\u0000${fix.reason}`;
      const entry = this.counts.get(key);
      if (entry) entry.n++;
      else this.counts.set(key, { field: fix.field, reason: fix.reason, n: 1 });
    }
  }

  /** Every (field, reason) seen so far with its count. */
  entries(): Iterable<{ field: string; reason: FieldFixReason; n: number }> {
    return this.counts.values();
  }

  /** Total fixes counted. */
  get total(): number {
    let total = 0;
    for (const e of this.counts.values()) total += e.n;
    return total;
  }
}
