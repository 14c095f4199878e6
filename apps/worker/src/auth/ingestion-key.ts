import { hash, timingSafeEqual } from 'node:crypto';

// One-shot hashing: a Hash object per request costs more than twice as much.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * Checks ingestion keys in constant time. Comparing SHA-256 digests gives
 * equal-length buffers whatever the caller sent, and every configured key is
 * compared on every call, so neither a key's length nor its position in the
 * rotation list leaks through timing.
 */
export class IngestionKeyVerifier {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    if (keys.length === 0) throw new Error('at least one ingestion key is required');
    this.digests = keys.map(digest);
  }

  /** True when `candidate` is one of the configured keys. */
  verify(candidate: string | string[] | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length === 0 || candidate.length > 1024) {
      return false;
    }
    const given = digest(candidate);
    let match = false;
    for (const d of this.digests) match = timingSafeEqual(given, d) || match;
    return match;
  }
}
