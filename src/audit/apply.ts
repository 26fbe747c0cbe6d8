import type { Clock } from "../clock.js";
import { describeError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { Action, AuditStatus } from "../ledger/actions.js";
import { newActionId } from "../ledger/ids.js";
import type {
  ActionReads,
  AuditItem,
  AuditStore,
  ItemResult,
  NewCorrection,
} from "../ledger/stores/index.js";
import type { ReviewKind, ReviewQueue } from "../review/queue.js";
import { canonicalJson } from "../runtime/history.js";
import type { CorrectionHandlers } from "./handlers.js";
import type { ItemVerdict, Pattern } from "./review.js";

/**
 * What a verdict leads to. Only a confident "incorrect" on an action no person has ruled on
 * changes anything by itself; everything the audit is not sure of, and anything that would
 * overrule a person, goes to the human review queue instead. A person's decision is final.
 */
export interface ApplyDeps {
  audit: AuditStore;
  actions: Pick<ActionReads, "get">;
  queue: Pick<ReviewQueue, "open" | "personDecisionFor">;
  kb: Pick<KnowledgeBase, "put">;
  handlers: CorrectionHandlers;
  clock: Clock;
  /** config.audit.apply_confidence */
  applyConfidence: number;
  log(message: string): void;
}

export interface ApplyScope {
  runId: string;
  reviewerModel: string;
}

/** One item's share of its batch's commit (see AuditStore.commitBatch). */
export interface VerdictEffects {
  result: ItemResult;
  correction: NewCorrection | null;
  status: { actionId: string; status: AuditStatus } | null;
}

/**
 * Works out one item's verdict and its consequences: the correction row, the action's
 * audit_status, the review item and the pattern. The audit's own writes are returned for the
 * batch's one transaction; the review item and the pattern go to their own stores first, and
 * both are idempotent (an item of the same kind stays open once; an unchanged entry is not
 * versioned again), so a batch that is reviewed again after a crash queues nothing twice.
 */
export async function applyVerdict(
  deps: ApplyDeps,
  scope: ApplyScope,
  item: AuditItem,
  verdict: ItemVerdict,
): Promise<VerdictEffects> {
  const action = await deps.actions.get(item.actionId);
  const decision = await decide(deps, action, item, verdict);
  let reviewItemId: string | null = null;
  if (decision.outcome === "in_review") {
    const { item: opened } = await deps.queue.open({
      kind: decision.kind,
      agent: item.agent,
      actionId: item.actionId,
      title: decision.title,
      openedBy: `audit ${scope.runId}`,
      original: action?.response ?? null,
      proposed: verdict.verdict === "incorrect" ? verdict.correctedOutput : null,
      reasoning: verdict.reasoning,
      confidence: verdict.confidence,
      context: { run_id: scope.runId, verdict: verdict.verdict, ...decision.context },
    });
    reviewItemId = String(opened.id);
  }
  const applied = decision.outcome === "corrected" || decision.outcome === "verified";
  const patternWritten =
    applied && verdict.pattern ? await writePattern(deps, scope, item, verdict.pattern) : false;
  const result: ItemResult = {
    ...verdict,
    outcome: decision.outcome,
    reviewItemId,
    patternWritten,
  };
  return {
    result,
    correction:
      decision.outcome === "corrected" ? correctionOf(deps, scope, item, action, verdict) : null,
    status: applied ? { actionId: item.actionId, status: decision.outcome } : null,
  };
}

function correctionOf(
  deps: ApplyDeps,
  scope: ApplyScope,
  item: AuditItem,
  action: Action | undefined,
  verdict: ItemVerdict,
): NewCorrection {
  return {
    id: newActionId(deps.clock.now()),
    runId: scope.runId,
    actionId: item.actionId,
    agent: item.agent,
    source: "audit",
    original: action?.response ?? null,
    corrected: verdict.correctedOutput,
    reasoning: verdict.reasoning,
    reviewerModel: scope.reviewerModel,
    confidenceBefore: item.confidenceBefore,
    confidenceAfter: verdict.confidence,
    createdAt: deps.clock.now(),
  };
}

type Decision =
  | { outcome: "verified" | "corrected" | "ruled" }
  | { outcome: "in_review"; kind: ReviewKind; title: string; context: Record<string, unknown> };

async function decide(
  deps: ApplyDeps,
  action: Action | undefined,
  item: AuditItem,
  verdict: ItemVerdict,
): Promise<Decision> {
  const label = `${item.agent} ${action?.actionType ?? "action"} ${item.actionId.slice(0, 8)}`;
  // Ruled while the run was under way: the person's word stands and the audit leaves it alone.
  if (action?.auditStatus === "ruled" || (await deps.queue.personDecisionFor(item.actionId))) {
    return { outcome: "ruled" };
  }
  if (verdict.verdict === "unsure") {
    return review("audit_unsure", `Audit unsure about ${label}`, {});
  }
  const auditOutput = verdict.verdict === "correct" ? action?.response : verdict.correctedOutput;
  const ruling = action ? await rulingOnSameInput(deps, action) : undefined;
  if (ruling && canonicalJson(ruling.output) !== canonicalJson(auditOutput ?? null)) {
    return review("contradicts_person", `Audit disagrees with a person's decision on ${label}`, {
      person_decision: ruling,
    });
  }
  if (verdict.confidence < deps.applyConfidence) {
    return review(
      "low_confidence_verdict",
      `Audit says ${verdict.verdict} (confidence ${verdict.confidence.toFixed(2)}) on ${label}`,
      { apply_confidence: deps.applyConfidence },
    );
  }
  if (verdict.verdict === "correct") return { outcome: "verified" };
  if (verdict.correctedOutput === null || verdict.correctedOutput === undefined) {
    return review("audit_unsure", `Audit says ${label} is wrong but gave no correction`, {});
  }
  return { outcome: "corrected" };
}

function review(kind: ReviewKind, title: string, context: Record<string, unknown>): Decision {
  return { outcome: "in_review", kind, title, context };
}

/** The newest decision a person made on an earlier action of the same agent on the same input. */
async function rulingOnSameInput(deps: ApplyDeps, action: Action) {
  if (!action.inputKey) return undefined;
  const ids = await deps.audit.sameInputActions(action.agent, action.inputKey);
  for (const id of ids) {
    if (id === action.id) continue;
    const decision = await deps.queue.personDecisionFor(id);
    if (decision) return decision;
  }
  return undefined;
}

/**
 * Writes the reviewer's pattern with the run as provenance. The scope is the action's agent or
 * "shared": a reviewer cannot teach an agent it was not reviewing. A pattern the knowledge base
 * refuses (a malformed key) is reported and skipped; it does not stop the run.
 */
async function writePattern(
  deps: ApplyDeps,
  scope: ApplyScope,
  item: AuditItem,
  p: Pattern,
): Promise<boolean> {
  const target = p.scope === "shared" ? "shared" : item.agent;
  try {
    await deps.kb.put(
      { scope: target, key: p.key, content: p.content },
      { kind: "audit_run", ref: scope.runId },
    );
    return true;
  } catch (error) {
    deps.log(
      `pattern "${p.key}" from action ${item.actionId} not written: ${describeError(error)}`,
    );
    return false;
  }
}

/**
 * Applies every correction whose handler has not run yet. Handlers are idempotent (see
 * handlers.ts), so one that ran just before a crash runs again harmlessly; a handler that throws
 * leaves the correction pending (with the error) for the next run. Corrections of an agent with
 * no handler wait, recorded, until one is registered.
 */
export async function applyPendingCorrections(
  deps: ApplyDeps,
): Promise<{ applied: number; failed: number }> {
  let applied = 0;
  let failed = 0;
  for (const agent of await deps.audit.pendingAgents()) {
    const handler = deps.handlers.for(agent);
    for (const correction of await deps.audit.pendingCorrections(agent)) {
      if (!handler) {
        await deps.audit.noteWaiting(
          correction.id,
          `recorded; waiting for a correction handler for agent "${agent}"`,
        );
        continue;
      }
      try {
        const note = await handler.apply({
          correctionId: correction.id,
          actionId: correction.actionId,
          agent,
          original: correction.original,
          corrected: correction.corrected,
          source: correction.source,
          runId: correction.runId,
          reasoning: correction.reasoning,
          reviewerModel: correction.reviewerModel,
          confidenceAfter: correction.confidenceAfter,
        });
        await deps.audit.markApplied(correction.id, deps.clock.now(), note ?? "applied");
        applied++;
      } catch (error) {
        failed++;
        const message = describeError(error);
        await deps.audit.markApplyFailed(correction.id, message);
        deps.log(`correction ${correction.id} for ${agent} not applied: ${message}`);
      }
    }
  }
  return { applied, failed };
}
