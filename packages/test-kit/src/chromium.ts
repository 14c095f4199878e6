import { type Browser, type BrowserContext, chromium } from 'playwright-core';
import { addFallback, CHROMIUM, requireComponent } from './components.js';

// Playwright's own download (`npx playwright install chromium`), where one was made.
addFallback('chromium', () => {
  try {
    return chromium.executablePath();
  } catch {
    return undefined;
  }
});

/**
 * Flags for a headless Chromium on a machine with no network beyond
 * loopback: no sandbox (root), no GPU, and none of the background services
 * whose connections would be refused and retried.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-default-apps',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
] as const;

/** A launched browser with a throwaway profile; dispose to close it. */
export interface LaunchedChromium extends AsyncDisposable {
  browser: Browser;
  /** The binary that was launched. */
  executablePath: string;
  /** A fresh, isolated context (its own cookies and storage). */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/**
 * Launches the machine's Chromium through playwright-core (never Playwright's
 * own download). Fails with a message saying how to get a browser when there
 * is none: a browser test is never skipped silently.
 */
export async function launchChromium(): Promise<LaunchedChromium> {
  const executablePath = requireComponent(CHROMIUM);
  // playwright-core gives the browser a fresh temporary profile of its own.
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  const close = async () => {
    await browser.close().catch(() => undefined);
  };
  return {
    browser,
    executablePath,
    newContext: () => browser.newContext(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
