// Rewrites the env table in README.md from the built schema (dist/config.js),
// between the env markers. `pnpm --filter @runmat-telemetry/udp-forwarder docs:env`.
import { writeEnvTable } from '@runmat-telemetry/service';
import { forwarderEnvSchema } from '../dist/config.js';

writeEnvTable(new URL('../README.md', import.meta.url), forwarderEnvSchema);
console.log('README.md env table written');
