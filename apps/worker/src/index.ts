/**
 * The RunMat telemetry HTTP worker: validates, normalizes and deduplicates
 * events, then forwards them to PostHog and GA4. `server.ts` is the process.
 */
export { type AppDeps, buildApp, type WorkerApp, workerLoggerOptions } from './app.js';
export * from './config.js';
export { CircuitBreaker, type CircuitState } from './dedupe/circuit-breaker.js';
export { DedupeWindow } from './dedupe/dedupe-window.js';
export {
  type ClaimOutcome,
  type FailOpenReason,
  RedisDedupe,
  type SharedDedupe,
} from './dedupe/shared-dedupe.js';
export { type Forwarder, ForwardQueue } from './forward/forward-queue.js';
export { Ga4Forwarder, type Ga4ForwarderOptions } from './forward/ga4-forwarder.js';
export { PostHogForwarder, type PostHogForwarderOptions } from './forward/posthog-forwarder.js';
export { type ErrorBody, HTTP_STATUS, type HttpErrorCode } from './http-errors.js';
export * from './memory/memory-budget.js';
export { MemoryGuard, type MemoryPressure, type MemorySample } from './memory/memory-guard.js';
export { type Destination, WorkerMetrics } from './metrics.js';
export { MAX_BATCH_ITEMS } from './routes/batch-route.js';
