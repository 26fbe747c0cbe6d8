import { assembleApp } from "../app.js";
import type { LedgerStores } from "../ledger/stores/index.js";
import { Runtime } from "../runtime/runtime.js";
import type { JobDependencies, JobFactory } from "../scheduler/job.js";
import type { CorrectionHandlers } from "./handlers.js";
import { reportSummary } from "./report.js";
import { runtimeReviewer } from "./reviewer.js";
import { type AuditDeps, type BatchProgress, type RunOptions, runAudit } from "./run.js";
import { AUDITOR_AGENT } from "./select.js";

/**
 * The audit as a scheduler job: runs when the machine is idle, at most every 12 h, once at least
 * 100 actions of the last days wait; checkpoints after every batch and stops at the next batch
 * boundary when the scheduler asks it to pause.
 */
export interface AuditJobOptions {
  /**
   * The agents' correction handlers; every registered agent's (src/review/agent-handlers.ts) by
   * default. An agent's corrections wait, recorded, until it has one.
   */
  handlers?: CorrectionHandlers;
  /** Where HTTP reviewer roles without a url are sent; the gateway by default, which logs them. */
  baseUrl?: string;
  /** Also told each progress line (the CLI prints them); the scheduler records them either way. */
  onLog?: (line: string) => void;
  /** The ledger of the selected engine; the scheduler's `stores` by default. */
  stores?: LedgerStores;
}

/** What the audit takes from the scheduler: the ledger's stores, the config and the clock. */
export type AuditJobDependencies = Pick<JobDependencies, "stores" | "config" | "clock">;

function storesFor(dependencies: AuditJobDependencies, options: AuditJobOptions): LedgerStores {
  return options.stores ?? dependencies.stores;
}

export function createAuditJob(options: AuditJobOptions = {}): JobFactory {
  return (dependencies: JobDependencies) => {
    const { config } = dependencies;
    const stores = storesFor(dependencies, options);
    const modelOf = (role: string) => config.models[role]?.model;
    const models = [modelOf(config.audit.reviewer_role)].filter((m) => m !== undefined);
    const degradedModels = [modelOf(config.audit.degraded_reviewer_role)].filter(
      (m) => m !== undefined,
    );
    const gpu = config.models[config.audit.reviewer_role]?.gpu;
    return {
      name: "audit",
      description: "reviews the day's flagged and sampled work with the big model",
      defaults: {
        requiresIdle: true,
        quietWindowOnly: false,
        minIntervalH: config.audit.min_interval_h,
        minBacklog: config.audit.min_backlog,
        ...(gpu === undefined ? {} : { gpu }),
        models,
        degradedModels,
      },
      backlog: async (now: number) => ({
        count: await stores.audit.unauditedCount(
          now - config.audit.lookback_days * 86_400_000,
          AUDITOR_AGENT,
        ),
      }),
      run: async (context) => {
        const { deps, close } = auditDependencies({ ...dependencies, stores }, options);
        const log = (line: string) => {
          context.log(line);
          options.onLog?.(line);
        };
        try {
          const outcome = await runAudit({ ...deps, log }, {
            mode: context.mode,
            shouldPause: () => context.shouldPause(),
            signal: context.signal,
            saveCheckpoint: async (state) => {
              await context.saveCheckpoint(state);
            },
            onBatch: (p) => log(describeProgress(p)),
          } satisfies RunOptions);
          if (outcome.status === "paused") return { status: "paused" };
          return { status: "done", summary: await reportSummary(stores.audit, outcome.run.id) };
        } finally {
          await close();
        }
      },
    };
  };
}

export const auditJob: JobFactory = createAuditJob();

/**
 * The parts a run needs, built over the selected ledger; `close` commits the reviewer's queued
 * actions and releases its models.
 */
export function auditDependencies(
  dependencies: AuditJobDependencies,
  options: AuditJobOptions = {},
): { deps: AuditDeps; close: () => Promise<void> } {
  const { config, clock } = dependencies;
  const stores = storesFor(dependencies, options);
  const { kb, handlers, review } = assembleApp(stores, config, {
    clock,
    ...(options.handlers ? { handlers: options.handlers } : {}),
  });
  // The reviewer's stages land where the audit reads them back (its report's token totals): the
  // selected ledger, PostgreSQL included.
  const runtime = new Runtime({
    config,
    ledger: stores,
    knowledge: kb,
    clock,
    baseUrl: options.baseUrl,
  });
  const deps: AuditDeps = {
    stores,
    config,
    clock,
    reviewerFor: (role) => runtimeReviewer(runtime, config, role),
    handlers,
    queue: review,
    kb,
  };
  return { deps, close: () => runtime.close() };
}

/** "batch 2/5: 16 items (3 corrected, 12 verified, 1 in_review)" */
export function describeProgress(p: BatchProgress): string {
  const parts = Object.entries(p.outcomes).map(([k, v]) => `${v} ${k}`);
  return `batch ${p.batch}/${p.batches}: ${p.items} items${parts.length ? ` (${parts.join(", ")})` : ""}`;
}
