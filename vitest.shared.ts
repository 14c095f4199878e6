import { defineConfig } from 'vitest/config';

// Every package writes a JSON report so .ci/run can total passed/failed tests
// across the whole turbo run.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
