import { z } from "zod";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { NightshiftError } from "../errors.js";
import type { FinanceReads } from "../ledger/stores/finance.js";
import { defineStage, describeModelFailure, type Runtime } from "../runtime/index.js";
import { checkAnswerFigures } from "./answer-check.js";
import { DEFAULT_CATEGORIES } from "./categorize.js";
import {
  computeSpend,
  describeSpend,
  type SpendFacts,
  type SpendQuery,
  verificationNote,
} from "./spend.js";

/** What the reasoner turns a question into; the figures themselves are computed in code. */
export const askQuerySchema = z.object({
  measure: z.enum(["total", "count", "average"]),
  category: z.string().nullable(),
  merchant: z.string().nullable(),
  period: z.object({
    kind: z.enum(["month", "last_month", "this_month", "latest"]),
    month: z
      .string()
      .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
      .nullable(),
  }),
  compare_to_average: z.boolean(),
  top_merchants: z.boolean(),
});
export type AskQuery = z.infer<typeof askQuerySchema>;

export interface AskDeps {
  store: FinanceReads;
  config: Config["finance"];
  clock: Clock;
  runtime?: Runtime | undefined;
}

export interface AskResult {
  question: string;
  /** What to show: the model's phrasing when every figure checked out, else the computed answer. */
  answer: string;
  query: AskQuery | null;
  facts: SpendFacts | null;
  /** "model": phrased by the expert and checked; "computed": the plain answer from the facts. */
  source: "model" | "computed";
  modelAnswer: string | null;
  mismatches: string[];
  flags: string[];
  traceId: string | null;
  /** Set when no model could be reached. */
  modelError: string | null;
}

const phraseSchema = z.object({ answer: z.string().min(1) });

export async function askQuestion(question: string, deps: AskDeps): Promise<AskResult> {
  if (question.trim() === "")
    throw new NightshiftError(
      'ask needs a question, like "How much did I spend on restaurants last month?"',
    );
  if (!deps.runtime) return fallback(question, deps, "no model is configured");
  const categories = await knownCategories(deps.store);
  const today = new Date(deps.clock.now()).toISOString().slice(0, 10);
  const parse = defineStage<string, AskQuery>({
    name: "ask.query",
    role: deps.config.reasoner_role,
    schema: askQuerySchema,
    system: [
      "Turn the user's question about their own spending into a query. Do not answer it.",
      `Today is ${today}. Categories in the data: ${categories.join(", ")}.`,
      "category: one of those categories, or null. merchant: a merchant name the user named, or null.",
      "period.kind: month (with period.month YYYY-MM), last_month, this_month, or latest when no period is said.",
    ].join("\n"),
    prompt: (q) => q,
    checks: [
      (query) => ({
        name: "known_category",
        passed: query.category === null || categories.includes(query.category.toLowerCase()),
        detail: query.category ? `category "${query.category}"` : undefined,
      }),
    ],
  });
  let facts: SpendFacts | null = null;
  const phrase = defineStage<{ question: string; facts: SpendFacts }, { answer: string }>({
    name: "ask.answer",
    role: deps.config.expert_role,
    schema: phraseSchema,
    history: false,
    system:
      "Answer the user's question in one to three sentences using only the facts given. Amounts are in cents in the facts; write them as money. Use no number that is not in the facts.",
    prompt: (input) =>
      `Question: ${input.question}\n\nFacts:\n${JSON.stringify(input.facts, null, 2)}`,
    checks: [
      (output, input) => {
        const mismatches = checkAnswerFigures(output.answer, input.facts, input.question);
        return {
          name: "figures_match_facts",
          passed: mismatches.length === 0,
          detail: mismatches.join("; ") || undefined,
        };
      },
    ],
  });
  const agent = deps.runtime.agent("finance", async (q: string, run) => {
    const parsed = await run.stage(parse, q);
    const query = parsed.output;
    // A reading of the question that failed its checks (a category the data does not have) would
    // give figures for some other question: the answer is not asked of the model then.
    if (parsed.flags.includes("check_failed")) return { query, answer: null };
    facts = await computeSpend(deps.store, toSpendQuery(query, deps.clock), deps.config.currency);
    const answer = await run.stage(phrase, { question: q, facts });
    return { query, answer };
  });
  try {
    const result = await agent.run(question);
    if (result.output.answer === null) {
      const reason = `the model read the question as ${describeQuery(result.output.query)}, which does not fit your data`;
      const computed = await fallback(question, deps, reason);
      return {
        ...computed,
        modelError: null,
        flags: [...new Set([...result.flags, "query_rejected"])],
        traceId: result.traceId,
      };
    }
    const computed = facts as SpendFacts | null;
    if (!computed) throw new Error("the ask pipeline finished without facts");
    const modelAnswer = result.output.answer.output.answer;
    const mismatches = checkAnswerFigures(modelAnswer, computed, question);
    const flags = [...result.flags];
    if (mismatches.length) {
      flags.push("figure_mismatch");
      await deps.runtime.flush();
    }
    return {
      question,
      answer: mismatches.length
        ? describeSpend(computed)
        : [modelAnswer, verificationNote(computed)].filter(Boolean).join("\n"),
      query: result.output.query,
      facts: computed,
      source: mismatches.length ? "computed" : "model",
      modelAnswer,
      mismatches,
      flags: [...new Set(flags)],
      traceId: result.traceId,
      modelError: null,
    };
  } catch (error) {
    // A dead or failing model server (502) falls back to computed figures; bad input about the
    // data (no transactions yet, a bad month) is the user's to fix and is reported as it is.
    if (error instanceof NightshiftError && error.status >= 500)
      return fallback(question, deps, describeModelFailure(error));
    throw error;
  }
}

/** The parts of a query a person can check against their data, in words. */
function describeQuery(query: AskQuery): string {
  const parts = [
    query.category === null ? null : `category ${JSON.stringify(query.category)}`,
    query.merchant === null ? null : `merchant ${JSON.stringify(query.merchant)}`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "a query";
}

/** Calendar arithmetic for the query's period, from the clock: "last month" is a fact of today. */
export function toSpendQuery(query: AskQuery, clock: Clock): SpendQuery {
  const now = new Date(clock.now());
  const shift = (months: number) => {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 1));
    return d.toISOString().slice(0, 7);
  };
  const month =
    query.period.kind === "month" && query.period.month
      ? query.period.month
      : query.period.kind === "last_month"
        ? shift(-1)
        : query.period.kind === "this_month"
          ? shift(0)
          : undefined;
  return { category: query.category ?? undefined, merchant: query.merchant ?? undefined, month };
}

async function knownCategories(store: FinanceReads): Promise<string[]> {
  const used = await store.categories();
  return [...new Set([...DEFAULT_CATEGORIES, ...used])];
}

/**
 * No model: a simple reading of the question (a category or "at MERCHANT", a month) still gets
 * the computed figures; anything else is pointed at `finance spend`.
 */
async function fallback(question: string, deps: AskDeps, reason: string): Promise<AskResult> {
  const query = simpleQuery(question, await knownCategories(deps.store), deps.clock);
  const base: AskResult = {
    question,
    answer: "",
    query,
    facts: null,
    source: "computed",
    modelAnswer: null,
    mismatches: [],
    flags: ["no_model"],
    traceId: null,
    modelError: reason,
  };
  if (!query) {
    return {
      ...base,
      answer: `No usable answer from the models (${reason}). Use \`nightshift finance spend --category C --month YYYY-MM\` for the figures.`,
    };
  }
  const facts = await computeSpend(
    deps.store,
    toSpendQuery(query, deps.clock),
    deps.config.currency,
  );
  return {
    ...base,
    facts,
    answer: `No usable answer from the models (${reason}); computed from your data: ${describeSpend(facts)}`,
  };
}

const MONTHS = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

export function simpleQuery(question: string, categories: string[], clock: Clock): AskQuery | null {
  const q = question.toLowerCase();
  const category =
    categories.find((c) =>
      new RegExp(`\\b${c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(q),
    ) ?? null;
  const merchant =
    /\bat ([a-z0-9'&.\- ]+?)(?:\s+(?:in|last|this|during)\b|[?.!]|$)/.exec(q)?.[1]?.trim() ?? null;
  if (!category && !merchant) return null;
  const year = new Date(clock.now()).getUTCFullYear();
  const iso = /\b(\d{4}-\d{2})\b/.exec(q)?.[1];
  const named = MONTHS.findIndex((m) => q.includes(m));
  const period: AskQuery["period"] = iso
    ? { kind: "month", month: iso }
    : named >= 0
      ? {
          kind: "month",
          month: `${/\b(20\d{2})\b/.exec(q)?.[1] ?? year}-${String(named + 1).padStart(2, "0")}`,
        }
      : /last month/.test(q)
        ? { kind: "last_month", month: null }
        : /this month/.test(q)
          ? { kind: "this_month", month: null }
          : { kind: "latest", month: null };
  return {
    measure: /how many/.test(q) ? "count" : "total",
    category,
    merchant,
    period,
    compare_to_average: true,
    top_merchants: true,
  };
}
