import type { Command } from "commander";
import { auditDependencies, auditJob, createAuditJob, describeProgress } from "../audit/job.js";
import { maskUrlText } from "../audit/mask.js";
import { buildReport, runToJson } from "../audit/report.js";
import { formatReport } from "../audit/report-text.js";
import { runAudit } from "../audit/run.js";
import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import { createScheduler } from "../scheduler/create-scheduler.js";
import { builtInJobs } from "../scheduler/jobs/index.js";
import type { CliContext } from "./context.js";
import { wholeNumber } from "./options.js";
import { formatTable, printJson } from "./output.js";

interface RunFlags {
  now?: boolean;
  seed?: string;
  json?: boolean;
}

export function registerAudit(program: Command, context: CliContext): void {
  const audit = program
    .command("audit")
    .description("the night shift: review the day's uncertain work with the big model");

  audit
    .command("run")
    .description(
      "start an audit by hand: through the scheduler when its conditions hold, or at once with --now (an unfinished run is resumed)",
    )
    .option("--now", "run now whatever the idle conditions")
    .option("--seed <seed>", "draw the random sample with this seed, to reproduce a run")
    .option("--json", "print the run's report as JSON at the end")
    .action(async (flags: RunFlags) => {
      const runId = flags.now ? await runNow(context, flags) : await runScheduled(context, flags);
      if (!runId) return;
      const report = await buildReport((await context.actionLedger()).audit, runId);
      if (flags.json) printJson(report);
      else process.stdout.write(`\n${formatReport(report)}\n`);
    });

  audit
    .command("list")
    .description("the audit runs, newest first")
    .option("--limit <n>", "how many", wholeNumber("--limit"), 20)
    .option("--json", "print JSON")
    .action(async ({ limit, ...flags }: { limit: number; json?: boolean }) => {
      const store = (await context.actionLedger()).audit;
      const listed = await store.listRuns(limit);
      const counts = await store.runCounts(listed.map((run) => run.id));
      const runs: Record<string, unknown>[] = listed.map((run) => ({
        ...runToJson(run),
        items: counts.get(run.id)?.items ?? 0,
        corrections: counts.get(run.id)?.corrections ?? 0,
      }));
      if (flags.json) return printJson(runs);
      if (runs.length === 0) {
        process.stdout.write("no audit has run yet; start one with `nightshift audit run --now`\n");
        return;
      }
      const table = formatTable(runs, [
        { header: "RUN", value: (r) => String(r.id) },
        { header: "STATUS", value: (r) => String(r.status) },
        { header: "STARTED", value: (r) => String(r.started_at).slice(0, 16).replace("T", " ") },
        { header: "MODE", value: (r) => String(r.mode) },
        { header: "BATCH", value: (r) => `${r.next_batch}/${r.batches}`, align: "right" },
        { header: "ITEMS", value: (r) => String(r.items), align: "right" },
        { header: "CORRECTIONS", value: (r) => String(r.corrections), align: "right" },
      ]);
      process.stdout.write(`${table}\n`);
    });

  audit
    .command("report [run]")
    .description(
      "what a run reviewed, found, changed and cost, and the confidence calibration (default: the latest run)",
    )
    .option("--json", "print JSON")
    .action(async (run: string | undefined, flags: { json?: boolean }) => {
      const report = await buildReport((await context.actionLedger()).audit, run);
      if (flags.json) printJson(report);
      else process.stdout.write(`${formatReport(report)}\n`);
    });
}

/** Progress goes to stderr, so `--json` output on stdout stays one parseable document. */
function progress(line: string): void {
  process.stderr.write(`${maskUrlText(line)}\n`);
}

async function runNow(context: CliContext, flags: RunFlags): Promise<string> {
  const { config } = context.loaded();
  const stores = await context.actionLedger();
  const baseUrl = await reviewerBaseUrl(config);
  const { deps, close } = auditDependencies(
    { stores, config, clock: context.clock() },
    baseUrl ? { baseUrl } : {},
  );
  try {
    const outcome = await runAudit(
      { ...deps, log: progress },
      { seed: flags.seed, onBatch: (p) => progress(describeProgress(p)) },
    );
    return outcome.run.id;
  } finally {
    await close();
  }
}

/** Through the scheduler: says which conditions block the audit, or runs it and waits. */
async function runScheduled(context: CliContext, flags: RunFlags): Promise<string | undefined> {
  if (flags.seed) {
    throw new NightshiftError("--seed needs --now: the scheduler draws its own seed");
  }
  const { config, home } = context.loaded();
  const stores = await context.actionLedger();
  return runThroughScheduler(stores, config, home, context);
}

async function runThroughScheduler(
  stores: LedgerStores,
  config: Config,
  home: string,
  context: CliContext,
): Promise<string | undefined> {
  const baseUrl = await reviewerBaseUrl(config);
  const job = createAuditJob({ onLog: progress, stores, ...(baseUrl ? { baseUrl } : {}) });
  const scheduler = createScheduler({
    stores,
    monitor: stores.monitor,
    config,
    home,
    clock: context.clock(),
    factories: [...builtInJobs.filter((f) => f !== auditJob), job],
    warn: progress,
  });
  const [status] = await scheduler.status("audit");
  if (status && !status.assessment.runnable) {
    progress("the audit's conditions do not hold now:");
    for (const blocker of status.assessment.blockers) progress(`  - ${blocker.message}`);
    progress("run it anyway with `nightshift audit run --now`");
    process.exitCode = 1;
    return undefined;
  }
  progress("conditions hold; running the audit through the scheduler");
  const result = await scheduler.runNow("audit");
  if (result.status === "skipped" || result.status === "failed") {
    throw new NightshiftError(`the audit ${result.status}: ${result.reason ?? "no reason given"}`);
  }
  if (result.status === "paused") {
    progress("the audit paused; it resumes where it stopped when the machine is quiet again");
  }
  return (await stores.audit.latestRun())?.id;
}

/**
 * The reviewer's calls go through the gateway, which logs them, when the daemon is up. A CLI run
 * without the daemon goes straight to the model's upstream; the runtime then logs each call
 * itself, so nothing is lost either way.
 */
async function reviewerBaseUrl(config: Config): Promise<string | undefined> {
  const role = config.models[config.audit.reviewer_role];
  if (!role || role.url || role.backend === "llamacpp") return undefined;
  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  try {
    const response = await fetch(`http://${host}:${config.server.port}/api/version`, {
      signal: AbortSignal.timeout(1000),
    });
    if (response.ok) return undefined;
  } catch {
    // No daemon: fall through to the upstream.
  }
  return upstreamFor(config, role.model);
}

function upstreamFor(config: Config, model: string): string {
  const target = config.upstreams.routes[model] ?? config.upstreams.default;
  return config.upstreams.servers[target]?.url ?? target;
}
