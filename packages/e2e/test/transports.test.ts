import { describe, expect, it } from 'vitest';
import {
  type ClientRun,
  runClient,
  settle,
  type TransportMode,
  transportConfig,
} from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const pipeline = usePipeline();

async function emit(mode: TransportMode): Promise<ClientRun> {
  const run = await runClient({
    ...(await transportConfig(pipeline().endpoints, mode)),
    key: pipeline().key,
  });
  expect(run.code, run.stderr).toBe(0);
  expect(run.sent.map((s) => s.event)).toEqual(['runtime.run.started', 'runtime.run.finished']);
  expect(run.telemetryId, 'the run wrote its anonymous id').toMatch(/^[0-9a-f-]{36}$/i);
  return run;
}

/** Waits for the run at both destinations, settles, then checks each event is there exactly once. */
async function expectDeliveredOnce(run: ClientRun): Promise<void> {
  const distinct_id = run.telemetryId as string;
  await pipeline().sinkApi.waitForEvents({ destination: 'posthog', distinct_id }, 2);
  await pipeline().sinkApi.waitForEvents({ destination: 'ga4', distinct_id }, 2);
  await settle(pipeline());

  const posthog = await pipeline().sinkApi.events({ destination: 'posthog', distinct_id });
  expect(posthog.map((e) => e.uuid).sort()).toEqual(run.sent.map((s) => s.uuid).sort());
  expect(posthog.map((e) => e.event).sort()).toEqual([
    'runtime.run.finished',
    'runtime.run.started',
  ]);
  for (const e of posthog) {
    expect(e.properties.session_id).toBeTypeOf('string');
    expect(e.api_key).toBe(pipeline().posthogApiKey);
  }
  // One session: both events of the run carry the same session id.
  expect(new Set(posthog.map((e) => e.properties.session_id)).size).toBe(1);

  const ga4 = await pipeline().sinkApi.events({ destination: 'ga4', distinct_id });
  expect(ga4.map((e) => e.event).sort()).toEqual(['runtime_run_finished', 'runtime_run_started']);
  for (const e of ga4) {
    expect(e.violations ?? []).toEqual([]);
    expect(e.measurement_id).toBe(pipeline().gaMeasurementId);
  }
}

describe('a client run reaches PostHog and GA4', () => {
  it('over UDP only', async () => {
    const run = await emit('udp');
    for (const s of run.sent) expect(s.via).toEqual(['udp']);
    await expectDeliveredOnce(run);
  });

  it('over HTTP only', async () => {
    const run = await emit('http');
    for (const s of run.sent) expect(s.via).toEqual(['http']);
    await expectDeliveredOnce(run);
  });

  it('over both, once at each destination although every event travels twice', async () => {
    const run = await emit('both');
    for (const s of run.sent) expect(s.via.sort()).toEqual(['http', 'udp']);
    await expectDeliveredOnce(run);
  });

  it('a second run from the same home reuses the anonymous id and sends new uuids', async () => {
    const first = await emit('http');
    const again = await runClient({
      ...(await transportConfig(pipeline().endpoints, 'http')),
      key: pipeline().key,
      home: first.home,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.telemetryId).toBe(first.telemetryId);
    const distinct_id = first.telemetryId as string;
    await pipeline().sinkApi.waitForEvents({ destination: 'posthog', distinct_id }, 4);
    await settle(pipeline());
    const events = await pipeline().sinkApi.events({ destination: 'posthog', distinct_id });
    expect(events).toHaveLength(4);
    expect(new Set(events.map((e) => e.uuid)).size).toBe(4);
  });
});
