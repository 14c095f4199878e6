import { readFileSync } from 'node:fs';
import { markedSection, tableCells } from '@runmat-telemetry/service';
import { describe, expect, it } from 'vitest';
import { README, workerMetricCatalog } from '../src/docs/metric-catalog.js';

describe('README metric catalog', () => {
  it('lists every metric the worker exports', async () => {
    const shown = markedSection(readFileSync(README, 'utf8'), 'metrics');
    expect(tableCells(shown), 'run `pnpm --filter @runmat-telemetry/worker docs:metrics`').toEqual(
      tableCells(await workerMetricCatalog()),
    );
  });
});
