/**
 * The browser entry as a web host ships it: bundled by esbuild (platform
 * browser, ESM, minified) and gzipped. Used by the client bench and by the
 * bundle test; dev tooling only (esbuild is a devDependency).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** The built browser entry (`@runmat-telemetry/client/browser`). */
export const BROWSER_ENTRY = join(PACKAGE_DIR, 'dist', 'browser.js');

/** Most the minified and gzipped bundle may weigh (docs/architecture.md, Client: 12 KiB). */
export const BROWSER_BUNDLE_GZIP_TARGET_BYTES = 12 * 1024;

/** What a bundle of the browser entry weighs, and what it is made of. */
export interface BrowserBundle {
  /** The minified bundle's text. */
  text: string;
  minBytes: number;
  /** gzip at the default level, as a web server would send it. */
  gzipBytes: number;
  /** Bytes each input contributes to the minified output, largest first. */
  inputs: { path: string; bytes: number }[];
}

/** Bundles `entry` (default the built browser entry) the way a web host would. */
export async function bundleBrowserEntry(entry: string = BROWSER_ENTRY): Promise<BrowserBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output');
  const meta = Object.values(result.metafile.outputs)[0];
  const inputs = Object.entries(meta?.inputs ?? {})
    .map(([path, v]) => ({ path, bytes: v.bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return {
    text: out.text,
    minBytes: out.contents.byteLength,
    gzipBytes: gzipSync(out.contents).byteLength,
    inputs,
  };
}

/** Run-time code generation a strict CSP (`script-src` without `'unsafe-eval'`) refuses. */
export const EVAL_PATTERNS: readonly RegExp[] = [
  /\bnew Function\b/,
  /(^|[^.\w$])Function\(/,
  /\beval\(/,
  /\bset(Timeout|Interval)\(\s*["'`]/,
];
