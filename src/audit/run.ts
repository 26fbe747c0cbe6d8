import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { describeError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import { type AuditRun, AuditStore, type NewAuditItem } from "../ledger/audit-store.js";
import { newActionId, newTraceId } from "../ledger/ids.js";
import type { Ledger } from "../ledger/ledger.js";
import type { ReviewQueue } from "../review/queue.js";
import { type ApplyDeps, applyPendingCorrections, applyVerdict } from "./apply.js";
import { availableTokens, type BatchBudget, planBatches } from "./batch.js";
import { DETAIL_LEVELS, estimateTokens, type ItemView, renderItem } from "./context.js";
import type { CorrectionHandlers } from "./handlers.js";
import { buildReviewPrompt, REVIEWER_SYSTEM, readVerdicts } from "./review.js";
import type { Reviewer } from "./reviewer.js";
import { selectForAudit } from "./select.js";

/**
 * One audit run, from selection to the last batch. The run's own tables are the source of truth
 * for its progress: each batch's verdicts, corrections, review items, patterns and the run's
 * next_batch are committed in one transaction, so a run killed at any point resumes at the first
 * batch not committed, and nothing is reviewed or corrected twice.
 *
 * A pause takes effect between batches. When `signal` aborts, the reviewer call in flight gets
 * PAUSE_GRACE_MS to finish (a reply about to arrive is kept, so nothing is reviewed twice); a
 * longer one is cut, so the model server stops generating and the GPU is free well inside the
 * scheduler's 10 s, and the run resumes at that batch with nothing of it committed.
 */
export interface AuditDeps {
  ledger: Ledger;
  config: Config;
  clock: Clock;
  /** The reviewer for a role (normal: audit.reviewer_role; degraded: degraded_reviewer_role). */
  reviewerFor(role: string): Reviewer;
  handlers: CorrectionHandlers;
  queue: ReviewQueue;
  kb: KnowledgeBase;
  log?(message: string): void;
}

export interface RunOptions {
  /** Draws the sample; random (and recorded) when absent, so any run can be reproduced. */
  seed?: string | undefined;
  mode?: "normal" | "degraded";
  shouldPause?(): boolean;
  /** Aborted by the scheduler to pause now, cutting the reviewer call in flight. */
  signal?: AbortSignal | undefined;
  /**
   * The scheduler's checkpoint, saved inside the batch's transaction when it writes to the same
   * database (it does), so the batch's results and the checkpoint land together or not at all.
   */
  saveCheckpoint?(state: unknown): void;
  /** Told after each batch is committed. */
  onBatch?(progress: BatchProgress): void;
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

/** Room per item for its verdict in the reply, and for the reply's insights. */
const REPLY_PER_ITEM = 200;
const REPLY_RESERVE = 512;

export async function runAudit(deps: AuditDeps, options: RunOptions = {}): Promise<AuditOutcome> {
  const audit = new AuditStore(deps.ledger.db);
  const log = deps.log ?? (() => {});
  // Actions the gateway queued are part of the window; make them visible first.
  deps.ledger.writer.flush();
  let run = audit.unfinishedRun();
  if (run) {
    log(`resuming audit run ${run.id} at batch ${run.nextBatch + 1} of ${run.batches}`);
    audit.setRunStatus(run.id, "running");
  } else {
    run = startRun(deps, audit, options);
    log(
      `audit run ${run.id}: ${audit.runItems(run.id).length} item(s) in ${run.batches} batch(es)`,
    );
  }
  const reviewer = deps.reviewerFor(run.reviewerRole);
  const apply = applyDeps(deps, audit, log);
  await applyPendingCorrections(apply);
  let batch = run.nextBatch;
  const cut = abortAfterGrace(options.signal, PAUSE_GRACE_MS);
  try {
    for (; batch < run.batches; batch++) {
      if (options.shouldPause?.() || options.signal?.aborted)
        return pause(audit, run, batch, options);
      const commit = () => options.saveCheckpoint?.(checkpoint(run, batch + 1));
      const scope = { audit, apply, reviewer, run, batch, commit, signal: cut.signal };
      const outcomes = await reviewBatch(deps, scope);
      await applyPendingCorrections(apply);
      options.onBatch?.({ runId: run.id, batch: batch + 1, batches: run.batches, ...outcomes });
    }
  } catch (error) {
    if (options.signal?.aborted) return pause(audit, run, batch, options);
    audit.setRunStatus(run.id, "failed", describeError(error));
    throw error;
  } finally {
    cut.dispose();
  }
  const passed = audit.markWindowPassed(run.windowStart, run.windowEnd);
  audit.finishRun(run.id, deps.clock.now(), passed);
  await embedPatterns(deps, log);
  deps.ledger.writer.flush();
  return { status: "done", run: audit.getRun(run.id)! };
}

function startRun(deps: AuditDeps, audit: AuditStore, options: RunOptions): AuditRun {
  const { config, clock } = deps;
  const mode = options.mode ?? "normal";
  const role =
    mode === "degraded" ? config.audit.degraded_reviewer_role : config.audit.reviewer_role;
  const reviewer = deps.reviewerFor(role);
  const now = clock.now();
  const seed = options.seed ?? randomBytes(8).toString("hex");
  const windowStart = now - config.audit.lookback_days * 86_400_000;
  const selection = selectForAudit(audit, {
    since: windowStart,
    until: now,
    seed,
    sampleRate: config.audit.sample_rate,
  });
  const budget = batchBudget(config, reviewer.contextWindow);
  const windowMs = config.audit.cross_agent_window_min * 60_000;
  const sizes = new Map<string, number[]>();
  const cost = (item: { actionId: string }, level: number) => {
    let sized = sizes.get(item.actionId);
    if (!sized) {
      const action = deps.ledger.actions.get(item.actionId)!;
      sized = DETAIL_LEVELS.map((_, l) =>
        estimateTokens(renderItem(deps.ledger.actions, action, l, windowMs).text),
      );
      sizes.set(item.actionId, sized);
    }
    return sized[level]!;
  };
  const { planned, batches } = planBatches(selection.items, budget, cost, windowMs);
  const items: NewAuditItem[] = planned.map(({ item, batch }) => ({
    actionId: item.actionId,
    agent: item.agent,
    reason: item.reason,
    batch,
    startedAt: item.startedAt,
    confidenceBefore: item.confidence,
  }));
  return audit.createRun(
    {
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
    },
    items,
  );
}

export function batchBudget(config: Config, contextWindow: number): BatchBudget {
  return {
    contextWindow,
    fixedTokens: estimateTokens(REVIEWER_SYSTEM) + 100,
    replyPerItem: REPLY_PER_ITEM,
    replyReserve: REPLY_RESERVE,
    maxItems: config.audit.batch_max_items,
  };
}

interface BatchScope {
  audit: AuditStore;
  apply: ApplyDeps;
  reviewer: Reviewer;
  run: AuditRun;
  batch: number;
  /** Runs inside the batch's transaction, after its writes. */
  commit(): void;
  signal?: AbortSignal | undefined;
}

async function reviewBatch(
  deps: AuditDeps,
  { audit, apply, reviewer, run, batch, commit, signal }: BatchScope,
): Promise<{ items: number; outcomes: Record<string, number> }> {
  const items = audit.batchItems(run.id, batch).filter((i) => i.verdict === null);
  const outcomes: Record<string, number> = {};
  if (items.length === 0) {
    audit.transaction(() => {
      audit.setNextBatch(run.id, batch + 1);
      commit();
    });
    return { items: 0, outcomes };
  }
  const views = renderBatch(
    deps,
    reviewer,
    items.map((i) => i.actionId),
  );
  const prompt = buildReviewPrompt(views, deps.config.audit.cross_agent_window_min);
  const answer = await reviewer.review(
    prompt,
    views.map((v) => v.action.id),
    run.traceId,
    signal,
  );
  const { verdicts, insights } = readVerdicts(items, views, answer.review, answer.failure);
  const scope = { runId: run.id, reviewerModel: reviewer.model };
  audit.transaction(() => {
    // Another process resuming the same run may have committed this batch meanwhile.
    const open = new Set(
      audit
        .batchItems(run.id, batch)
        .filter((i) => i.verdict === null)
        .map((i) => i.actionId),
    );
    for (const [index, item] of items.entries()) {
      if (!open.has(item.actionId)) continue;
      const outcome = applyVerdict(apply, scope, item, verdicts[index]!);
      if (outcome) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    for (const insight of insights) {
      audit.insertInsight({
        id: newActionId(deps.clock.now()),
        runId: run.id,
        batch,
        actionIds: insight.actionIds,
        agents: [
          ...new Set(
            insight.actionIds.map((id) => deps.ledger.actions.get(id)?.agent ?? "unknown"),
          ),
        ],
        description: insight.description,
        confidence: insight.confidence,
        createdAt: deps.clock.now(),
      });
    }
    audit.setNextBatch(run.id, batch + 1);
    commit();
  });
  return { items: items.length, outcomes };
}

/** Each item at the most detailed level that keeps the batch inside the reviewer's window. */
function renderBatch(deps: AuditDeps, reviewer: Reviewer, ids: string[]): ItemView[] {
  const budget = batchBudget(deps.config, reviewer.contextWindow);
  const room = availableTokens(budget) - budget.replyPerItem * ids.length;
  const windowMs = deps.config.audit.cross_agent_window_min * 60_000;
  const actions = ids.map((id) => deps.ledger.actions.get(id)).filter((a) => a !== undefined);
  let views: ItemView[] = [];
  for (let level = 0; level < DETAIL_LEVELS.length; level++) {
    views = actions.map((a) => renderItem(deps.ledger.actions, a, level, windowMs));
    const tokens = views.reduce((sum, v) => sum + estimateTokens(v.text), 0);
    if (tokens <= room) break;
  }
  return views;
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

function pause(audit: AuditStore, run: AuditRun, batch: number, options: RunOptions): AuditOutcome {
  audit.setRunStatus(run.id, "paused");
  options.saveCheckpoint?.(checkpoint(run, batch));
  return { status: "paused", run: audit.getRun(run.id)! };
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

function applyDeps(deps: AuditDeps, audit: AuditStore, log: (m: string) => void): ApplyDeps {
  return {
    audit,
    actions: deps.ledger.actions,
    queue: deps.queue,
    kb: deps.kb,
    handlers: deps.handlers,
    clock: deps.clock,
    applyConfidence: deps.config.audit.apply_confidence,
    log,
  };
}
