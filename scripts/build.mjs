#!/usr/bin/env node
// Builds dist/ with tsc when a source is newer than the last build (`--force`: always), and puts
// `nightshift` in node_modules/.bin for npm scripts. `npx nightshift` links this folder into npx's
// cache, which runs `prepare` (this script): it used to be a full tsc build on every first use,
// now it is a check of the sources' times.
// Plain JavaScript: it runs from `npm ci` before anything is compiled.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const stamp = join(root, "dist", ".build-stamp");
/** What the build reads: a change to any of these makes dist/ stale. */
const inputs = ["src", "package.json", "tsconfig.json", "tsconfig.build.json"];

function newestInput() {
  let newest = 0;
  const visit = (path) => {
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

function isFresh() {
  return existsSync(stamp) && newestInput() <= statSync(stamp).mtimeMs;
}

function build() {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  if (!existsSync(tsc)) {
    // `npm ci --omit=dev` in a fresh clone: the compiler is a dev dependency.
    process.stderr.write(
      "nightshift: dist/ is missing or older than src/, and TypeScript (a dev dependency) is not installed.\n" +
        "  Build with the dev dependencies, then drop them: npm ci && npm prune --omit=dev\n",
    );
    process.exit(1);
  }
  process.stderr.write("nightshift: compiling src/ to dist/ (tsc)…\n");
  const started = performance.now();
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit",
  });
  chmodSync(join(root, "dist/cli/main.js"), 0o755);
  // The dashboard's page (src/web/page) → dist/web/assets, bundled by esbuild.
  execFileSync(process.execPath, [join(root, "src/web/build-assets.mjs")], {
    cwd: root,
    stdio: "inherit",
  });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`nightshift: built dist/ in ${seconds} s\n`);
}

function linkBin() {
  const bin = join(root, "node_modules/.bin");
  if (!existsSync(join(root, "node_modules"))) return;
  mkdirSync(bin, { recursive: true });
  const link = join(bin, "nightshift");
  try {
    if (lstatSync(link)) unlinkSync(link);
  } catch {
    // not there yet
  }
  symlinkSync("../../dist/cli/main.js", link);
}

if (process.argv.includes("--force") || !isFresh()) build();
linkBin();
