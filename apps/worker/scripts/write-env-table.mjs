// Rewrites the env table in README.md from the built schema (dist/config.js),
// between the env markers. `pnpm --filter @runmat-telemetry/worker docs:env`.
import { writeEnvTable } from '@runmat-telemetry/service';
import { workerEnvSchema } from '../dist/config.js';

writeEnvTable(new URL('../README.md', import.meta.url), workerEnvSchema);
console.log('README.md env table written');
