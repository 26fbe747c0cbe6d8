import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The built CLI (test/support/build-cli.ts keeps it fresh): node and the arguments to run it. */
export const CLI_PATH = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
export const CLI: string[] = [CLI_PATH];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `nightshift` CLI with NIGHTSHIFT_HOME set, and waits for it. */
export function runCli(home: string, args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], {
    env: { ...process.env, NIGHTSHIFT_HOME: home, ...env },
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
