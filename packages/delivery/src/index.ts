/**
 * The delivery engine shared by the UDP forwarder (→ the worker's `/v1/batch`)
 * and the worker (→ PostHog, → GA4). See README.md.
 */
export * from './bounded-queue.js';
export * from './engine.js';
export * from './metric-catalog.js';
export * from './metrics.js';
export * from './outcomes.js';
export * from './retry-policy.js';
export * from './retrying-fetch.js';
