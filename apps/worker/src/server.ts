import type { AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from './config.js';
import { oldSpaceFlag } from './memory/memory-budget.js';

const MIB = 1024 * 1024;

// Cloud Run sends SIGTERM and kills the container 10 s later.
const GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Leave the app's own drain room inside the hard grace period.
  config = { ...config, shutdownTimeoutMs: Math.min(config.shutdownTimeoutMs, GRACE_MS - 500) };
  const { app, metricsApp } = buildApp(config);
  for (const warning of config.warnings) app.log.warn(warning);

  // The container entrypoint (bin/worker-entrypoint.sh) starts node with
  // V8's old space sized from the same budget; started some other way, say so.
  const plan = config.memory;
  const heapLimitMiB = Math.round(getHeapStatistics().heap_size_limit / MIB);
  const memory = {
    budgetMiB: Math.round(plan.budgetBytes / MIB),
    source: plan.source,
    heapLimitMiB,
    queueMaxBytes: config.queueMaxBytes,
    dedupeMaxEntries: config.dedupeMaxEntries,
    shedRssMiB: Math.round(plan.shedRssBytes / MIB),
  };
  // heap_size_limit adds the young generation to the old-space limit.
  if (heapLimitMiB > plan.oldSpaceMiB + 160 && plan.source !== 'default') {
    app.log.warn(
      memory,
      `V8's heap limit is above the memory budget's old space: start node with ${oldSpaceFlag(plan)} (the image's entrypoint does)`,
    );
  } else {
    app.log.info(memory, 'memory budget');
  }

  closeWithGrace(
    {
      delay: GRACE_MS,
      logger: { error: (msg: unknown) => app.log.error(String(msg)) },
    },
    async ({ signal, err }) => {
      if (err) app.log.error({ err: { name: err.name, message: err.message } }, 'fatal error');
      app.log.info({ signal }, 'shutting down');
      await app.close();
    },
  );

  // Metrics first: a taken METRICS_PORT stops the process before it takes traffic.
  await metricsApp.listen({ port: config.metricsPort, host: config.metricsHost });
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const metricsAddress = metricsApp.server.address();
  if (
    address !== null &&
    typeof address === 'object' &&
    metricsAddress !== null &&
    typeof metricsAddress === 'object'
  ) {
    app.log.info(
      {
        host: address.address,
        port: address.port,
        url: httpUrl(address),
        metricsPort: metricsAddress.port,
        metricsUrl: `${httpUrl(metricsAddress)}/metrics`,
        ga4: config.ga4 !== null,
        posthogHost: config.posthogHost,
      },
      'listening',
    );
  }
}

function httpUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

main().catch((err: unknown) => {
  process.stderr.write(
    `worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
