/**
 * Platform-neutral part of the contract (no `node:` imports): what a browser
 * host needs to build and validate events before sending them.
 */
export * from './constants.js';
export * from './event-types.js';
export * from './field-fix-tally.js';
export * from './field-policy.js';
export * from './field-types.js';
export * from './parse-event.js';
export * from './ratios.js';
