import { describe, expect, it } from 'vitest';
import {
  BROWSER_BUNDLE_GZIP_TARGET_BYTES,
  bundleBrowserEntry,
  EVAL_PATTERNS,
} from '../src/bench/browser-bundle.js';

// The browser entry as a web host ships it: esbuild (platform browser, ESM,
// minified) over the built entry and everything it imports, schema included.
describe('browser bundle', () => {
  it('is at most 12 KiB minified and gzipped', async () => {
    const bundle = await bundleBrowserEntry();
    expect(BROWSER_BUNDLE_GZIP_TARGET_BYTES).toBe(12_288);
    expect(bundle.gzipBytes, JSON.stringify(bundle.inputs.slice(0, 5))).toBeLessThanOrEqual(12_288);
    // The validator is the schema package's, bundled in, not a second copy.
    expect(bundle.inputs.some((i) => i.path.includes('schema/dist/field-policy.js'))).toBe(true);
  });

  it('generates no code at run time (loads under script-src without unsafe-eval)', async () => {
    const { text } = await bundleBrowserEntry();
    expect(text).not.toContain('new Function');
    expect(text).not.toContain('eval(');
    for (const re of EVAL_PATTERNS) expect(text).not.toMatch(re);
    expect(text).not.toMatch(/\bimport\s*\(/);
    // (The schema feature-detects `globalThis.Buffer`; nothing is imported from Node.)
    expect(text).not.toMatch(/\brequire\(|from\s*["']node:/);
  });

  it('the pattern check would catch what it looks for', () => {
    const samples = ['new Function("a","return a")', 'x=eval("1")', 'setTimeout("go()",1)'];
    for (const s of samples)
      expect(
        EVAL_PATTERNS.some((re) => re.test(s)),
        s,
      ).toBe(true);
  });
});
