import { spawn, spawnSync } from "node:child_process";
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

/**
 * The same without blocking this process: needed when the CLI talks to a server this process
 * serves (a scripted upstream), which a blocked event loop could not answer.
 */
export function runCliAsync(
  home: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      env: { ...process.env, NIGHTSHIFT_HOME: home, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
