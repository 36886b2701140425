import { defineConfig } from 'vitest/config';

// A config of its own, so vitest never adopts one from a folder above this service (a
// monorepo's, say) and looks for this service's tests only.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
  },
});
