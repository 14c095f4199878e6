// Totals the Vitest JSON reports every package writes to test-results/vitest.json.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
const reports = [];
for (const root of ['packages', 'apps', '.']) {
  const dirs = root === '.' ? ['infra'] : readdirSync(root).map((d) => join(root, d));
  for (const dir of dirs) {
    const file = join(dir, 'test-results', 'vitest.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    reports.push(`${dir}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  }
}
for (const line of reports) console.log(line);
if (reports.length === 0) console.log('no test reports found');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
