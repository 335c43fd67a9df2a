import { defineConfig } from 'vitest/config';

// `npm test`: everything that needs no browser. Integration tests start real servers on port 0.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
