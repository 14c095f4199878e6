import { readFileSync } from 'node:fs';
import { markedSection, tableCells } from '@runmat-telemetry/service';
import { describe, expect, it } from 'vitest';
import { forwarderMetricCatalog, README } from '../src/docs/metric-catalog.js';

describe('README metric catalog', () => {
  it('lists every metric the forwarder exports', async () => {
    const shown = markedSection(readFileSync(README, 'utf8'), 'metrics');
    expect(
      tableCells(shown),
      'run `pnpm --filter @runmat-telemetry/udp-forwarder docs:metrics`',
    ).toEqual(tableCells(await forwarderMetricCatalog()));
  });
});
