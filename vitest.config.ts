import { defineConfig } from 'vitest/config';

// One config for every brick; Nx runs it per brick with --dir <brick>.
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
