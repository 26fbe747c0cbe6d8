import { z } from "zod";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { FinanceStore } from "../ledger/stores/finance.js";
import type { CorrectionHandler, CorrectionToApply } from "../review/handlers.js";
import type { ReviewQueue } from "../review/queue.js";
import { putPayeeRule } from "./rules.js";

const categorization = z.object({
  categories: z.array(z.object({ transaction_id: z.number().int(), category: z.string().min(1) })),
});
const duplicateDecision = z.object({
  transaction_id: z.number().int(),
  duplicate_of: z.number().int(),
  duplicate: z.boolean().nullable(),
});

/**
 * Applies audit and review decisions to finance data. A corrected categorization re-categorizes
 * each transaction (source "audit" or "person") and teaches a payee rule; an accepted duplicate
 * marks the copy so no total counts it twice. Applying the same correction again changes nothing.
 */
export function financeCorrectionHandler(deps: FinanceHandlerDeps): CorrectionHandler {
  return {
    async apply(correction) {
      const corrected = unwrap(correction.corrected);
      const asCategories = categorization.safeParse(corrected);
      if (asCategories.success) return recategorize(deps, correction, asCategories.data);
      const asDuplicate = duplicateDecision.safeParse(corrected);
      if (asDuplicate.success) return decideDuplicate(deps.store, asDuplicate.data);
      return `no finance data changed: action ${correction.actionId} is not a categorization or a duplicate decision`;
    },
  };
}

export interface FinanceHandlerDeps {
  store: FinanceStore;
  kb: KnowledgeBase;
}

/** A two-stage run's output wraps the expert's answer; a stage's output is the answer itself. */
function unwrap(value: unknown): unknown {
  if (value && typeof value === "object" && "answer" in value)
    return (value as { answer: unknown }).answer;
  return value;
}

async function recategorize(
  deps: FinanceHandlerDeps,
  correction: CorrectionToApply,
  output: z.infer<typeof categorization>,
): Promise<string> {
  const changed: string[] = [];
  for (const item of output.categories) {
    const t = await deps.store.transactionById(item.transaction_id);
    if (!t) throw new Error(`transaction ${item.transaction_id} is not in the ledger`);
    const category = item.category.toLowerCase();
    // A person's choice stands against a later audit.
    if (t.categorySource === "person" && correction.source === "audit") continue;
    if (t.category === category && t.categorySource === correction.source) continue;
    await deps.store.setCategory(t.id, {
      category,
      source: correction.source,
      confidence: 1,
      actionId: null,
      flags: t.flags.filter((f) => f !== "low_confidence"),
    });
    if (t.payee) {
      await putPayeeRule(deps.kb, t.payee, category, {
        kind: correction.source === "person" ? "person" : "correction",
        ref: correction.correctionId,
      });
    }
    changed.push(`#${t.id} ${t.category ?? "uncategorized"} → ${category}`);
  }
  return changed.length ? `re-categorized ${changed.join(", ")}` : "already applied";
}

async function decideDuplicate(
  store: FinanceStore,
  decision: z.infer<typeof duplicateDecision>,
): Promise<string> {
  return store.transaction(async (tx) => {
    const t = await tx.transactionById(decision.transaction_id);
    if (!t) throw new Error(`transaction ${decision.transaction_id} is not in the ledger`);
    const others = t.flags.filter((f) => f !== "duplicate_suspect" && f !== "duplicate");
    if (decision.duplicate === true) {
      await tx.setFlags(t.id, [...others, "duplicate"]);
      await tx.setDuplicateOf(t.id, decision.duplicate_of);
      return `#${t.id} marked a duplicate of #${decision.duplicate_of}; totals leave it out`;
    }
    await tx.setFlags(t.id, others);
    await tx.setDuplicateOf(t.id, null);
    return `#${t.id} kept as its own transaction`;
  });
}

/**
 * A person who rejects "mark as duplicate" is saying the two are different transactions. The
 * queue does not call handlers on a rejection, so rejected items are settled here, idempotently,
 * before figures are computed.
 */
export async function settleRejectedDuplicates(
  store: FinanceStore,
  review: Pick<ReviewQueue, "list">,
): Promise<number> {
  let settled = 0;
  const rejected = await review.list({
    status: "rejected",
    agent: "finance",
    kind: "duplicate_suspect",
  });
  for (const item of rejected) {
    const decision = duplicateDecision.safeParse(item.original);
    if (!decision.success) continue;
    const t = await store.transactionById(decision.data.transaction_id);
    if (!t?.flags.includes("duplicate_suspect")) continue;
    await decideDuplicate(store, { ...decision.data, duplicate: false });
    settled++;
  }
  return settled;
}
