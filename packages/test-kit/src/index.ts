/**
 * Real components for the tests (see README.md): the machine's Chromium
 * through playwright-core, and a redis-server on an ephemeral loopback port.
 */
export * from './chromium.js';
export * from './components.js';
export * from './redis.js';
