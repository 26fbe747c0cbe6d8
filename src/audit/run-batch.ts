import type { Config } from "../config.js";
import { newActionId } from "../ledger/ids.js";
import type { AuditRun, Insight } from "../ledger/stores/index.js";
import { type ApplyDeps, applyVerdict, type VerdictEffects } from "./apply.js";
import { availableTokens, type BatchBudget } from "./batch.js";
import {
  DETAIL_LEVELS,
  estimateTokens,
  type ItemView,
  readItemContext,
  renderItem,
} from "./context.js";
import { buildReviewPrompt, REVIEWER_SYSTEM, readVerdicts } from "./review.js";
import type { Reviewer } from "./reviewer.js";
import type { AuditDeps } from "./run.js";

/** Room per item for its verdict in the reply, and for the reply's insights. */
const REPLY_PER_ITEM = 200;
const REPLY_RESERVE = 512;

export function batchBudget(config: Config, contextWindow: number): BatchBudget {
  return {
    contextWindow,
    fixedTokens: estimateTokens(REVIEWER_SYSTEM) + 100,
    replyPerItem: REPLY_PER_ITEM,
    replyReserve: REPLY_RESERVE,
    maxItems: config.audit.batch_max_items,
  };
}

export interface BatchScope {
  apply: ApplyDeps;
  reviewer: Reviewer;
  run: AuditRun;
  /** The claim's owner token: the batch commits only while the run is still ours. */
  owner: string;
  batch: number;
  /** Runs after the batch's transaction committed (the scheduler's checkpoint). */
  commit(): void | Promise<void>;
  signal?: AbortSignal | undefined;
}

/**
 * Reviews one batch and commits its results in one transaction with the run's next_batch.
 * Items that already have a verdict (a batch resumed after a crash) are not asked again.
 */
export async function reviewBatch(
  deps: AuditDeps,
  { apply, reviewer, run, owner, batch, commit, signal }: BatchScope,
): Promise<{ items: number; outcomes: Record<string, number> }> {
  const { audit } = deps.stores;
  const items = (await audit.batchItems(run.id, batch)).filter((i) => i.verdict === null);
  const outcomes: Record<string, number> = {};
  const base = { runId: run.id, owner, batch, at: deps.clock.now() };
  if (items.length === 0) {
    await audit.commitBatch({ ...base, results: [], corrections: [], statuses: [], insights: [] });
    await commit();
    return { items: 0, outcomes };
  }
  const views = await renderBatch(
    deps,
    reviewer,
    items.map((i) => i.actionId),
  );
  const prompt = buildReviewPrompt(views, deps.config.audit.cross_agent_window_min);
  const ids = views.map((v) => v.action.id);
  const answer = await reviewer.review(prompt, ids, run.traceId, signal);
  const { verdicts, insights } = readVerdicts(items, views, answer.review, answer.failure);
  const scope = { runId: run.id, reviewerModel: reviewer.model };
  const effects: VerdictEffects[] = [];
  for (const [index, item] of items.entries()) {
    const effect = await applyVerdict(apply, scope, item, verdicts[index]!);
    effects.push(effect);
    outcomes[effect.result.outcome] = (outcomes[effect.result.outcome] ?? 0) + 1;
  }
  // The reviewer's stage and attempt actions are queued in the batched writer: commit them
  // before the batch, so a batch on record always has its reviewer calls on record (a kill -9
  // between the two would otherwise lose the calls of a batch that is never asked again).
  await deps.stores.writer.flush();
  await audit.commitBatch({
    ...base,
    at: deps.clock.now(),
    results: effects.map((e) => e.result),
    corrections: effects.flatMap((e) => (e.correction ? [e.correction] : [])),
    statuses: effects.flatMap((e) => (e.status ? [e.status] : [])),
    insights: await insightRows(deps, run, batch, insights),
  });
  await commit();
  return { items: items.length, outcomes };
}

async function insightRows(
  deps: AuditDeps,
  run: AuditRun,
  batch: number,
  insights: { actionIds: string[]; description: string; confidence: number }[],
): Promise<Insight[]> {
  const rows: Insight[] = [];
  for (const insight of insights) {
    const agents = await Promise.all(
      insight.actionIds.map(async (id) => (await deps.stores.actions.get(id))?.agent ?? "unknown"),
    );
    rows.push({
      id: newActionId(deps.clock.now()),
      runId: run.id,
      batch,
      actionIds: insight.actionIds,
      agents: [...new Set(agents)],
      description: insight.description,
      confidence: insight.confidence,
      createdAt: deps.clock.now(),
    });
  }
  return rows;
}

/** Each item at the most detailed level that keeps the batch inside the reviewer's window. */
async function renderBatch(
  deps: AuditDeps,
  reviewer: Reviewer,
  ids: string[],
): Promise<ItemView[]> {
  const budget = batchBudget(deps.config, reviewer.contextWindow);
  const room = availableTokens(budget) - budget.replyPerItem * ids.length;
  const windowMs = deps.config.audit.cross_agent_window_min * 60_000;
  const contexts = [];
  for (const id of ids) {
    const action = await deps.stores.actions.get(id);
    if (action) contexts.push(await readItemContext(deps.stores.actions, action, windowMs));
  }
  let views: ItemView[] = [];
  for (let level = 0; level < DETAIL_LEVELS.length; level++) {
    views = contexts.map((c) => renderItem(c, level));
    const tokens = views.reduce((sum, v) => sum + estimateTokens(v.text), 0);
    if (tokens <= room) break;
  }
  return views;
}
