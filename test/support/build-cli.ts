import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const stamp = join(root, "dist", ".build-stamp");
/** What the build reads: a change to any of these makes dist/ stale. */
const inputs = ["src", "package.json", "tsconfig.json", "tsconfig.build.json"];

/**
 * The CLI tests spawn the built `dist/cli/main.js`, as a user runs it, instead of compiling
 * TypeScript with tsx in every child (seconds each on a busy two-core machine). This builds
 * dist/ once per test run, and only when a source is newer than the last build.
 */
export function ensureBuiltCli(): void {
  if (existsSync(stamp) && newestInput() <= statSync(stamp).mtimeMs) return;
  const started = performance.now();
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "inherit" },
  );
  chmodSync(join(root, "dist/cli/main.js"), 0o755);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  process.stderr.write(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

function newestInput(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!path.endsWith(".test.ts")) {
      newest = Math.max(newest, stat.mtimeMs);
    }
  };
  for (const input of inputs) visit(join(root, input));
  return newest;
}

/** Vitest's globalSetup: once before any test file runs. */
export default function setup(): void {
  ensureBuiltCli();
}
