import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // CLI tests spawn the built CLI and the dashboard's tests load its built page: dist/ (with
    // dist/web/assets) is built once, before any file runs, when a source is newer; a file that
    // rebuilt the page itself would delete it under another file's browser. The PostgreSQL
    // ledger's tests share one throwaway cluster per run.
    globalSetup: ["test/support/build-cli.ts", "test/support/postgres-setup.ts"],
    // Native modules (better-sqlite3, node-llama-cpp) are safest in child processes, and the
    // machines have two cores: more workers only add contention.
    pool: "forks",
    maxWorkers: 2,
    // One child per worker for all its files instead of a fresh one per file: each fresh child
    // paid ~0.8 s of CPU to start and import vitest and the app's modules again. The files share
    // no module state they depend on; environment stubs are undone after each test.
    isolate: false,
    unstubEnvs: true,
    // Generous: a shared two-core machine under another CPU-heavy load runs a real prune or a
    // spawned CLI many times slower; the timeout is there to catch a hang, not to time the work.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
