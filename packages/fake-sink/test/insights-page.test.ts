import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@runmat-telemetry/test-kit';
import { PostHog } from 'posthog-node';
import { describe, expect, it } from 'vitest';
import { type FakeSink, startFakeSink } from '../src/index.js';
import type { ReleaseInsights, SinkInsights } from '../src/insights.js';
import {
  KNOWN_MIX_INSIGHTS,
  KNOWN_MIX_RELEASES,
  knownMix,
  type MixEvent,
} from './support/known-mix.js';

// The Insights view in a real Chromium: after a known mix of events arrives
// through posthog-node and the sink's /batch/ route, every number the page
// shows must equal /_sink/insights (or /_sink/insights/releases), and those
// must be what the mix implies.

// The page side of waitForFunction; this package's types have no DOM lib.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
const API_KEY = 'phc_insights_page';

async function sendWithPostHogNode(sink: FakeSink, events: MixEvent[]): Promise<void> {
  const client = new PostHog(API_KEY, { host: sink.url, flushAt: 100, flushInterval: 0 });
  for (const e of events) {
    client.capture({
      distinctId: e.distinctId,
      event: e.event,
      uuid: e.uuid,
      properties: e.properties,
    });
  }
  await client.shutdown(5000);
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** The page's percentage: one decimal place at most, an em dash for 0 of 0. */
function formatPercent(n: number, d: number): string {
  return d === 0 ? '\u2014' : `${Math.round((n / d) * 1000) / 10}%`;
}

/**
 * Resolves a data-insight path: `installs.<os>/<arch>.<field>`,
 * `releases.<release>.<field>`, `<section>.<field>` or `<section>.<tally>.<key>`
 * (a key may hold dots or colons).
 */
function resolve(insights: SinkInsights, releases: ReleaseInsights, path: string): unknown {
  const row = (prefix: string) => {
    const rest = path.slice(prefix.length);
    const dot = rest.lastIndexOf('.');
    return { key: rest.slice(0, dot), field: rest.slice(dot + 1) };
  };
  if (path.startsWith('installs.')) {
    const { key, field } = row('installs.');
    const r = insights.installs.find((i) => `${i.os}/${i.arch}` === key);
    return r?.[field as keyof typeof r];
  }
  if (path.startsWith('releases.')) {
    const { key, field } = row('releases.');
    const r = releases.releases.find((i) => i.release === key);
    return r?.[field as keyof typeof r];
  }
  if (path === 'events') return insights.events;
  const [section = '', field = '', ...rest] = path.split('.');
  const value = (insights as unknown as Record<string, Record<string, unknown>>)[section]?.[field];
  if (rest.length === 0) return value;
  return (value as Record<string, unknown> | undefined)?.[rest.join('.')];
}

/** Every number in the answers, as the data-insight path that should show it. */
function leafPaths(insights: SinkInsights, releases: ReleaseInsights): string[] {
  const paths = ['events'];
  for (const i of insights.installs) {
    for (const f of ['started', 'completed', 'failed'])
      paths.push(`installs.${i.os}/${i.arch}.${f}`);
  }
  for (const section of ['runs', 'failures', 'devices'] as const) {
    for (const [field, value] of Object.entries(insights[section])) {
      if (typeof value === 'number') paths.push(`${section}.${field}`);
      else for (const key of Object.keys(value)) paths.push(`${section}.${field}.${key}`);
    }
  }
  for (const r of releases.releases) {
    for (const f of ['finished', 'jit_enabled', 'jit_used', 'accelerate_enabled', 'gpu_used']) {
      paths.push(`releases.${r.release}.${f}`);
    }
  }
  return paths;
}

interface Shown {
  path: string;
  of: string | null;
  text: string;
}

describe('the Insights view in Chromium', () => {
  it('shows exactly /_sink/insights for a known mix, live, and empties on clear', async () => {
    await using chrome = await launchChromium();
    const sink = await startFakeSink({ apiKey: API_KEY });
    try {
      const mix = knownMix();
      await sendWithPostHogNode(sink, mix);
      await sink.waitForEvents({ destination: 'posthog' }, { count: mix.length });

      const insights = await getJson<SinkInsights>(`${sink.url}/_sink/insights`);
      const releases = await getJson<ReleaseInsights>(`${sink.url}/_sink/insights/releases`);
      expect(insights).toEqual(KNOWN_MIX_INSIGHTS);
      expect(releases).toEqual(KNOWN_MIX_RELEASES);

      const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (err) => problems.push(String(err)));
      const response = await page.goto(`${sink.url}/`);
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);

      const shownText = (path: string) =>
        page.locator(`[data-insight="${path}"]:not([data-of])`).first().textContent();
      await page.waitForFunction(
        () => document.querySelector('[data-insight="events"]')?.textContent === '16',
        undefined,
        { timeout: 10_000 },
      );

      const shown: Shown[] = await page.$$eval('[data-insight]', (els) =>
        els.map((e) => ({
          path: e.getAttribute('data-insight') ?? '',
          of: e.getAttribute('data-of'),
          text: e.textContent ?? '',
        })),
      );
      const wrong = shown.flatMap((s) => {
        const value = resolve(insights, releases, s.path);
        const of = s.of === null ? undefined : resolve(insights, releases, s.of);
        if (typeof value !== 'number' || (s.of !== null && typeof of !== 'number')) {
          return [`${s.path} (of ${s.of}) is not a number in the answers`];
        }
        const expected = s.of === null ? String(value) : formatPercent(value, of as number);
        return s.text === expected
          ? []
          : [
              `${s.path}${s.of ? ` / ${s.of}` : ''}: page shows "${s.text}", answers say "${expected}"`,
            ];
      });
      expect(wrong).toEqual([]);
      // And the page shows every number the answers hold.
      const paths = new Set(shown.map((s) => s.path));
      expect(leafPaths(insights, releases).filter((p) => !paths.has(p))).toEqual([]);

      // What a person reads, as the mix implies.
      const rate = (path: string, of: string) =>
        page.locator(`[data-insight="${path}"][data-of="${of}"]`).first().textContent();
      expect(await rate('installs.macos/aarch64.completed', 'installs.macos/aarch64.started')).toBe(
        '100%',
      );
      expect(await rate('installs.linux/x86_64.completed', 'installs.linux/x86_64.started')).toBe(
        '50%',
      );
      expect(
        await rate('installs.windows/x86_64.completed', 'installs.windows/x86_64.started'),
      ).toBe('0%');
      expect(await shownText('installs.windows/x86_64.failed')).toBe('1');
      expect(await rate('runs.jit_enabled', 'runs.finished')).toBe('83.3%');
      expect(await rate('runs.jit_used', 'runs.finished')).toBe('50%');
      expect(await rate('runs.accelerate_enabled', 'runs.finished')).toBe('83.3%');
      expect(await rate('runs.gpu_used', 'runs.finished')).toBe('50%');
      expect(await rate('runs.succeeded', 'runs.finished')).toBe('50%');
      expect(await rate('releases.0.5.0.jit_used', 'releases.0.5.0.finished')).toBe('33.3%');
      expect(await rate('releases.0.4.10.gpu_used', 'releases.0.4.10.finished')).toBe('100%');
      expect(await shownText('failures.by_stage.parser')).toBe('1');
      expect(await shownText('failures.by_code.RunMat:IndexOutOfBounds')).toBe('2');
      expect(await shownText('failures.by_component.typecheck')).toBe('1');
      expect(await shownText('devices.by_vendor.NVIDIA')).toBe('3');
      expect(await shownText('devices.by_backend.metal')).toBe('1');
      // Releases read oldest first; failure stages in pipeline order.
      expect(await page.locator('#panel-releases td.release').allTextContents()).toEqual([
        '0.4.9',
        '0.4.10',
        '0.5.0',
      ]);
      const stages = await page
        .locator('#panel-failures [data-insight^="failures.by_stage."]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-insight')));
      expect(stages).toEqual(['failures.by_stage.parser', 'failures.by_stage.runtime']);
      // Charts are drawn: bars for every list and a ring per gauge.
      expect(await page.locator('#panel-installs svg.bar rect.ok').count()).toBe(2);
      expect(await page.locator('#panel-installs svg.bar rect.bad').count()).toBe(1);
      expect(await page.locator('#panel-installs svg.bar rect.pending').count()).toBe(1);
      expect(await page.locator('#panel-runs circle.ring').count()).toBe(3);
      expect(await page.locator('#panel-gpu circle.ring').count()).toBe(1);

      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: join(RESULTS, 'insights.png'), fullPage: true });

      // Live: a new run shows up without a reload.
      await sendWithPostHogNode(sink, [
        {
          event: 'runtime.run.finished',
          distinctId: 'late',
          uuid: '0190a0a0-0000-7000-8000-000000000001',
          properties: { success: true, run_kind: 'script', release: '0.5.1', gpu_dispatches: 2 },
        },
      ]);
      await page.waitForFunction(
        () =>
          document.querySelector('[data-insight="runs.finished"]:not([data-of])')?.textContent ===
          '7',
        undefined,
        { timeout: 10_000 },
      );
      expect(await shownText('runs.by_kind.script')).toBe('4');
      expect(await rate('runs.gpu_used', 'runs.finished')).toBe('57.1%');
      expect(await page.locator('#panel-releases td.release').last().textContent()).toBe('0.5.1');

      // Cleared: back to zero and empty panels.
      await fetch(`${sink.url}/_sink/events`, { method: 'DELETE' });
      await page.waitForFunction(
        () => document.querySelector('[data-insight="events"]')?.textContent === '0',
        undefined,
        { timeout: 10_000 },
      );
      expect(await page.locator('#panel-installs').textContent()).toContain(
        'No installer events yet.',
      );
      expect(await page.locator('#panel-failures').textContent()).toContain(
        'No finished runs yet.',
      );
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await sink.close();
    }
  }, 60_000);
});
