import type { Script, ScriptedReply } from "../support/scripted-upstream.js";

/**
 * The scripted reviewer: reads the item ids out of the audit's prompt (each item's block starts
 * with its action_id) and answers each from a table, as a bigger model that knows the right
 * answers would. Records which ids each call carried, so tests can tell what was reviewed twice.
 */
export interface ScriptedVerdict {
  verdict: "correct" | "incorrect" | "unsure";
  corrected_output?: unknown;
  reasoning?: string;
  confidence: number;
  pattern?: { scope: string; key: string; content: string } | null;
}

export interface ReviewerScript {
  script: Script;
  /** Item ids per reviewer call, in order. */
  calls: string[][];
}

const ITEM_ID = /### Item \d+ of \d+\n\{\n "action_id": "([^"]+)"/g;

export function itemIdsOf(prompt: string): string[] {
  return [...prompt.matchAll(ITEM_ID)].map((m) => m[1]!);
}

export function reviewerScript(
  answer: (actionId: string) => ScriptedVerdict | undefined,
  options: {
    insights?: (ids: string[]) => unknown[];
    extra?: unknown[];
    reply?: (call: number) => Partial<ScriptedReply>;
  } = {},
): ReviewerScript {
  const calls: string[][] = [];
  const script: Script = (request) => {
    const ids = itemIdsOf(request.prompt);
    calls.push(ids);
    const verdicts = ids.flatMap((id) => {
      const v = answer(id);
      return v ? [{ action_id: id, reasoning: "scripted", ...v }] : [];
    });
    const content = JSON.stringify({
      verdicts: [...verdicts, ...(options.extra ?? [])],
      insights: options.insights?.(ids) ?? [],
    });
    return { content, ...options.reply?.(calls.length) };
  };
  return { script, calls };
}
