/**
 * `node dist/memory/heap-flag.js`: prints the V8 flags for this container's
 * memory budget (MEMORY_LIMIT_MIB, else the cgroup limit, else the default)
 * for the image's entrypoint to append to NODE_OPTIONS: `--max-old-space-size`
 * (half the budget; left out when NODE_OPTIONS sets it, an operator's choice)
 * and, under a 512 MiB budget, a smaller `--max-semi-space-size` than the
 * image's 32. A bad MEMORY_LIMIT_MIB exits 1 naming it, as the worker would.
 */
import { ConfigError, loadWorkerConfig, WORKER_ENV } from '../config.js';
import { heapFlags } from './memory-budget.js';

try {
  // Only the budget matters here: the required variables get stand-ins so
  // their absence is reported by the worker, with the rest of its config.
  const config = loadWorkerConfig({
    INGESTION_KEY: 'placeholder-key',
    POSTHOG_API_KEY: 'placeholder',
    [WORKER_ENV.memoryLimitMib]: process.env[WORKER_ENV.memoryLimitMib],
  });
  const flags = heapFlags(config.memory, process.env.NODE_OPTIONS ?? '');
  if (flags.length > 0) process.stdout.write(`${flags.join(' ')}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}
