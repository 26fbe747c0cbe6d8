import { z } from "zod";
import type { KnowledgeBase, Provenance } from "../knowledge/kb.js";
import type { FinanceTransaction } from "../ledger/stores/finance.js";

/**
 * Categorization rules live in the knowledge base (scope "finance") as structured entries, so
 * they are versioned, attributed and can be rolled back like any other knowledge.
 */
export const FINANCE_SCOPE = "finance";

export const ruleSchema = z.object({
  match: z.enum(["is", "contains", "regex"]),
  field: z.enum(["payee", "description", "amount"]),
  value: z.string().min(1),
  category: z.string().min(1),
  stage: z.enum(["pre", "default", "post"]).default("default"),
});
export type Rule = z.infer<typeof ruleSchema> & { key: string; version: number };

const STAGES = ["pre", "default", "post"] as const;
// Within a stage the most specific match is applied last, so it wins.
const SPECIFICITY = { contains: 0, regex: 1, is: 2 } as const;

/** The finance rules in the knowledge base; entries whose data is not a rule are ignored. */
export async function loadRules(kb: KnowledgeBase): Promise<Rule[]> {
  const rules: Rule[] = [];
  for (const entry of await kb.list({ scope: FINANCE_SCOPE })) {
    const parsed = ruleSchema.safeParse(entry.data);
    if (parsed.success) rules.push({ ...parsed.data, key: entry.key, version: entry.version });
  }
  return rules.sort(
    (a, b) =>
      STAGES.indexOf(a.stage) - STAGES.indexOf(b.stage) ||
      SPECIFICITY[a.match] - SPECIFICITY[b.match] ||
      a.key.localeCompare(b.key),
  );
}

/**
 * Runs the rules in stage order (pre, default, post); each match sets the category, so a later
 * stage overrides an earlier one. Returns the deciding rule, or null when none matches.
 */
export function applyRules(
  rules: Rule[],
  t: Pick<FinanceTransaction, "payee" | "description" | "amountCents">,
): Rule | null {
  let decided: Rule | null = null;
  for (const rule of rules) if (ruleMatches(rule, t)) decided = rule;
  return decided;
}

export function ruleMatches(
  rule: Rule,
  t: Pick<FinanceTransaction, "payee" | "description" | "amountCents">,
): boolean {
  const subject =
    rule.field === "amount"
      ? (t.amountCents / 100).toFixed(2)
      : rule.field === "payee"
        ? (t.payee ?? "")
        : t.description;
  if (rule.match === "regex") {
    try {
      return new RegExp(rule.value, "i").test(subject);
    } catch {
      // A rule with a broken pattern matches nothing; `finance rules` shows it so it can be fixed.
      return false;
    }
  }
  if (rule.field === "amount")
    return rule.match === "is" && Number(rule.value).toFixed(2) === subject;
  const [a, b] = [subject.toLowerCase().trim(), rule.value.toLowerCase().trim()];
  return rule.match === "is" ? a === b : a.includes(b);
}

/** The rule a person's (or the audit's) recategorization teaches: this payee is this category. */
export async function putPayeeRule(
  kb: KnowledgeBase,
  payee: string,
  category: string,
  provenance: Provenance,
): Promise<void> {
  await kb.put(
    {
      scope: FINANCE_SCOPE,
      key: `rule:payee:${payee.toLowerCase()}`,
      content: `Transactions from payee "${payee}" are categorized as ${category}.`,
      data: { match: "is", field: "payee", value: payee, category, stage: "default" },
    },
    provenance,
  );
}
