import { z } from "zod";
import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import type { KnowledgeBase } from "../knowledge/kb.js";
import type { FinanceStore, FinanceTransaction } from "../ledger/stores/finance.js";
import {
  type CheckResult,
  describeModelFailure,
  type Runtime,
  twoStagePipeline,
} from "../runtime/index.js";
import { applyRules, loadRules } from "./rules.js";

/** Categories offered to the model; rules and people may use any others. */
export const DEFAULT_CATEGORIES = [
  "groceries",
  "restaurants",
  "coffee",
  "transport",
  "fuel",
  "shopping",
  "utilities",
  "rent",
  "entertainment",
  "subscriptions",
  "travel",
  "health",
  "insurance",
  "fees",
  "income",
  "transfer",
  "credit card payment",
  "other",
];

const BATCH = 20;

const transactionData = z.object({
  transactions: z.array(
    z.object({
      id: z.number().int(),
      date: z.string(),
      payee: z.string(),
      description: z.string(),
      amount: z.string(),
    }),
  ),
});
type TransactionData = z.infer<typeof transactionData>;

export const categoriesSchema = z.object({
  categories: z.array(
    z.object({
      transaction_id: z.number().int(),
      category: z.string().min(1),
      confidence: z.number().min(0).max(1),
    }),
  ),
});
export type CategoriesOutput = z.infer<typeof categoriesSchema>;

export interface CategorizeDeps {
  store: FinanceStore;
  kb: KnowledgeBase;
  config: Config["finance"];
  /** Without a runtime, only rules apply; the rest stays uncategorized. */
  runtime?: Runtime | undefined;
}

export interface CategorizeReport {
  byRule: number;
  byModel: number;
  lowConfidence: number;
  left: number;
  /** Why the model pipeline stopped early (no model reachable, or no reply that fit), if it did. */
  modelError: string | null;
  /** Action ids of the expert stages, one per batch, for `nightshift trace`. */
  actions: string[];
}

/** Rules first; what they leave goes to the model pipeline in batches. */
export async function categorizeTransactions(
  deps: CategorizeDeps,
  ids?: number[],
): Promise<CategorizeReport> {
  const targets = ids
    ? (await Promise.all(ids.map((id) => deps.store.transactionById(id)))).filter(
        (t): t is FinanceTransaction => t !== undefined,
      )
    : await deps.store.transactions({ uncategorized: true });
  const rules = await loadRules(deps.kb);
  const report: CategorizeReport = {
    byRule: 0,
    byModel: 0,
    lowConfidence: 0,
    left: 0,
    modelError: null,
    actions: [],
  };
  const rest: FinanceTransaction[] = [];
  await deps.store.transaction(async (tx) => {
    for (const t of targets) {
      if (t.categorySource === "person" || t.categorySource === "audit") continue;
      const rule = applyRules(rules, t);
      if (rule) {
        const change = { category: rule.category, confidence: 1, actionId: null };
        await tx.setCategory(t.id, { ...change, source: "rule" });
        report.byRule++;
      } else rest.push(t);
    }
  });
  if (!deps.runtime) {
    report.left = rest.length;
    return report;
  }
  const categories = [...new Set([...DEFAULT_CATEGORIES, ...rules.map((r) => r.category)])];
  for (let i = 0; i < rest.length; i += BATCH) {
    try {
      await categorizeBatch(deps, deps.runtime, rest.slice(i, i + BATCH), categories, report);
    } catch (error) {
      // A dead model server leaves the rest uncategorized (the rules' work is kept); bugs rethrow.
      if (!(error instanceof NightshiftError) || error.status < 500) throw error;
      report.modelError = describeModelFailure(error);
      report.left = rest.length - i;
      break;
    }
  }
  return report;
}

async function categorizeBatch(
  deps: CategorizeDeps,
  runtime: Runtime,
  batch: FinanceTransaction[],
  categories: string[],
  report: CategorizeReport,
): Promise<void> {
  const pipeline = categorizePipeline(
    deps.config,
    categories,
    batch.map((t) => t.id),
  );
  const material = batch.map((t) => ({
    id: t.id,
    date: t.date,
    payee: t.payee ?? "",
    description: t.description,
    amount: (t.amountCents / 100).toFixed(2),
  }));
  const result = await runtime.agent("finance", pipeline.pipeline).run({
    // The payees are in the request so the knowledge search finds what is known about them.
    request: `Categorize these ${batch.length} bank transactions (payees: ${[...new Set(material.map((t) => t.payee || t.description))].join("; ")}). Categories: ${categories.join(", ")}.`,
    material,
  });
  const expert = result.output.expert;
  const uncertain =
    expert.flags.includes("low_confidence") || expert.flags.includes("requires_audit");
  report.actions.push(expert.actionId);
  await deps.store.transaction(async (tx) => {
    for (const item of result.output.answer.categories) {
      const t = batch.find((b) => b.id === item.transaction_id);
      if (!t) continue;
      // A model's word about itself is capped by what the stage's checks earned.
      const confidence = Math.min(item.confidence, expert.confidence);
      const low = uncertain || confidence < runtime.threshold;
      await tx.setCategory(t.id, {
        category: item.category.toLowerCase(),
        source: "model",
        confidence,
        actionId: expert.actionId,
        flags: low ? [...t.flags, "low_confidence"] : t.flags.filter((f) => f !== "low_confidence"),
      });
      report.byModel++;
      if (low) report.lowConfidence++;
    }
  });
}

function categorizePipeline(config: Config["finance"], categories: string[], ids: number[]) {
  return twoStagePipeline<TransactionData, CategoriesOutput>({
    name: "categorize",
    domain: "personal finance: categorizing bank and card transactions",
    reasoner: {
      role: config.reasoner_role,
      data: transactionData,
      instructions:
        "Copy every transaction into data.transactions unchanged (id, date, payee, description, amount). Use what the knowledge base says about payees in the expert's context.",
      checks: [
        (output) =>
          sameIds(
            "reasoner_kept_every_transaction",
            output.data.transactions.map((t) => t.id),
            ids,
          ),
      ],
    },
    expert: {
      role: config.expert_role,
      schema: categoriesSchema,
      system: `You categorize personal bank transactions. Use only these categories: ${categories.join(", ")}. Give every transaction_id exactly one category and a confidence between 0 and 1.`,
      checks: [
        (output) =>
          sameIds(
            "every_transaction_categorized",
            output.categories.map((c) => c.transaction_id),
            ids,
          ),
        (output) => {
          const unknown = output.categories.filter(
            (c) => !categories.includes(c.category.toLowerCase()),
          );
          return {
            name: "known_categories",
            passed: unknown.length === 0,
            detail: unknown.length
              ? `unknown: ${unknown.map((c) => c.category).join(", ")}`
              : undefined,
          };
        },
      ],
      confidenceField: null,
      // Under the threshold, the runtime retries: first with the knowledge base's payee notes,
      // then with the (larger) reasoner answering itself.
      alternatives: [
        { name: "expert-with-knowledge", knowledge: 8 },
        { name: "reasoner-categorizes", role: config.reasoner_role, knowledge: 8 },
      ],
    },
  });
}

function sameIds(name: string, got: number[], want: number[]): CheckResult {
  const missing = want.filter((id) => !got.includes(id));
  const extra = got.filter((id) => !want.includes(id));
  const repeated = got.length !== new Set(got).size;
  const passed = missing.length === 0 && extra.length === 0 && !repeated;
  return {
    name,
    passed,
    detail: passed
      ? undefined
      : `missing ${missing.join(",") || "none"}; unexpected ${extra.join(",") || "none"}${repeated ? "; repeated ids" : ""}`,
  };
}
