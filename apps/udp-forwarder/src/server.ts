import closeWithGrace from 'close-with-grace';
import pino from 'pino';
import { ConfigError, loadForwarderConfig } from './config.js';
import { createForwarder } from './create-forwarder.js';
import { forwarderLoggerOptions } from './logging.js';

// The process: config from the environment, then the forwarder, then signals.
let config: ReturnType<typeof loadForwarderConfig>;
try {
  config = loadForwarderConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = pino(forwarderLoggerOptions(config.logLevel));
const forwarder = createForwarder(config, { logger });

try {
  const { udpHost, udpPort, healthPort, recvBufferBytes } = await forwarder.start();
  logger.info(
    {
      udpHost,
      udpPort,
      healthPort,
      recvBufferBytes,
      // Origin and path only: credentials in a URL must not reach the logs.
      endpoint: `${config.endpoint.origin}${config.endpoint.pathname}`,
    },
    'listening',
  );
} catch (err) {
  logger.fatal({ err }, 'forwarder failed to start');
  process.exit(1);
}

// The flush has its own bound; the grace delay only catches a stop that hangs.
closeWithGrace(
  { delay: config.shutdownTimeoutMs + 5_000, logger: { error: (m: unknown) => logger.error(m) } },
  async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after error');
    else logger.info({ signal }, 'shutting down');
    await forwarder.stop();
  },
);
