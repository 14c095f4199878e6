import {
  ALLOWED_PROPERTIES,
  deterministicUuid,
  normalizeEvent,
  parseEvent,
  toGa4Event,
} from '@runmat-telemetry/schema';
import { describe, expect, it } from 'vitest';
import {
  freshCanonicalFinished,
  freshCanonicalStarted,
  freshInstallComplete,
  freshLegacyFinished,
  postJson,
  type SinkEvent,
  sendDatagrams,
} from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const pipeline = usePipeline();

const allowed = new Set<string>(ALLOWED_PROPERTIES);

interface Kind {
  name: string;
  make: () => { cid: string; session_id: string; uuid?: string };
  /** PostHog event name after normalization. */
  event: string;
  ga4Name: string;
  /** Values a person would check by hand, independent of the normalizer. */
  spotChecks: Record<string, unknown>;
}

const KINDS: Kind[] = [
  {
    name: 'canonical runtime.run.finished',
    make: freshCanonicalFinished,
    event: 'runtime.run.finished',
    ga4Name: 'runtime_run_finished',
    spotChecks: {
      success: false,
      duration_us: 4412,
      error: 'RuntimeError',
      total_executions: 42,
      gpu_ratio: 0.4193,
      'runtime.failure.stage': 'runtime',
      'runtime.failure.code': 'RunMat:IndexOutOfBounds',
      'runtime.failure.host': 'cli',
      os: 'macos',
      release: '0.4.9',
    },
  },
  {
    name: 'canonical runtime.run.started',
    make: freshCanonicalStarted,
    event: 'runtime.run.started',
    ga4Name: 'runtime_run_started',
    spotChecks: {
      jit_enabled: true,
      accelerate_enabled: true,
      run_kind: 'script',
      arch: 'aarch64',
    },
  },
  {
    name: 'legacy runtime_finished',
    make: freshLegacyFinished,
    event: 'runtime.run.finished',
    ga4Name: 'runtime_run_finished',
    spotChecks: {
      success: true,
      gpu_device_name: 'NVIDIA RTX 4090',
      gpu_device_vendor: 'NVIDIA',
      gpu_backend: 'cuda',
      gpu_dispatches: 12,
      gpu_upload_bytes: 262144,
      fusion_cache_hits: 8,
    },
  },
  {
    name: 'installer install_complete',
    make: freshInstallComplete,
    event: 'install_complete',
    ga4Name: 'install_complete',
    spotChecks: { platform: 'macos-aarch64', method: 'shell', run_kind: 'install', os: 'macos' },
  },
];

async function send(transport: 'http' | 'udp', event: object): Promise<void> {
  if (transport === 'udp') {
    await sendDatagrams(pipeline().endpoints.udpHost, pipeline().endpoints.udpPort, [event]);
    return;
  }
  const res = await postJson(pipeline().endpoints.httpEndpoint, pipeline().key, event);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ status: 'accepted' });
}

function expectOnlyAllowlisted(e: SinkEvent): void {
  const extra = Object.keys(e.properties).filter((k) => !k.startsWith('$') && !allowed.has(k));
  expect(extra, `properties outside the allowlist in ${e.event}`).toEqual([]);
}

describe.each(['http', 'udp'] as const)('over %s', (transport) => {
  it.each(KINDS)('$name arrives with the right name, ids and properties', async (kind) => {
    const sent = kind.make();
    const parsed = parseEvent(sent);
    if (!parsed.ok) throw new Error(`example no longer parses: ${parsed.error.message}`);
    const normalized = normalizeEvent(parsed.event);
    const uuid = sent.uuid ?? deterministicUuid(sent.session_id, kind.event);
    expect(normalized.uuid).toBe(uuid);
    await send(transport, sent);

    const ph = await pipeline().sinkApi.waitForUuid(uuid);
    expect(ph.event).toBe(kind.event);
    expect(ph.distinct_id).toBe(sent.cid);
    expect(ph.properties).toMatchObject(kind.spotChecks);
    expect(ph.properties).toMatchObject(normalized.properties);
    expectOnlyAllowlisted(ph);

    const [ga] = await pipeline().sinkApi.waitForEvents({
      destination: 'ga4',
      distinct_id: sent.cid,
    });
    expect(ga?.event).toBe(kind.ga4Name);
    expect(ga?.violations ?? []).toEqual([]);
    expect(ga?.properties).toMatchObject(toGa4Event(normalized).params);
  });
});

describe('GA4 validity', () => {
  it('no GA4 request in this file produced a validation message', async () => {
    const stats = await pipeline().sinkApi.stats();
    expect(stats.ga4.events).toBeGreaterThanOrEqual(KINDS.length * 2);
    expect(stats.ga4.violations).toBe(0);
    const withViolations = (await pipeline().sinkApi.events({ destination: 'ga4' })).filter(
      (e) => (e.violations ?? []).length > 0,
    );
    expect(withViolations).toEqual([]);
  });
});
