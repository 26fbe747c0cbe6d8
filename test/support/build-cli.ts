import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url));

/**
 * The CLI tests spawn the built `dist/cli/main.js`, as a user runs it, instead of compiling
 * TypeScript with tsx in every child (seconds each on a busy two-core machine). This builds
 * dist/ once per test run, and only when a source is newer than the last build.
 */
export function ensureBuiltCli(): void {
  execFileSync(process.execPath, [script], { stdio: "inherit" });
}

/** Vitest's globalSetup: once before any test file runs. */
export default function setup(): void {
  ensureBuiltCli();
}
