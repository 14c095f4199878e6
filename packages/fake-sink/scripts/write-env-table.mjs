// Rewrites the env table in README.md from the built schema (dist/config.js),
// between the env markers. `pnpm --filter @runmat-telemetry/fake-sink docs:env`.
import { writeEnvTable } from '@runmat-telemetry/service';
import { sinkEnvSchema } from '../dist/config.js';

writeEnvTable(new URL('../README.md', import.meta.url), sinkEnvSchema);
console.log('README.md env table written');
