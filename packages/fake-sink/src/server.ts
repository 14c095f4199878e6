import { runService } from '@runmat-telemetry/service';
import { buildSinkApp } from './app.js';
import { loadSinkConfig } from './config.js';
import { listenQuietly } from './listen.js';

// The sink as a process: `node dist/server.js`, configured by PORT and HOST.
await runService({
  name: 'fake sink',
  loadConfig: () => loadSinkConfig(process.env),
  create(config) {
    const { app } = buildSinkApp({
      maxEvents: config.maxEvents,
      apiKey: config.apiKey,
      gaApiSecret: config.gaApiSecret,
      logger: { level: config.logLevel },
    });
    return {
      logger: app.log,
      listen: async () => ({ ...(await listenQuietly(app, config.port, config.host)) }),
      close: () => app.close(),
    };
  },
  describeStartError(err, config) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${code ?? String(err)})`;
    return `fake sink: ${config.host}:${config.port} ${why}; set PORT (or HOST) to another value`;
  },
});
