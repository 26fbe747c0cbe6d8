import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import { newActionId, newTraceId } from "../ledger/ids.js";
import type {
  AuditRun,
  ClaimResult,
  LedgerStores,
  NewAuditItem,
  RunClaim,
} from "../ledger/stores/index.js";
import { RunTakenOverError } from "../ledger/stores/index.js";
import type { ReviewQueue } from "../review/queue.js";
import type { ApplyDeps } from "./apply.js";
import { applyPendingCorrections } from "./apply.js";
import { planBatches } from "./batch.js";
import { AuditRunningError, claimant, keepClaimAlive } from "./claim.js";
import { DETAIL_LEVELS, estimateTokens, readItemContext, renderItem } from "./context.js";
import type { CorrectionHandlers } from "./handlers.js";
import { maskedError, maskUrlText } from "./mask.js";
import type { Reviewer } from "./reviewer.js";
import { batchBudget, reviewBatch } from "./run-batch.js";
import { selectForAudit } from "./select.js";

export { batchBudget } from "./run-batch.js";

/**
 * One audit run, from selection to the last batch. The run's own tables are the source of truth
 * for its progress: each batch's verdicts, corrections, audit statuses, insights and the run's
 * next_batch are committed in one transaction, so a run killed at any point resumes at the first
 * batch not committed, and nothing is corrected twice.
 *
 * One run at a time across machines (claim.ts): the run is claimed in the store before any work,
 * and a second audit anywhere gets an AuditRunningError naming the run, its host and start.
 *
 * A pause takes effect between batches. When `signal` aborts, the reviewer call in flight gets
 * PAUSE_GRACE_MS to finish (a reply about to arrive is kept, so nothing is reviewed twice); a
 * longer one is cut, so the model server stops generating and the GPU is free well inside the
 * scheduler's 10 s, and the run resumes at that batch with nothing of it committed.
 */
export interface AuditDeps {
  /** The ledger of the selected engine: the action log, its appender, and the audit's tables. */
  stores: Pick<LedgerStores, "actions" | "writer" | "audit">;
  config: Config;
  clock: Clock;
  /** The reviewer for a role (normal: audit.reviewer_role; degraded: degraded_reviewer_role). */
  reviewerFor(role: string): Reviewer;
  handlers: CorrectionHandlers;
  queue: Pick<ReviewQueue, "open" | "personDecisionFor">;
  kb: Pick<KnowledgeBase, "put" | "embedPending">;
  log?(message: string): void;
  /** Recorded with the claimed run; this machine's name and process id by default. */
  host?: string;
}

export interface RunOptions {
  /** Draws the sample; random (and recorded) when absent, so any run can be reproduced. */
  seed?: string | undefined;
  mode?: "normal" | "degraded";
  shouldPause?(): boolean;
  /** Aborted by the scheduler to pause now, cutting the reviewer call in flight. */
  signal?: AbortSignal | undefined;
  /**
   * The scheduler's checkpoint, saved after each batch's commit. The run's tables stay the
   * source of truth: a checkpoint older than them only makes the resumed run skip ahead.
   */
  saveCheckpoint?(state: unknown): void | Promise<void>;
  /** Told after each batch is committed. */
  onBatch?(progress: BatchProgress): void;
  /** Told once the run is claimed (created, resumed or taken over), before any review. */
  onClaimed?(run: AuditRun): void;
}

export interface BatchProgress {
  runId: string;
  batch: number;
  batches: number;
  items: number;
  outcomes: Record<string, number>;
}

export type AuditOutcome = { status: "done"; run: AuditRun } | { status: "paused"; run: AuditRun };

const PAUSE_GRACE_MS = 3000;

export async function runAudit(deps: AuditDeps, options: RunOptions = {}): Promise<AuditOutcome> {
  const { audit } = deps.stores;
  const log = (message: string) => deps.log?.(maskUrlText(message));
  // Actions the gateway queued are part of the window; make them visible first.
  await deps.stores.writer.flush();
  const claim = claimant(deps.clock, deps.host);
  const run = await claimOrStart(deps, options, claim, log);
  options.onClaimed?.(run);
  const owner = claim().owner;
  const apply = applyDeps(deps, log);
  const cut = abortAfterGrace(options.signal, PAUSE_GRACE_MS);
  const alive = keepClaimAlive(
    audit,
    run.id,
    claim,
    () => log(`audit run ${run.id} was taken over by another process`),
    log,
  );
  let batch = run.nextBatch;
  try {
    await applyPendingCorrections(apply);
    for (; batch < run.batches; batch++) {
      if (options.shouldPause?.() || options.signal?.aborted) {
        return await pause(deps, run, owner, batch, options);
      }
      if (alive.lost) throw new RunTakenOverError(run.id, await audit.getRun(run.id));
      const commit = () => options.saveCheckpoint?.(checkpoint(run, batch + 1));
      const scope = {
        apply,
        reviewer: deps.reviewerFor(run.reviewerRole),
        run,
        owner,
        batch,
        commit,
        signal: cut.signal,
      };
      const outcomes = await reviewBatch(deps, scope);
      await applyPendingCorrections(apply);
      options.onBatch?.({ runId: run.id, batch: batch + 1, batches: run.batches, ...outcomes });
    }
  } catch (error) {
    if (error instanceof RunTakenOverError) throw error;
    if (options.signal?.aborted) return pause(deps, run, owner, batch, options);
    await audit.releaseRun(run.id, owner, "failed", maskUrlText(describeError(error)));
    throw maskedError(error);
  } finally {
    alive.stop();
    cut.dispose();
  }
  await audit.finishRun(run.id, owner, deps.clock.now());
  await embedPatterns(deps, log);
  await deps.stores.writer.flush();
  return { status: "done", run: (await audit.getRun(run.id))! };
}

/** Resumes this ledger's unfinished run, or selects and creates a new one; refuses when busy. */
async function claimOrStart(
  deps: AuditDeps,
  options: RunOptions,
  claim: () => RunClaim,
  log: (message: string) => void,
): Promise<AuditRun> {
  let claimed: ClaimResult = await deps.stores.audit.claimRun(claim());
  if (claimed.kind === "none") claimed = await startRun(deps, options, claim);
  if (claimed.kind === "busy") throw new AuditRunningError(claimed.run);
  if (claimed.kind === "none") throw new Error("createRun claimed nothing"); // never: it creates
  const { run } = claimed;
  if (claimed.kind === "created") {
    const items = (await deps.stores.audit.runItems(run.id)).length;
    log(`audit run ${run.id}: ${items} item(s) in ${run.batches} batch(es)`);
  } else {
    const from = claimed.takenOver
      ? ` (taken over from ${run.host ?? "a process"} that stopped answering)`
      : "";
    log(`resuming audit run ${run.id} at batch ${run.nextBatch + 1} of ${run.batches}${from}`);
  }
  return run;
}

async function startRun(
  deps: AuditDeps,
  options: RunOptions,
  claim: () => RunClaim,
): Promise<ClaimResult> {
  const { config, clock } = deps;
  const mode = options.mode ?? "normal";
  const role =
    mode === "degraded" ? config.audit.degraded_reviewer_role : config.audit.reviewer_role;
  const reviewer = deps.reviewerFor(role);
  const now = clock.now();
  const seed = options.seed ?? randomBytes(8).toString("hex");
  const windowStart = now - config.audit.lookback_days * 86_400_000;
  const selection = await selectForAudit(deps.stores.audit, {
    since: windowStart,
    until: now,
    seed,
    sampleRate: config.audit.sample_rate,
  });
  const windowMs = config.audit.cross_agent_window_min * 60_000;
  const sizes = new Map<string, number[]>();
  for (const item of selection.items) {
    const action = await deps.stores.actions.get(item.actionId);
    if (!action) continue;
    const context = await readItemContext(deps.stores.actions, action, windowMs);
    sizes.set(
      item.actionId,
      DETAIL_LEVELS.map((_, level) => estimateTokens(renderItem(context, level).text)),
    );
  }
  const cost = (item: { actionId: string }, level: number) =>
    sizes.get(item.actionId)?.[level] ?? 0;
  const budget = batchBudget(config, reviewer.contextWindow);
  const { planned, batches } = planBatches(selection.items, budget, cost, windowMs);
  const items: NewAuditItem[] = planned.map(({ item, batch }) => ({
    actionId: item.actionId,
    agent: item.agent,
    reason: item.reason,
    batch,
    startedAt: item.startedAt,
    confidenceBefore: item.confidence,
  }));
  const run = {
    id: newActionId(now),
    seed,
    traceId: newTraceId(),
    mode,
    reviewerRole: role,
    reviewerModel: reviewer.model,
    windowStart,
    windowEnd: now,
    sampleRate: config.audit.sample_rate,
    batches,
    startedAt: now,
  };
  return deps.stores.audit.createRun(run, items, claim());
}

/**
 * Gives tonight's patterns their vectors (when an embedder is configured), so tomorrow's
 * similarity search finds them too. Best effort: full-text search finds them meanwhile, and a
 * later run or `kb reindex` embeds whatever is left.
 */
async function embedPatterns(deps: AuditDeps, log: (message: string) => void): Promise<void> {
  try {
    const embedded = await deps.kb.embedPending();
    if (embedded > 0) log(`embedded ${embedded} knowledge entr${embedded === 1 ? "y" : "ies"}`);
  } catch (error) {
    log(
      `knowledge entries not embedded now (full-text search still finds them): ${describeError(error)}`,
    );
  }
}

/** A signal that aborts `graceMs` after `outer` does. */
function abortAfterGrace(outer: AbortSignal | undefined, graceMs: number) {
  if (!outer) return { signal: undefined, dispose: () => {} };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => controller.abort(outer.reason), graceMs);
  };
  if (outer.aborted) onAbort();
  else outer.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      outer.removeEventListener("abort", onAbort);
    },
  };
}

async function pause(
  deps: AuditDeps,
  run: AuditRun,
  owner: string,
  batch: number,
  options: RunOptions,
): Promise<AuditOutcome> {
  await deps.stores.audit.releaseRun(run.id, owner, "paused");
  await options.saveCheckpoint?.(checkpoint(run, batch));
  return { status: "paused", run: (await deps.stores.audit.getRun(run.id))! };
}

/** The selection itself is the run's audit_items rows; the checkpoint names it and the position. */
function checkpoint(run: AuditRun, nextBatch: number) {
  return {
    run_id: run.id,
    seed: run.seed,
    window_start: run.windowStart,
    window_end: run.windowEnd,
    batches: run.batches,
    next_batch: nextBatch,
  };
}

function applyDeps(deps: AuditDeps, log: (m: string) => void): ApplyDeps {
  return {
    audit: deps.stores.audit,
    actions: deps.stores.actions,
    queue: deps.queue,
    kb: deps.kb,
    handlers: deps.handlers,
    clock: deps.clock,
    applyConfidence: deps.config.audit.apply_confidence,
    log,
  };
}
