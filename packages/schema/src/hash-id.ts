import { hash } from 'node:crypto';

// Domain-separated so the same session id hashed for another purpose never
// collides with these.
const DISTINCT_PREFIX = 'runmat-telemetry/distinct-id/v1\u0000';
const UUID_PREFIX = 'runmat-telemetry/event-uuid/v1\u0000';

/** One-way, stable analytics id for a session that has no anonymous client id. */
export function distinctIdFromSession(sessionId: string): string {
  return `s_${hash('sha256', DISTINCT_PREFIX + sessionId, 'hex').slice(0, 32)}`;
}

/**
 * Deterministic event uuid (RFC 9562 version 8, name-based) for events sent
 * without one: a run has at most one event of each name per session, so the
 * same event sent twice (UDP and HTTP) maps to the same id and is deduplicated.
 */
export function deterministicUuid(sessionId: string, eventName: string): string {
  return uuidFromDigest(hash('sha256', `${UUID_PREFIX}${sessionId}\u0000${eventName}`, 'buffer'));
}

const TOKEN_UUID_PREFIX = 'runmat-telemetry/event-token/v1\u0000';

/** A name-based UUID (version 8) for an event id that is a token, not a UUID. */
export function tokenUuid(token: string): string {
  return uuidFromDigest(hash('sha256', `${TOKEN_UUID_PREFIX}${token}`, 'buffer'));
}

const INSTALLER_UUID_PREFIX = 'runmat-telemetry/installer-uuid/v1\u0000';

/** The fields of an installer event its derived uuid covers. */
export interface InstallerIdentity {
  os?: string;
  arch?: string;
  platform?: string;
  release?: string;
  method?: string;
  timestamp_ms?: number;
}

/**
 * Deterministic uuid (version 8) for an installer event that carries neither
 * a uuid nor a session id (the older page's field list, the flat `install.sh`
 * of August 2025): SHA-256 over `cid`, the canonical event name and the
 * event's normalized os, arch, platform, release, method and timestamp. The
 * same event sent again (a retry, or over two transports) gets the same id
 * and is forwarded once. Two distinct installs by one machine of one release
 * inside the dedupe window, without timestamps, also share it; that is the
 * price of an event that identifies itself no further.
 */
export function installerUuid(cid: string, eventName: string, e: InstallerIdentity): string {
  const parts = [cid, eventName, e.os, e.arch, e.platform, e.release, e.method, e.timestamp_ms];
  return uuidFromDigest(
    hash('sha256', `${INSTALLER_UUID_PREFIX}${parts.map((p) => p ?? '').join('\u0000')}`, 'buffer'),
  );
}

function uuidFromDigest(b: Buffer): string {
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
