import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';

/** How the client id was obtained. */
export type IdSource = 'host' | 'file' | 'created' | 'ephemeral';

/** The anonymous client id and where it came from. */
export interface TelemetryId {
  id: string;
  source: IdSource;
  /** The id file, when one was read or written. */
  path: string | undefined;
  /** Why the file could not be used, when `source` is `ephemeral`. */
  problem?: string;
}

// Same alphabet as the schema's AnonymousId, so a hand-edited file cannot put
// anything else on the wire.
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** True when `id` can be emitted as `cid`. */
export function isValidTelemetryId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Reads the id file; undefined when it is missing or does not hold a valid id. */
export function readTelemetryId(path: string): string | undefined {
  try {
    const id = readFileSync(path, 'utf8').trim();
    return isValidTelemetryId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The id in `path`, creating it when missing. Only call this when telemetry
 * is enabled: the file must not appear for users who opted out. Never throws;
 * an unusable home yields a per-process id.
 */
export function loadOrCreateTelemetryId(path: string): TelemetryId {
  const existing = readTelemetryId(path);
  if (existing) return { id: existing, source: 'file', path };
  try {
    return { id: writeNewId(path, false), source: 'created', path };
  } catch (err) {
    return {
      id: randomUUID(),
      source: 'ephemeral',
      path: undefined,
      problem: describeFsError(err),
    };
  }
}

/** Replaces the id with a fresh one (`runmat-telemetry id --reset`). Throws when the file cannot be written. */
export function resetTelemetryId(path: string): string {
  return writeNewId(path, true);
}

/** Deletes the id file; true when there was one. */
export function deleteTelemetryId(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a fresh GUID through a temp file so no reader ever sees a partial id.
 * Without `replace`, the temp file is hard-linked into place, which fails if
 * another process created the id meanwhile; that id is then adopted, so
 * concurrent first runs agree on one id.
 */
function writeNewId(path: string, replace: boolean): string {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = randomUUID();
  const tmp = `${path}.${process.pid}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(tmp, `${id}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // The umask can narrow but not widen the mode; set it explicitly anyway.
    chmodSync(tmp, 0o600);
    if (replace) {
      renameSync(tmp, path);
      return id;
    }
    try {
      linkSync(tmp, path);
      return id;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        const winner = readTelemetryId(path);
        if (winner) return winner;
        renameSync(tmp, path);
        return id;
      }
      // File systems without hard links: fall back to an atomic rename.
      renameSync(tmp, path);
      return id;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed away
    }
  }
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}${e.path ? ` ${e.path}` : ''}` : String(err);
}
