import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // CLI tests spawn the built CLI; this builds dist/ once when a source is newer.
    globalSetup: ["test/support/build-cli.ts"],
    // Native modules (better-sqlite3, node-llama-cpp) are safest in child processes, and the
    // machines have two cores: more workers only add contention.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
