import { describe, expect, it } from 'vitest';
import { urlFor } from './listen.js';

describe('urlFor', () => {
  it('brackets IPv6 hosts so the URL parses', () => {
    expect(urlFor('127.0.0.1', 8787)).toBe('http://127.0.0.1:8787');
    expect(urlFor('::1', 8787)).toBe('http://[::1]:8787');
    expect(new URL(urlFor('::1', 1234)).port).toBe('1234');
  });
});
