/**
 * `node dist/memory/heap-flag.js`: prints the `--max-old-space-size=<MiB>`
 * flag for this container's memory budget (MEMORY_LIMIT_MIB, else the
 * cgroup limit, else the default), for the image's entrypoint to add to
 * NODE_OPTIONS. Prints nothing when NODE_OPTIONS already sets the old-space
 * size (an operator's choice wins). A bad MEMORY_LIMIT_MIB exits 1 naming it,
 * as the worker itself would.
 */
import { ConfigError, loadWorkerConfig, WORKER_ENV } from '../config.js';
import { oldSpaceFlag } from './memory-budget.js';

const options = process.env.NODE_OPTIONS ?? '';
if (!/--max-old-space-size[=\s]/.test(options)) {
  try {
    // Only the budget matters here: the required variables get stand-ins so
    // their absence is reported by the worker, with the rest of its config.
    const config = loadWorkerConfig({
      INGESTION_KEY: 'placeholder-key',
      POSTHOG_API_KEY: 'placeholder',
      [WORKER_ENV.memoryLimitMib]: process.env[WORKER_ENV.memoryLimitMib],
    });
    process.stdout.write(`${oldSpaceFlag(config.memory)}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
