import { runProgram } from "../../src/cli/program.js";
import type { CliResult } from "./cli.js";

/**
 * Runs a `nightshift` command line in this process, through the same `runProgram` as
 * dist/cli/main.js, with NIGHTSHIFT_HOME and `env` set for the call and stdout, stderr and the
 * exit code captured. A spawned CLI pays Node's start-up and every module's load per call (about
 * half a CPU-second on these machines); here the modules load once per test worker. Tests of
 * what only a real process shows (exit on a closed pipe, two processes at once, start-up itself)
 * spawn the built CLI instead (./cli.ts).
 *
 * Calls must not overlap: stdout, stderr and the environment are the process's own. Vitest runs
 * a file's tests one after another, and one file at a time per worker.
 */
export async function runCliInProcess(
  home: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<CliResult> {
  if (active) throw new Error("runCliInProcess: a command is already running in this process");
  active = true;
  const restoreEnv = setEnv({ NIGHTSHIFT_HOME: home, ...env });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const restoreOut = capture(process.stdout, stdout);
  const restoreErr = capture(process.stderr, stderr);
  const exit = process.exit;
  const exitCodeBefore = process.exitCode;
  process.exitCode = undefined;
  // Commander exits the process on a usage error; here that ends the command, not the worker.
  process.exit = ((code?: number | string | null) => {
    throw new ProcessExit(Number(code ?? process.exitCode ?? 0));
  }) as typeof process.exit;
  let code: number;
  try {
    code = await runProgram(["node", "nightshift", ...args]);
  } catch (error) {
    if (!(error instanceof ProcessExit)) throw error;
    code = error.code;
  } finally {
    process.exit = exit;
    process.exitCode = exitCodeBefore;
    restoreErr();
    restoreOut();
    restoreEnv();
    active = false;
  }
  return { code, stdout: stdout.join(""), stderr: stderr.join("") };
}

let active = false;

class ProcessExit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

function setEnv(values: Record<string, string | undefined>): () => void {
  const before = new Map(Object.keys(values).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return () => {
    for (const [key, value] of before) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

function capture(stream: NodeJS.WriteStream, into: string[]): () => void {
  const write = stream.write;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    into.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
  return () => {
    stream.write = write;
  };
}
