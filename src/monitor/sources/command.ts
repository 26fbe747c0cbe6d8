import { spawn } from "node:child_process";

export type CommandResult =
  | { kind: "ok"; stdout: string }
  | { kind: "missing" }
  | { kind: "timeout" }
  | { kind: "failed"; message: string };

/**
 * Runs a status tool (nvidia-smi, rocm-smi, loginctl) with a hard deadline. On timeout the
 * answer comes at once and the whole process group is killed: waiting for the pipes to close
 * would wait on whatever grandchild still holds them, which is how a hung tool stalls a sampler.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CommandResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: CommandResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const child = spawn(file, args, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      finish({ kind: "timeout" });
    }, timeoutMs);
    child.on("error", (error: NodeJS.ErrnoException) => {
      finish(
        error.code === "ENOENT" ? { kind: "missing" } : { kind: "failed", message: error.message },
      );
    });
    child.on("close", (code, signal) => {
      if (code === 0) return finish({ kind: "ok", stdout: Buffer.concat(out).toString("utf8") });
      const stderr = Buffer.concat(err).toString("utf8").trim().split("\n")[0] ?? "";
      finish({
        kind: "failed",
        message: `${file} exited with ${signal ?? `code ${code}`}${stderr ? `: ${stderr}` : ""}`,
      });
    });
    // The deadline must not keep a finishing daemon alive.
    child.unref();
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
