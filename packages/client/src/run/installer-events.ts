import type { InstallEventName } from '@runmat-telemetry/schema/browser';
import { buildInstallEvent, type InstallerInfo } from './build-events.js';
import type { RunEmitter } from './run-guard.js';

/**
 * An installer session: each of `install_start`, `install_complete` and
 * `install_failed` is emitted at most once, so a retrying installer cannot
 * inflate install counts.
 */
export class InstallerSession {
  readonly #emitter: RunEmitter;
  readonly #info: InstallerInfo;
  readonly #sent = new Set<InstallEventName>();

  constructor(emitter: RunEmitter, info: InstallerInfo) {
    this.#emitter = emitter;
    this.#info = info;
  }

  /** Emits `name` unless it was already emitted in this session; true when accepted. */
  send(name: InstallEventName): boolean {
    if (this.#sent.has(name)) return false;
    this.#sent.add(name);
    return this.#emitter.emit(
      buildInstallEvent(this.#emitter.context, this.#emitter.newUuid(), name, this.#info),
    );
  }

  /** True when `name` has already been emitted (or attempted) in this session. */
  hasSent(name: InstallEventName): boolean {
    return this.#sent.has(name);
  }
}
