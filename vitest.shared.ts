import { defineConfig } from 'vitest/config';

// Every package writes a JSON report so .ci/run can total passed/failed tests
// across the whole turbo run.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // expect.poll is how tests wait for real processes and sockets (never a
    // sleep or a hand-written loop): a deadline that a loaded two-core CI
    // machine meets, polled often enough to keep the passing case fast.
    expect: { poll: { timeout: 10_000, interval: 20 } },
  },
});
