import { debuglog } from 'node:util';
import type { EnvLike } from '../config/opt-outs.js';
import { isTruthyEnv } from '../config/opt-outs.js';
import type { DebugLog } from '../transport/transport.js';

/**
 * The default debug logger: silent unless `NODE_DEBUG=runmat-telemetry` or
 * `RUNMAT_TELEMETRY_DEBUG=1`, so delivery problems never show up in a user's
 * normal output.
 */
export function defaultDebugLog(env: EnvLike): DebugLog {
  if (isTruthyEnv(env.RUNMAT_TELEMETRY_DEBUG)) {
    return (message, fields) => {
      process.stderr.write(
        `[runmat telemetry debug] ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`,
      );
    };
  }
  const log = debuglog('runmat-telemetry');
  if (!log.enabled) return () => {};
  return (message, fields) => log('%s %j', message, fields ?? {});
}
