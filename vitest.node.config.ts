import { defineConfig } from "vitest/config";

// Node-side tests: the provider simulator and end-to-end runs of the whole stack.
export default defineConfig({
  test: {
    include: ["test/node/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
