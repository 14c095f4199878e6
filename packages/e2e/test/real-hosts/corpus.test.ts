/**
 * Events exactly as RunMat's real hosts send them (src/corpus, built from the
 * public Rust source and installers), through the real worker, forwarder and
 * sink: every one accepted, each once at PostHog and at GA4, what identifies
 * and describes it present, nothing outside the allowlist anywhere.
 */
import {
  ALLOWED_PROPERTIES,
  deviceName,
  normalizeEvent,
  parseEventJson,
  vendor,
} from '@runmat-telemetry/schema';
import { describe, expect, it } from 'vitest';
import { buildCorpus, type CorpusCase, wireBytes, wireJson } from '../../src/corpus/index.js';
import {
  type Pipeline,
  postJson,
  type Sample,
  type SinkEvent,
  scrapeMetrics,
  sendDatagrams,
  startPipeline,
  sumMetric,
} from '../../src/harness/index.js';

const corpus = buildCorpus();

// What the pipeline must make of the raw values: the runtime's vocabulary.
const OS: Record<string, string> = {
  darwin: 'macos',
  macos: 'macos',
  linux: 'linux',
  windows: 'windows',
  web: 'web',
};
const ARCH: Record<string, string> = {
  arm64: 'aarch64',
  ARM64: 'aarch64',
  aarch64: 'aarch64',
  AMD64: 'x86_64',
  x86_64: 'x86_64',
  wasm32: 'wasm32',
};
const GA4_NAME: Record<string, string> = {
  'runtime.run.started': 'runtime_run_started',
  'runtime.run.finished': 'runtime_run_finished',
  install_start: 'install_start',
  install_complete: 'install_complete',
  install_failed: 'install_failed',
};
const POSTHOG_EXTRA = new Set([
  '$lib',
  '$lib_version',
  '$is_server',
  '$process_person_profile',
  '$geoip_disable',
]);
const GA4_ALLOWED = new Set([
  'engagement_time_msec',
  ...ALLOWED_PROPERTIES.map((k) => k.replace(/[^A-Za-z0-9_]/g, '_')),
]);

/** The uuid each case must arrive under (its own, or the one the contract derives). */
function expectedUuid(c: CorpusCase): string {
  const parsed = parseEventJson(wireJson(c), 64 * 1024);
  if (!parsed.ok) throw new Error(`${c.name}: ${parsed.error.code} at ${parsed.error.path}`);
  return normalizeEvent(parsed.event).uuid;
}

const byUuid = new Map(corpus.map((c) => [expectedUuid(c), c]));

async function sinkEvents(p: Pipeline) {
  const [posthog, ga4] = await Promise.all([
    p.sinkApi.events({ destination: 'posthog' }),
    p.sinkApi.events({ destination: 'ga4' }),
  ]);
  return { posthog, ga4 };
}

async function waitForAll(p: Pipeline, message: string) {
  await expect
    .poll(
      async () => {
        const { posthog, ga4 } = await sinkEvents(p);
        return Math.min(posthog.length, ga4.length);
      },
      { timeout: 30_000, message },
    )
    .toBeGreaterThanOrEqual(corpus.length);
  return sinkEvents(p);
}

/** What every arrived event must show of its case. */
function checkArrivals(posthog: SinkEvent[], ga4: SinkEvent[]): void {
  // Each uuid exactly once at PostHog.
  const uuids = posthog.map((e) => e.uuid);
  expect(new Set(uuids).size).toBe(uuids.length);
  expect(new Set(uuids)).toEqual(new Set(byUuid.keys()));
  // GA4 has no event id: the same events, once each, by name and client.
  const key = (name: string, client: string) => `${name} ${client}`;
  expect(ga4.map((e) => key(e.event, e.distinct_id)).sort()).toEqual(
    posthog.map((e) => key(GA4_NAME[e.event] ?? '?', e.distinct_id)).sort(),
  );

  for (const e of posthog) {
    const c = byUuid.get(e.uuid as string) as CorpusCase;
    const x = c.expect;
    const p = e.properties;
    const where = `${c.name} at PostHog`;
    expect(e.event, where).toBe(x.event);
    if (x.success !== undefined) expect(p.success, where).toBe(x.success);
    if (x.duration_us !== undefined) expect(p.duration_us, where).toBe(x.duration_us);
    if (x.gpu_dispatches !== undefined) expect(p.gpu_dispatches, where).toBe(x.gpu_dispatches);
    if (x.device_backend !== undefined) {
      expect(p.gpu_backend, where).toBe(x.device_backend.toLowerCase());
    }
    if (x.device_vendor !== undefined) {
      const v = vendor.check(x.device_vendor);
      expect(p.gpu_device_vendor, where).toBe(v.ok ? v.value : undefined);
    }
    if (x.device_name_raw !== undefined) {
      const n = deviceName.check(x.device_name_raw);
      expect(p.gpu_device_name, where).toBe(n.ok ? n.value : undefined);
    }
    if (x.failure_stage !== undefined) {
      expect(p['runtime.failure.stage'], where).toBe(x.failure_stage);
    }
    if (x.failure_code !== undefined) {
      expect(p['runtime.failure.code'], where).toBe(x.failure_code);
    }
    if (x.os_raw !== undefined) expect(p.os, where).toBe(OS[x.os_raw] ?? x.os_raw);
    if (x.arch_raw !== undefined) expect(p.arch, where).toBe(ARCH[x.arch_raw] ?? x.arch_raw);
    if (x.release_raw !== undefined) {
      expect(p.release, where).toBe(x.release_raw.replace(/^v(?=\d)/, ''));
    }
    // Nothing outside the allowlist.
    for (const k of Object.keys(p)) {
      expect(
        ALLOWED_PROPERTIES.includes(k as never) || POSTHOG_EXTRA.has(k),
        `${where}: ${k}`,
      ).toBe(true);
    }
  }
  for (const e of ga4) {
    for (const k of Object.keys(e.properties)) {
      expect(GA4_ALLOWED.has(k), `GA4 param ${k}`).toBe(true);
    }
    expect(e.violations ?? []).toEqual([]);
  }
  // Not a trace of what is never forwarded, in any body.
  const everything = JSON.stringify([posthog, ga4]);
  for (const secret of [
    'kernel_launches',
    'memory_bytes',
    'device_id',
    'bind_group',
    'solve_fallbacks',
    'website-install-script',
    'Execution failed',
  ]) {
    expect(everything).not.toContain(secret);
  }
}

function fieldFixes(samples: Sample[], name: string): string[] {
  return samples
    .filter((s) => s.name === name && s.value > 0)
    .map((s) => `${s.labels.field} ${s.labels.reason} ${s.value}`)
    .sort();
}

function perClass(accepted: (c: CorpusCase) => boolean): string {
  const classes = new Map<string, [number, number]>();
  for (const c of corpus) {
    const [ok, all] = classes.get(c.class) ?? [0, 0];
    classes.set(c.class, [ok + (accepted(c) ? 1 : 0), all + 1]);
  }
  return [...classes].map(([k, [ok, all]]) => `${k} ${ok}/${all}`).join(', ');
}

describe('the real-host corpus', () => {
  it('is big enough to mean something, with unique ids', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(60);
    expect(byUuid.size, 'every case arrives under its own uuid').toBe(corpus.length);
    const largest = Math.max(...corpus.map(wireBytes));
    console.info(`corpus: ${corpus.length} cases, largest ${largest} bytes`);
    expect(largest).toBeGreaterThan(12_000);
  });

  it('over HTTP: every event accepted, each once at PostHog and GA4', async () => {
    await using p = await startPipeline();
    const statuses = new Map<CorpusCase, number>();
    for (const c of corpus) {
      const res = await postJson(p.endpoints.httpEndpoint, p.key, wireJson(c));
      statuses.set(c, res.status);
    }
    console.info(`HTTP accepted per class: ${perClass((c) => statuses.get(c) === 202)}`);
    expect(corpus.filter((c) => statuses.get(c) !== 202).map((c) => c.name)).toEqual([]);
    const { posthog, ga4 } = await waitForAll(p, 'every HTTP event at the sink');
    checkArrivals(posthog, ga4);
    const worker = await scrapeMetrics(p.endpoints.workerMetricsUrl);
    console.info(
      `worker field fixes:\n  ${fieldFixes(worker, 'runmat_worker_field_fixes_total').join('\n  ')}`,
    );
    expect(
      sumMetric(worker, 'runmat_worker_field_fixes_total', {
        field: 'payload.provider.telemetry.kernel_launches',
      }),
    ).toBe(corpus.filter((c) => JSON.stringify(c.body).includes('"kernel_launches"')).length);
  }, 90_000);

  it('over UDP alone: every datagram, up to the largest, arrives once', async () => {
    await using p = await startPipeline();
    for (const c of corpus) {
      await sendDatagrams(p.endpoints.udpHost, p.endpoints.udpPort, [wireJson(c)]);
    }
    const { posthog, ga4 } = await waitForAll(p, 'every datagram at the sink');
    const f = await scrapeMetrics(p.endpoints.forwarderMetricsUrl);
    const arrived = new Set(posthog.map((e) => e.uuid));
    console.info(`UDP alone, arrived per class: ${perClass((c) => arrived.has(expectedUuid(c)))}`);
    expect(sumMetric(f, 'runmat_forwarder_datagrams_dropped_total')).toBe(0);
    checkArrivals(posthog, ga4);
  }, 90_000);

  it('over UDP and HTTP at once, as the Rust CLI sends: every datagram taken, each event once', async () => {
    await using p = await startPipeline();
    const statuses: number[] = [];
    for (const c of corpus) {
      const bytes = wireJson(c);
      await sendDatagrams(p.endpoints.udpHost, p.endpoints.udpPort, [bytes]);
      statuses.push((await postJson(p.endpoints.httpEndpoint, p.key, bytes)).status);
    }
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    const { posthog, ga4 } = await waitForAll(p, 'every event at the sink');
    await expect
      .poll(
        async () => {
          const f = await scrapeMetrics(p.endpoints.forwarderMetricsUrl);
          return sumMetric(f, 'runmat_delivery_delivered_events_total');
        },
        { timeout: 30_000, message: 'the forwarder to count every datagram forwarded' },
      )
      .toBe(corpus.length);
    const f = await scrapeMetrics(p.endpoints.forwarderMetricsUrl);
    const received = sumMetric(f, 'runmat_forwarder_datagrams_received_total');
    const enqueued = sumMetric(f, 'runmat_delivery_admitted_events_total');
    console.info(
      `UDP: ${received} datagrams read, ${enqueued} accepted, largest ${Math.max(...corpus.map(wireBytes))} bytes`,
    );
    console.info(
      `forwarder field fixes:\n  ${fieldFixes(f, 'runmat_forwarder_field_fixes_total').join('\n  ')}`,
    );
    expect(received).toBe(corpus.length);
    expect(enqueued).toBe(corpus.length);
    expect(sumMetric(f, 'runmat_forwarder_datagrams_dropped_total')).toBe(0);
    expect(sumMetric(f, 'runmat_forwarder_events_rejected_total')).toBe(0);
    checkArrivals(posthog, ga4);
    // The sink holds no second copy, even after both copies were answered.
    expect((await sinkEvents(p)).posthog.length).toBe(corpus.length);
  }, 90_000);
});
