import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // One throwaway PostgreSQL cluster per run for the tests of the PostgreSQL ledger.
    globalSetup: ["test/support/postgres-setup.ts"],
    // Native modules (better-sqlite3, node-llama-cpp) are safest in child processes, and the
    // machines have two cores: more workers only add contention.
    pool: "forks",
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
