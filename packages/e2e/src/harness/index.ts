/**
 * Test harness for the whole pipeline: real processes started from their
 * built entry points on loopback, the client CLI, the sink's inspection API
 * and deadline-bound polling. Used by the local command and the e2e tests.
 */

export * from './fresh-events.js';
export * from './prometheus.js';
export * from './repo-paths.js';
export * from './run-client.js';
export * from './send-raw.js';
export * from './settle.js';
export * from './sink-api.js';
export * from './spawn-server.js';
export * from './start-apps.js';
export * from './start-pipeline.js';
export * from './transport-config.js';
export * from './wait-for.js';
