import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  makeTempDir,
  runClient,
  type Sample,
  scrapeMetrics,
  settle,
  sumMetric,
  transportConfig,
} from '../src/harness/index.js';
import { usePipeline } from './support/use-pipeline.js';

const pipeline = usePipeline();

interface OptOut {
  name: string;
  env?: Record<string, string>;
  /** Extra `[runtime.telemetry]` keys in the project runmat.toml. */
  telemetry?: Record<string, boolean>;
  /** Files to write under the run's home before it starts. */
  homeFiles?: Record<string, string>;
}

const OPT_OUTS: OptOut[] = [
  { name: 'RUNMAT_NO_TELEMETRY=1', env: { RUNMAT_NO_TELEMETRY: '1' } },
  { name: 'RUNMAT_TELEMETRY=0', env: { RUNMAT_TELEMETRY: '0' } },
  { name: 'DO_NOT_TRACK=1', env: { DO_NOT_TRACK: '1' } },
  { name: 'enabled = false in runmat.toml', telemetry: { enabled: false } },
  {
    name: 'enabled = false in ~/.config/runmat/config.toml',
    homeFiles: { '.config/runmat/config.toml': '[runtime.telemetry]\nenabled = false\n' },
  },
  {
    name: 'telemetry.enabled = false in the older ~/.runmat/config.toml',
    homeFiles: { '.runmat/config.toml': '[telemetry]\nenabled = false\n' },
  },
];

async function counts(): Promise<{ worker: number; forwarder: number }> {
  const worker: Sample[] = await scrapeMetrics(pipeline().endpoints.workerMetricsUrl);
  const forwarder: Sample[] = await scrapeMetrics(pipeline().endpoints.forwarderMetricsUrl);
  return {
    worker:
      sumMetric(worker, 'runmat_worker_events_accepted_total') +
      sumMetric(worker, 'runmat_worker_events_rejected_total'),
    forwarder: sumMetric(forwarder, 'runmat_forwarder_datagrams_received_total'),
  };
}

describe('telemetry disabled by each opt-out: nothing arrives and no id file is written', () => {
  it.each(OPT_OUTS)('$name', async (optOut) => {
    await pipeline().sinkApi.clear();
    const home = makeTempDir('runmat-e2e-home-');
    for (const [path, text] of Object.entries(optOut.homeFiles ?? {})) {
      mkdirSync(join(home, path, '..'), { recursive: true });
      writeFileSync(join(home, path), text);
    }
    const before = await counts();

    const run = await runClient({
      ...(await transportConfig(pipeline().endpoints, 'both')),
      extra: optOut.telemetry,
      key: pipeline().key,
      env: optOut.env,
      home,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.sent).toEqual([]);
    expect(run.stderr).toMatch(/telemetry disabled/);
    expect(existsSync(run.idFile), `${run.idFile} exists`).toBe(false);

    // The sentinels pass through both paths after the run: anything the run
    // had sent would have been counted and stored by then.
    const sentinels = await settle(pipeline());
    const after = await counts();
    expect(after.worker - before.worker, 'events seen by the worker').toBe(2);
    expect(after.forwarder - before.forwarder, 'datagrams seen by the forwarder').toBe(1);
    const stored = await pipeline().sinkApi.events();
    expect(stored.filter((e) => !sentinels.includes(e.distinct_id))).toEqual([]);
  });

  it('the same run without an opt-out does deliver and write its id (the checks above can fail)', async () => {
    const run = await runClient({
      ...(await transportConfig(pipeline().endpoints, 'both')),
      key: pipeline().key,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.sent).toHaveLength(2);
    expect(existsSync(run.idFile)).toBe(true);
    await pipeline().sinkApi.waitForEvents(
      { destination: 'posthog', distinct_id: run.telemetryId as string },
      2,
    );
  });
});
