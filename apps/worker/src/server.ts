import type { AddressInfo } from 'node:net';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from './config.js';

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
