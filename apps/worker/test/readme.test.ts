import { readFileSync } from 'node:fs';
import { betweenMarkers, markdownTableCells } from '@runmat-telemetry/delivery';
import { describe, expect, it } from 'vitest';
import { README, workerMetricCatalog } from '../src/docs/metric-catalog.js';

describe('README metric catalog', () => {
  it('lists every metric the worker exports', async () => {
    const shown = betweenMarkers(readFileSync(README, 'utf8'), 'metrics');
    expect(
      markdownTableCells(shown),
      'run `pnpm --filter @runmat-telemetry/worker docs:metrics`',
    ).toEqual(markdownTableCells(await workerMetricCatalog()));
  });
});
