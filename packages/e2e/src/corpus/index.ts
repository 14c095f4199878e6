/**
 * Telemetry events shaped exactly as RunMat's real public hosts send them
 * (Rust CLI and browser host, older CLIs, install.sh / install.ps1, the older
 * docs page), for tests that must accept what is really on the wire.
 * See SOURCES.md for where each shape comes from.
 */

export * from './corpus-stats.js';
export * from './provider-snapshots.js';
export * from './real-events.js';
export * from './rust-behaviour.js';
export type * from './rust-shapes.js';
export * from './seeded-random.js';
