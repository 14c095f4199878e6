import { randomUUID } from 'node:crypto';
import {
  CANONICAL_FINISHED_EXAMPLE,
  CANONICAL_STARTED_EXAMPLE,
  INSTALL_COMPLETE_EXAMPLE,
  LEGACY_FINISHED_EXAMPLE,
} from '@runmat-telemetry/schema';

/** The example's shape with its literal types widened, so tests can alter any field. */
type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : { -readonly [K in keyof T]: Widen<T[K]> };
type WithIds<T> = Widen<T> & { cid: string; session_id: string };

// The worker deduplicates by uuid (derived from session_id for legacy and
// installer events), so every event a test sends gets ids of its own.
function withIds<T extends object>(example: T, uuid: boolean): WithIds<T> {
  const copy = structuredClone(example) as unknown as WithIds<T> & { uuid?: string };
  copy.cid = randomUUID();
  copy.session_id = randomUUID();
  if (uuid) copy.uuid = randomUUID();
  return copy;
}

/** The docs' canonical `runtime.run.finished` example with fresh uuid, cid and session. */
export const freshCanonicalFinished = () => withIds(CANONICAL_FINISHED_EXAMPLE, true);
/** The canonical `runtime.run.started` example with fresh ids. */
export const freshCanonicalStarted = () => withIds(CANONICAL_STARTED_EXAMPLE, true);
/** The docs' legacy `runtime_finished` example (no uuid) with a fresh cid and session. */
export const freshLegacyFinished = () => withIds(LEGACY_FINISHED_EXAMPLE, false);
/** The `install_complete` example (no uuid) with a fresh cid and session. */
export const freshInstallComplete = () => withIds(INSTALL_COMPLETE_EXAMPLE, false);
