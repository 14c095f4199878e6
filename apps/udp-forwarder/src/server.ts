import { runService, withinGrace } from '@runmat-telemetry/service';
import pino from 'pino';
import { loadForwarderConfig } from './config.js';
import { createForwarder } from './create-forwarder.js';
import { forwarderLoggerOptions } from './logging.js';

// The process: config from the environment, then the forwarder, then signals.
await runService({
  name: 'forwarder',
  loadConfig: () => loadForwarderConfig(process.env),
  create(loaded) {
    // The flush has to end inside the grace period, or the process is killed mid-flush.
    const config = { ...loaded, shutdownTimeoutMs: withinGrace(loaded.shutdownTimeoutMs) };
    const logger = pino(forwarderLoggerOptions(config.logLevel));
    const forwarder = createForwarder(config, { logger });
    return {
      logger,
      async listen() {
        const { udpHost, udpPort, healthPort, recvBufferBytes } = await forwarder.start();
        return {
          udpHost,
          udpPort,
          healthPort,
          recvBufferBytes,
          // Origin and path only: credentials in a URL must not reach the logs.
          endpoint: `${config.endpoint.origin}${config.endpoint.pathname}`,
        };
      },
      async close() {
        await forwarder.stop();
      },
    };
  },
});
