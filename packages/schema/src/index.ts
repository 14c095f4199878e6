/**
 * The RunMat telemetry event contract: constants, schemas, parsing,
 * normalization and the PostHog / GA4 mappings. Node entry; browsers use
 * `@runmat-telemetry/schema/browser`, which has no `node:` imports.
 */
export * from './constants.js';
export * from './event-types.js';
export * from './examples.js';
export * from './field-fix-tally.js';
export * from './field-policy.js';
export * from './field-types.js';
export * from './ga4-mapping.js';
export * from './hash-id.js';
export * from './normalize-event.js';
export * from './parse-event.js';
export * from './posthog-mapping.js';
export * from './ratios.js';
