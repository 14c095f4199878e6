/** `pnpm --filter @runmat-telemetry/e2e docs:fields`: rewrites docs/telemetry-fields.md. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/repo-paths.js';
import { clientSentPaths, INVENTORY_PATH, renderFieldInventory } from './field-inventory.js';

const text = renderFieldInventory(await clientSentPaths());
writeFileSync(join(REPO_ROOT, INVENTORY_PATH), text);
console.log(`${INVENTORY_PATH} written`);
