/**
 * `pnpm --filter @runmat-telemetry/e2e docs:architecture`: rewrites the
 * generated sections of docs/architecture.md; the prose between them stays.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/repo-paths.js';
import { ARCHITECTURE_PATH, renderSections, spliceSections } from './architecture-doc.js';

const path = join(REPO_ROOT, ARCHITECTURE_PATH);
writeFileSync(path, spliceSections(readFileSync(path, 'utf8'), await renderSections()));
console.log(`${ARCHITECTURE_PATH} generated sections written`);
