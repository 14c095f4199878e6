import { buildSinkApp } from './app.js';
import { ConfigError, loadSinkConfig } from './config.js';
import { listenQuietly } from './listen.js';

// The sink as a process: `node dist/server.js`, configured by PORT and HOST.

async function main(): Promise<void> {
  let config: ReturnType<typeof loadSinkConfig>;
  try {
    config = loadSinkConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const { app } = buildSinkApp({
    maxEvents: config.maxEvents,
    apiKey: config.apiKey,
    gaApiSecret: config.gaApiSecret,
    logger: { level: config.logLevel },
  });

  let bound: Awaited<ReturnType<typeof listenQuietly>>;
  try {
    bound = await listenQuietly(app, config.port, config.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${code ?? String(err)})`;
    process.stderr.write(
      `fake sink: ${config.host}:${config.port} ${why}; set PORT (or HOST) to another value\n`,
    );
    process.exit(1);
  }
  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // Ready only once a stop signal is handled: a supervisor may send one at once.
  app.log.info(bound, 'listening');
}

void main();
