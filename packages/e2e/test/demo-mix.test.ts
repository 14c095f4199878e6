import type { ReleaseInsights, SinkInsights } from '@runmat-telemetry/fake-sink';
import { parseEvent } from '@runmat-telemetry/schema';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { demoMixEvents, sendDemoMix } from '../src/demo-mix.js';
import { settle } from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const pipeline = usePipeline();

async function getJson<T>(url: string): Promise<T> {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  return (await res.body.json()) as T;
}

// What the mix implies, worked out by hand from demo-mix.ts.
const EXPECTED: Omit<SinkInsights, 'events'> = {
  installs: [
    { os: 'linux', arch: 'aarch64', started: 1, completed: 0, failed: 0 },
    { os: 'linux', arch: 'x86_64', started: 2, completed: 1, failed: 1 },
    { os: 'macos', arch: 'aarch64', started: 2, completed: 2, failed: 0 },
    { os: 'macos', arch: 'x86_64', started: 1, completed: 1, failed: 0 },
    { os: 'windows', arch: 'x86_64', started: 2, completed: 1, failed: 1 },
  ],
  runs: {
    finished: 9,
    by_kind: { script: 5, repl: 2, benchmark: 1, kernel: 1 },
    jit_enabled: 6,
    jit_used: 4,
    accelerate_enabled: 6,
    gpu_used: 3,
    succeeded: 5,
  },
  failures: {
    by_stage: { runtime: 2, hir: 1, parser: 1 },
    by_code: {
      'RunMat:IndexOutOfBounds': 2,
      'RunMat:ParserError': 1,
      'RunMat:UndefinedVariable': 1,
    },
    by_component: { typecheck: 2, name_resolution: 1, unknown: 1 },
    by_host: { cli: 3, kernel: 1 },
  },
  devices: {
    by_backend: { metal: 2, dx12: 1, vulkan: 1 },
    by_vendor: { Apple: 2, AMD: 1, NVIDIA: 1 },
  },
};

const EXPECTED_RELEASES: ReleaseInsights = {
  releases: [
    {
      release: '0.4.8',
      finished: 2,
      jit_enabled: 1,
      jit_used: 1,
      accelerate_enabled: 1,
      gpu_used: 0,
      succeeded: 1,
    },
    {
      release: '0.4.9',
      finished: 3,
      jit_enabled: 1,
      jit_used: 0,
      accelerate_enabled: 1,
      gpu_used: 0,
      succeeded: 0,
    },
    {
      release: '0.5.0',
      finished: 4,
      jit_enabled: 4,
      jit_used: 3,
      accelerate_enabled: 4,
      gpu_used: 3,
      succeeded: 4,
    },
  ],
};

describe('the demo mix', () => {
  it('is in the contract’s canonical shape: every event parses with nothing fixed', () => {
    const events = demoMixEvents();
    expect(events).toHaveLength(33);
    for (const event of events) {
      const parsed = parseEvent(event);
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
      if (parsed.ok) expect(parsed.fixes, event.event_label).toEqual([]);
    }
    // Fresh ids every time, so a second send adds a second copy.
    const ids = new Set(events.flatMap((e) => [e.uuid, e.session_id]));
    for (const e of demoMixEvents()) expect(ids.has(e.session_id)).toBe(false);
  });

  it('through the real pipeline, fills every panel of /_sink/insights', async () => {
    const p = pipeline();
    const { endpoints, key } = p;
    const { sent } = await sendDemoMix({
      httpEndpoint: endpoints.httpEndpoint,
      key,
      udpHost: endpoints.udpHost,
      udpPort: endpoints.udpPort,
    });
    expect(sent).toBe(33);
    const url = `${endpoints.sinkUrl}/_sink/insights`;
    await expect
      .poll(async () => (await getJson<SinkInsights>(url)).events, {
        timeout: 15_000,
        message: 'the demo mix at the sink',
      })
      .toBeGreaterThanOrEqual(sent);
    // Runtime events went over UDP and HTTP: after a barrier, PostHog holds each once.
    await settle(p);
    const posthog = await p.sinkApi.events({ destination: 'posthog' });
    expect(posthog).toHaveLength(sent + 2);
    expect(new Set(posthog.map((e) => e.uuid)).size).toBe(sent + 2);

    const insights = await getJson<SinkInsights>(url);
    // The two settle sentinels are started events: they count as events, not runs.
    expect(insights).toEqual({ events: sent + 2, ...EXPECTED });
    expect(await getJson<ReleaseInsights>(`${url}/releases`)).toEqual(EXPECTED_RELEASES);

    // Every panel has something to show.
    expect(insights.installs.some((i) => i.failed > 0)).toBe(true);
    expect(new Set(insights.installs.map((i) => i.os)).size).toBeGreaterThanOrEqual(3);
    expect(insights.runs.jit_used).toBeGreaterThan(0);
    expect(insights.runs.jit_enabled).toBeLessThan(insights.runs.finished);
    expect(insights.runs.gpu_used).toBeGreaterThan(0);
    for (const tally of [
      insights.runs.by_kind,
      insights.failures.by_stage,
      insights.failures.by_code,
      insights.failures.by_component,
      insights.failures.by_host,
      insights.devices.by_backend,
      insights.devices.by_vendor,
    ]) {
      expect(Object.keys(tally).length).toBeGreaterThan(0);
    }
    expect(insights.failures.by_stage.parser).toBe(1);
    expect(insights.failures.by_stage.runtime).toBe(2);

    // The page that shows them is served by the sink.
    const page = await request(`${endpoints.sinkUrl}/`);
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('/_sink/insights');
  });
});
