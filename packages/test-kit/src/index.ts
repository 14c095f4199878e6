/**
 * The shared test kit (see README.md): server processes started from their
 * built entry points and torn down by `await using`, Prometheus text read by
 * metric name, and real components (the machine's Chromium through
 * playwright-core, a redis-server on an ephemeral loopback port).
 *
 * Non-test code (the local pipeline command) imports the process and metric
 * parts through their own entry points, `@runmat-telemetry/test-kit/spawn-server`
 * and `@runmat-telemetry/test-kit/prometheus`, which load no browser driver.
 */
export * from './chromium.js';
export * from './components.js';
export * from './free-port.js';
export * from './prometheus.js';
export * from './redis.js';
export * from './spawn-server.js';
