import { z } from "zod";
import type { AuditItem, Verdict } from "../ledger/stores/index.js";
import type { ItemView } from "./context.js";

/**
 * What the reviewer is asked and how its answer is read. One call per batch; the reply is a
 * structured verdict per item (zod schema → JSON schema → Ollama `format`), plus any insight
 * where actions of different agents touch.
 */
export const patternSchema = z.object({
  /** An agent name, or "shared" for every agent. */
  scope: z.string().min(1),
  key: z.string().min(1),
  content: z.string().min(1),
});

export const verdictSchema = z.object({
  action_id: z.string(),
  verdict: z.enum(["correct", "incorrect", "unsure"]),
  /** The output the action should have produced, in the same shape as its output. */
  corrected_output: z.unknown().optional(),
  reasoning: z.string(),
  confidence: z.number().min(0).max(1),
  pattern: patternSchema.nullable().optional(),
});

export const insightSchema = z.object({
  action_ids: z.array(z.string()).min(2),
  description: z.string().min(1),
  confidence: z.number().min(0).max(1),
});

export const batchReviewSchema = z.object({
  verdicts: z.array(verdictSchema),
  insights: z.array(insightSchema).optional(),
});

export type BatchReview = z.infer<typeof batchReviewSchema>;
export type Pattern = z.infer<typeof patternSchema>;

export const REVIEWER_SYSTEM = `You are the night-shift auditor of a home server's AI agents. Each item below is one action a
smaller day model took: its input, its output, how confident it was, and its trace (the parent
stage, sibling stages, the attempts it made). Judge whether the output is right for the input.

Reply with JSON only: {"verdicts": [...], "insights": [...]}, one verdict for every action_id:
- verdict "correct", "incorrect" or "unsure"; never guess: say "unsure" when the input does not
  let you decide.
- corrected_output: for "incorrect", the output the action should have produced, in the same
  shape as its output; omit it otherwise.
- reasoning: one or two sentences a person can check.
- confidence: 0 to 1, how sure you are of your verdict.
- pattern (optional): a short rule worth remembering so the agent gets it right next time, as
  {"scope": agent name or "shared", "key": a stable name for the rule, "content": the rule}.
Insights (optional): where actions of different agents close in time bear on each other (a
purchase during a meeting, a reminder that contradicts a booking), {"action_ids": [...],
"description": ..., "confidence": ...}.`;

export interface ReviewPrompt {
  system: string;
  user: string;
}

export function buildReviewPrompt(views: ItemView[], crossAgentWindowMin: number): ReviewPrompt {
  const agents = new Set(views.map((v) => v.action.agent));
  const together =
    agents.size > 1
      ? `\nThese ${views.length} actions come from ${agents.size} agents (${[...agents].join(", ")}); those within ${crossAgentWindowMin} minutes of each other are together on purpose: say where they touch.\n`
      : "";
  const items = views.map((v, i) => `### Item ${i + 1} of ${views.length}\n${v.text}`);
  return {
    system: REVIEWER_SYSTEM,
    user: `Review these actions.${together}\n${items.join("\n\n")}`,
  };
}

export interface ItemVerdict {
  actionId: string;
  verdict: Verdict;
  correctedOutput: unknown;
  reasoning: string;
  confidence: number;
  pattern: Pattern | null;
}

export interface ReadInsight {
  actionIds: string[];
  description: string;
  confidence: number;
}

/**
 * One verdict per item of the batch, in the batch's order: a verdict naming an action outside
 * the batch is ignored, the first of duplicates wins, and an item the reviewer skipped is
 * "unsure" (so a person looks at it rather than nobody). Insights must name at least two actions
 * the batch showed.
 */
export function readVerdicts(
  items: AuditItem[],
  views: ItemView[],
  review: BatchReview | null,
  failure: string | null,
): { verdicts: ItemVerdict[]; insights: ReadInsight[] } {
  const byId = new Map<string, z.infer<typeof verdictSchema>>();
  for (const v of review?.verdicts ?? []) {
    if (!byId.has(v.action_id)) byId.set(v.action_id, v);
  }
  const verdicts = items.map((item): ItemVerdict => {
    const v = byId.get(item.actionId);
    if (!v) {
      return {
        actionId: item.actionId,
        verdict: "unsure",
        correctedOutput: null,
        reasoning: failure ?? "the reviewer returned no verdict for this action",
        confidence: 0,
        pattern: null,
      };
    }
    return {
      actionId: item.actionId,
      verdict: v.verdict,
      correctedOutput: v.corrected_output ?? null,
      reasoning: v.reasoning,
      confidence: v.confidence,
      pattern: v.pattern ?? null,
    };
  });
  const shown = new Set(views.flatMap((v) => v.related));
  const insights = (review?.insights ?? [])
    .map((i) => ({ ...i, action_ids: [...new Set(i.action_ids)].filter((id) => shown.has(id)) }))
    .filter((i) => i.action_ids.length >= 2)
    .map((i) => ({
      actionIds: i.action_ids,
      description: i.description,
      confidence: i.confidence,
    }));
  return { verdicts, insights };
}
