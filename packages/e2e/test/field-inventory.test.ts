import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  clientSentPaths,
  INVENTORY_PATH,
  renderFieldInventory,
} from '../src/docs/field-inventory.js';
import { REPO_ROOT } from '../src/harness/index.js';

// Compared cell by cell: the formatter pads table columns.
const normalized = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split(/(?<!\\)\|/)
            .map((c) => c.trim().replace(/^-{3,}$/, '---'))
            .join('|')
        : line.trim(),
    )
    .filter((line) => line !== '');

describe('docs/telemetry-fields.md', () => {
  it('is what the schema and the client generate (run `pnpm --filter @runmat-telemetry/e2e docs:fields`)', async () => {
    const sent = await clientSentPaths();
    // What the client's command really puts on the wire, as a sanity check.
    expect(sent.has('finished:payload.success')).toBe(true);
    expect(sent.has('finished:payload.runtime.failure.stage')).toBe(true);
    expect(sent.has('install:method')).toBe(true);
    expect(sent.has('install:payload.timestamp_ms')).toBe(false);
    expect(sent.has('finished:payload.provider.telemetry.kernel_launches')).toBe(false);
    const onDisk = readFileSync(join(REPO_ROOT, INVENTORY_PATH), 'utf8');
    expect(normalized(onDisk)).toEqual(normalized(renderFieldInventory(sent)));
  }, 60_000);
});
