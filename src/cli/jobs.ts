import type { Command } from "commander";
import { NightshiftError } from "../errors.js";
import type { DecisionRecord, JobRun } from "../ledger/stores/index.js";
import { createScheduler } from "../scheduler/create-scheduler.js";
import type { RunResult } from "../scheduler/run-job.js";
import type { JobStatus, Scheduler } from "../scheduler/scheduler.js";
import { decisionToJson, resultToJson, statusToJson } from "../views/jobs.js";
import type { CliContext } from "./context.js";
import { formatLocalTime, formatTable, printJson } from "./output.js";

export function registerJobs(program: Command, context: CliContext): void {
  const scheduler = async (): Promise<Scheduler> => {
    const { config, home } = context.loaded();
    const stores = await context.actionLedger();
    const clock = context.clock();
    return createScheduler({
      stores,
      monitor: stores.monitor,
      config,
      home,
      clock,
    });
  };
  const jobs = program
    .command("jobs")
    .description("background jobs: whether each could run now, what blocks it, its last runs")
    .option("--json", "print as JSON")
    .action(async (flags: { json?: boolean }) => {
      const statuses = await (await scheduler()).status();
      const decisions = await (await context.actionLedger()).scheduler.decisions(null, 15);
      if (flags.json) {
        return printJson({
          jobs: statuses.map(statusToJson),
          decisions: decisions.map(decisionToJson),
        });
      }
      process.stdout.write(
        `${[...statuses.map((s) => describeStatus(s, context.clock().now())), describeDecisions(decisions)].join("\n\n")}\n`,
      );
    });

  jobs
    .command("run <name>")
    .description("run one job now, in this process; it takes the GPU lease like the daemon would")
    .option("--force", "skip the job's conditions (idle gate, interval, backlog, quiet window)")
    .option("--json", "print the result as JSON")
    .action(async (name: string, flags: { force?: boolean; json?: boolean }) => {
      const instance = await scheduler();
      // Ctrl-C pauses at the next checkpoint, releasing the GPU, instead of dying mid-item.
      const onSignal = () => void instance.stop("interrupted from the terminal");
      process.once("SIGINT", onSignal);
      let result: RunResult;
      try {
        result = await instance.runNow(name, { force: flags.force ?? false });
      } finally {
        process.off("SIGINT", onSignal);
      }
      if (flags.json) printJson(resultToJson(result));
      else process.stdout.write(`${describeResult(result)}\n`);
      if (result.status === "skipped") {
        throw new NightshiftError(`${name} not run: ${result.reason} (--force runs it anyway)`);
      }
      if (result.status === "failed") throw new NightshiftError(`${name} failed: ${result.reason}`);
    });
}

function describeStatus(status: JobStatus, now: number): string {
  const { assessment: a } = status;
  const lines = [`${status.name} — ${status.description}`];
  if (status.running) {
    lines.push(
      `  running since ${formatLocalTime(status.running.startedAt)} (run ${status.running.runId})`,
    );
  } else if (a.runnable) {
    lines.push(
      `  could run now: yes${a.mode === "degraded" ? " (degraded mode: due too long)" : ""}`,
    );
  } else {
    lines.push("  could run now: no");
  }
  for (const blocker of a.blockers) lines.push(`    · ${blocker.message}`);
  if (a.dueSince !== null) lines.push(`  due since ${formatLocalTime(a.dueSince)}`);
  if (status.running && status.running.holder !== "") {
    lines.push(`  on ${status.running.holder}`);
  }
  if (status.lease && status.lease.expiresAt > now) {
    lines.push(
      `  GPU ${status.lease.gpu} leased by ${status.lease.holder} until ${formatLocalTime(status.lease.expiresAt)}`,
    );
  }
  if (status.lastRuns.length === 0) lines.push("  no runs yet");
  for (const run of status.lastRuns) lines.push(`  ${describeRun(run)}`);
  return lines.join("\n");
}

function describeRun(run: JobRun): string {
  const end = run.finishedAt ? ` → ${formatLocalTime(run.finishedAt)}` : "";
  const extra = run.error ?? run.lastLog ?? "";
  const mode = run.mode === "degraded" ? " degraded" : "";
  return `${formatLocalTime(run.startedAt)}${end}  ${run.status}${mode}${run.attempts > 1 ? ` (${run.attempts} attempts)` : ""}${extra ? `  ${extra}` : ""}`;
}

function describeDecisions(decisions: DecisionRecord[]): string {
  if (decisions.length === 0) return "no decisions recorded yet";
  const table = formatTable(decisions, [
    { header: "WHEN", value: (d) => formatLocalTime(d.at) },
    { header: "JOB", value: (d) => d.job },
    { header: "DECISION", value: (d) => d.decision },
    { header: "REASON", value: (d) => d.reason, max: 100 },
  ]);
  return `recent decisions:\n${table}`;
}

function describeResult(result: RunResult): string {
  const timing =
    result.pauseToReleaseMs === undefined
      ? ""
      : ` (GPU released ${Math.round(result.pauseToReleaseMs)} ms after the pause)`;
  const reason = result.reason ? `: ${result.reason}` : "";
  const summary = result.summary ? ` ${JSON.stringify(result.summary)}` : "";
  return `${result.job} ${result.status}${result.mode === "degraded" ? " (degraded)" : ""}${reason}${summary}${timing}`;
}
