import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempHome } from "../support/temp-ledger.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** What `npm ci` in this folder is set to do, as npm itself reads the project's .npmrc. */
function npmConfig(key: string): string {
  // Empty user and global config files: the machine's own npm settings must not decide this.
  const { home, cleanup } = tempHome();
  try {
    for (const name of ["user", "global"]) writeFileSync(join(home, name), "");
    return execFileSync("npm", ["config", "get", key], {
      cwd: ROOT,
      encoding: "utf8",
      env: {
        // Under `npm test`, npm passes its settings down as npm_config_* variables: only the
        // project's .npmrc may answer here.
        ...Object.fromEntries(
          Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)),
        ),
        npm_config_userconfig: join(home, "user"),
        npm_config_globalconfig: join(home, "global"),
      },
    }).trim();
  } finally {
    cleanup();
  }
}

describe("the install README.md promises", () => {
  it("shows install scripts as they run (better-sqlite3 compiling, the build), not a silent minute", () => {
    expect(npmConfig("foreground-scripts")).toBe("true");
  });

  it("keeps TypeScript out of a production install (node-llama-cpp names it an optional peer)", () => {
    expect(npmConfig("legacy-peer-deps")).toBe("true");
  });
});
