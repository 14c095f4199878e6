import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where `@runmat-telemetry/client/browser` resolves: the client's built browser entry. */
export function browserEntryPath(): string {
  return fileURLToPath(import.meta.resolve('@runmat-telemetry/client/browser'));
}

let cached: Promise<string> | undefined;

/**
 * The client's browser entry bundled as a web host ships it: esbuild,
 * platform browser, ESM, minified, the schema bundled in. One ES module
 * exporting `createBrowserTelemetry`. Built once per process (the client's
 * dist must be built: `pnpm turbo run build`).
 */
export function bundleBrowserClient(): Promise<string> {
  cached ??= build({
    entryPoints: [browserEntryPath()],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  }).then((result) => {
    const out = result.outputFiles[0];
    if (!out) throw new Error('esbuild produced no bundle of the browser entry');
    return out.text;
  });
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
