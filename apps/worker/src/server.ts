import type { AddressInfo } from 'node:net';
import { getHeapStatistics } from 'node:v8';
import { runService, withinGrace } from '@runmat-telemetry/service';
import { buildApp } from './app.js';
import { loadWorkerConfig } from './config.js';
import { oldSpaceFlag } from './memory/memory-budget.js';

const MIB = 1024 * 1024;

await runService({
  name: 'worker',
  loadConfig: () => loadWorkerConfig(process.env),
  create(loaded) {
    // Leave the app's own drain room inside the hard grace period.
    const config = { ...loaded, shutdownTimeoutMs: withinGrace(loaded.shutdownTimeoutMs) };
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

    return {
      logger: app.log,
      async listen() {
        // Metrics first: a taken METRICS_PORT stops the process before it takes traffic.
        await metricsApp.listen({ port: config.metricsPort, host: config.metricsHost });
        await app.listen({ port: config.port, host: config.host });
        const address = app.server.address() as AddressInfo;
        const metricsAddress = metricsApp.server.address() as AddressInfo;
        return {
          host: address.address,
          port: address.port,
          url: httpUrl(address),
          metricsPort: metricsAddress.port,
          metricsUrl: `${httpUrl(metricsAddress)}/metrics`,
          ga4: config.ga4 !== null,
          posthogHost: config.posthogHost,
        };
      },
      // Closing the app drains the queues, then closes the metrics listener.
      close: () => app.close(),
    };
  },
});

function httpUrl(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
