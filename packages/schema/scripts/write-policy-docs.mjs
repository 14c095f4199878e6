// Rewrites the field-policy table in README.md from the built policy
// (dist/field-policy.js), between the field-policy markers.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderFieldPolicyTable } from '../dist/field-policy.js';

const url = new URL('../README.md', import.meta.url);
const readme = readFileSync(url, 'utf8');
const start = '<!-- field-policy:start -->';
const end = '<!-- field-policy:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md has no field-policy markers');
writeFileSync(
  url,
  `${readme.slice(0, a + start.length)}\n${renderFieldPolicyTable()}\n${readme.slice(b)}`,
);
console.log('README.md field policy table written');
