import { defineConfig } from 'vitest/config';

// `npm run test:e2e`: the chat page in Debian's Chromium against the whole local stack.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
