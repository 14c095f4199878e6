/**
 * The local pipeline's browser demo page (src/browser-demo.ts) in Chromium:
 * a click on "Run a demo" sends a run through the real worker to the sink.
 * Keeps a screenshot in test-results/browser-demo.png.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type LaunchedChromium, launchChromium } from '@runmat-telemetry/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserDemo, demoCsp, startBrowserDemo } from '../../src/browser-demo.js';
import { type Pipeline, startPipeline } from '../../src/harness/index.js';

const RESULTS_DIR = fileURLToPath(new URL('../../test-results/', import.meta.url));

let demo: BrowserDemo;
let pipeline: Pipeline;
let chromium: LaunchedChromium;

beforeAll(async () => {
  demo = await startBrowserDemo();
  pipeline = await startPipeline({ env: { worker: { CORS_ORIGINS: demo.origin } } });
  demo.connect({
    httpEndpoint: pipeline.endpoints.httpEndpoint,
    ingestionKey: pipeline.key,
    sinkUrl: pipeline.endpoints.sinkUrl,
  });
  chromium = await launchChromium();
}, 60_000);

afterAll(async () => {
  await chromium?.close();
  await pipeline?.close();
  await demo?.close();
});

describe('browser demo page', () => {
  it('"Run a demo" sends started and finished through the local worker to the sink', async () => {
    const context = await chromium.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const response = await page.goto(demo.url);
      expect(response?.headers()['content-security-policy']).toBe(
        demoCsp(pipeline.endpoints.httpEndpoint),
      );
      expect(demo.url).toBe(`${demo.origin}/`);
      await page.waitForSelector('body[data-state="ready"]');
      const cid = (await page.locator('#cid').textContent()) ?? '';
      expect(cid).toMatch(/^web-demo-[0-9a-f]{16}$/);
      await page.getByRole('button', { name: 'Run a demo' }).click();
      await page.waitForSelector('body[data-state="delivered"]', { timeout: 15_000 });
      await expect(page.locator('#result').textContent()).resolves.toContain(
        'requests sent 2 (beacons 0), failed 0',
      );
      const events = await pipeline.sinkApi.waitForEvents(
        { destination: 'posthog', distinct_id: cid },
        2,
      );
      expect(events.map((e) => e.event).sort()).toEqual([
        'runtime.run.finished',
        'runtime.run.started',
      ]);
      expect(errors).toEqual([]);
      mkdirSync(RESULTS_DIR, { recursive: true });
      await page.screenshot({ path: `${RESULTS_DIR}browser-demo.png`, fullPage: true });

      // The same page, loaded again: the host id kept in localStorage is reused.
      await page.reload();
      await page.waitForSelector('body[data-state="ready"]');
      expect(await page.locator('#cid').textContent()).toBe(cid);
    } finally {
      await context.close();
    }
  });

  it('before connect(), the page says it has no worker and the button is disabled', async () => {
    await using idle = await startBrowserDemo();
    const context = await chromium.newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(idle.url);
      expect(response?.headers()['content-security-policy']).toContain("connect-src 'none'");
      await page.waitForSelector('#result:has-text("Not connected")');
      expect(await page.getByRole('button', { name: 'Run a demo' }).isDisabled()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
