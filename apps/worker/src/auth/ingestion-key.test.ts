import { describe, expect, it } from 'vitest';
import { IngestionKeyVerifier } from './ingestion-key.js';

describe('IngestionKeyVerifier', () => {
  it('accepts every configured key and nothing else', () => {
    const v = new IngestionKeyVerifier(['new-key', 'old-key']);
    expect(v.verify('new-key')).toBe(true);
    expect(v.verify('old-key')).toBe(true);
    expect(v.verify('new-ke')).toBe(false);
    expect(v.verify('new-keyy')).toBe(false);
    expect(v.verify('')).toBe(false);
    expect(v.verify(undefined)).toBe(false);
    expect(v.verify(['new-key'])).toBe(false);
  });
});
