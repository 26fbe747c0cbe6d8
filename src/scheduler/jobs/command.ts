import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Config, JobConfig } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import type { JobContext, JobDefinition, JobOutcome } from "../job.js";

/**
 * The user's own jobs: `scheduler.jobs.NAME.command` in nightshift.yaml, run through /bin/sh at
 * the lowest CPU and I/O priority available (nice 19, ionice idle class). A command has no
 * checkpoints of its own, so a paused command is stopped (SIGTERM to its process group, SIGKILL
 * after 5 s) and started again from the beginning next time: commands should be idempotent.
 */
export function commandJobs(config: Config): JobDefinition[] {
  return Object.entries(config.scheduler.jobs)
    .filter(([, job]) => job.command !== undefined)
    .map(([name, job]) => commandJob(name, job));
}

export function commandJob(name: string, job: JobConfig): JobDefinition {
  const command = job.command;
  if (!command) throw new NightshiftError(`scheduler.jobs.${name}: a user job needs a command`);
  return {
    name,
    description: `command: ${command}`,
    defaults: {
      requiresIdle: true,
      quietWindowOnly: false,
      minIntervalH: 24,
      minBacklog: 0,
      ...(job.gpu === undefined ? {} : { gpu: job.gpu }),
      ...(job.vram_mb === undefined ? {} : { vramMb: job.vram_mb }),
      ...(job.models ? { models: job.models } : {}),
    },
    run: (context) => runCommand(name, command, context),
  };
}

/**
 * The argv prefix that lowers a command's priority, using what this machine has. Under the user
 * unit `nightshift service install --user` writes, the command also runs in the job slice (a
 * scope under nightshift-jobs.slice, at a fifth of the CPU and I/O weight).
 */
export function lowPriorityPrefix(
  exists: (path: string) => boolean = existsSync,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const prefix: string[] = [];
  const slice = env.NIGHTSHIFT_JOB_SLICE;
  if (slice && env.NIGHTSHIFT_SYSTEMD_MODE === "user" && exists("/usr/bin/systemd-run")) {
    prefix.push("systemd-run", "--user", "--scope", "--quiet", `--slice=${slice}`);
  }
  if (exists("/usr/bin/nice") || exists("/bin/nice")) prefix.push("nice", "-n", "19");
  if (exists("/usr/bin/ionice") || exists("/bin/ionice")) prefix.push("ionice", "-c", "3");
  return prefix;
}

function runCommand(name: string, command: string, context: JobContext): Promise<JobOutcome> {
  const argv = [...lowPriorityPrefix(), "/bin/sh", "-c", command];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NIGHTSHIFT_JOB: name,
    NIGHTSHIFT_RUN_ID: context.runId,
    NIGHTSHIFT_MODE: context.mode,
  };
  if (context.gpu !== null) {
    env.NIGHTSHIFT_GPU = String(context.gpu);
    env.CUDA_VISIBLE_DEVICES = String(context.gpu);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString("utf8")).slice(-2000);
      const last = tail.trimEnd().split("\n").at(-1);
      if (last) context.log(last);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const stop = () => killGroup(child.pid);
    context.signal.addEventListener("abort", stop, { once: true });
    child.on("error", (error) =>
      reject(new NightshiftError(`${name}: cannot run ${argv[0]}: ${error.message}`)),
    );
    child.on("close", (code, signal) => {
      context.signal.removeEventListener("abort", stop);
      if (context.shouldPause()) return resolve({ status: "paused" });
      if (code === 0) return resolve({ status: "done", summary: { exit_code: 0 } });
      const how = signal ? `was killed by ${signal}` : `exited with ${code}`;
      reject(
        new NightshiftError(
          `${name}: \`${command}\` ${how}: ${tail.trim().split("\n").at(-1) ?? ""}`,
        ),
      );
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    return;
  }
  setTimeout(() => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }, 5000).unref();
}
