/**
 * Platform-neutral part of the contract (no `node:` imports): what a browser
 * host needs to build and validate events before sending them.
 */
export * from './constants.js';
export * from './event-schemas.js';
export * from './parse-event.js';
export * from './ratios.js';
