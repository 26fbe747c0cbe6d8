import { z } from "zod";
import type { Config } from "../../config.js";
import { NightshiftError } from "../../errors.js";
import { defineStage, type Runtime } from "../../runtime/index.js";
import { maskText } from "../mask.js";
import { reconcileStatement } from "../reconcile.js";
import { parseAmount, signedCents } from "./amounts.js";
import { readPdfLinesIsolated } from "./pdf-worker.js";
import type { ParsedStatement } from "./statement.js";

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const extractedSchema = z.object({
  kind: z.enum(["bank", "card"]),
  account_number: z.string().nullable(),
  period_start: isoDate.nullable(),
  period_end: isoDate.nullable(),
  opening_balance: z.string().nullable(),
  closing_balance: z.string().nullable(),
  transactions: z.array(
    z.object({ date: isoDate, description: z.string().min(1), amount: z.string() }),
  ),
});
type Extracted = z.infer<typeof extractedSchema>;

// Beyond this a small model's context is the limit, and a long statement's layout is worth a
// parser rule or a CSV export instead.
const MAX_TEXT = 40_000;

/**
 * For PDF layouts the parser does not know: a model reads the statement's text (numbers masked)
 * into transactions. The result is only a candidate: its check, and the importer after it,
 * accept it only if the statement's own printed balances confirm it.
 */
export function modelExtractor(runtime: Runtime, config: Config["finance"]) {
  const stage = defineStage<string, Extracted>({
    name: "extract_statement",
    role: config.reasoner_role,
    schema: extractedSchema,
    system: [
      "You read bank and card statements. Copy every transaction exactly as printed.",
      "amount: as printed, with a minus sign for money out of a bank account (or a charge on a card) and none for money in.",
      "Balances as printed. Dates as YYYY-MM-DD using the statement period for the year. Do not compute anything.",
    ].join("\n"),
    prompt: (text) => text,
    history: false,
    checks: [
      (output) => {
        const reconciliation = reconcileStatement(toStatement(output));
        return {
          name: "reconciles",
          passed: reconciliation.status === "reconciled",
          detail: reconciliation.problems.join("; ") || reconciliation.status,
        };
      },
    ],
  });
  return async (bytes: Uint8Array, file: string): Promise<ParsedStatement> => {
    const text = (await readPdfLinesIsolated(bytes, file))
      .map((line) => maskText(line.text))
      .join("\n");
    if (text.length > MAX_TEXT) {
      throw new NightshiftError(
        `${file}: cannot import: the layout is unknown and the statement is too long to hand to a model; export a CSV or OFX from your bank`,
        {
          code: "layout_unknown",
        },
      );
    }
    const result = await runtime.runStage(stage, text, { agent: "finance" });
    return toStatement(result.output);
  };
}

function toStatement(output: Extracted): ParsedStatement {
  const cents = (value: string | null) => {
    if (value === null) return null;
    const parsed = parseAmount(value.trim());
    return parsed ? signedCents(parsed) : null;
  };
  return {
    format: "pdf",
    kind: output.kind,
    accountNumber: output.account_number,
    currency: null,
    periodStart: output.period_start,
    periodEnd: output.period_end,
    openingCents: cents(output.opening_balance),
    closingCents: cents(output.closing_balance),
    printedTotals: [],
    transactions: output.transactions.map((t) => ({
      date: t.date,
      amountCents: cents(t.amount) ?? Number.NaN,
      description: t.description.replace(/\s+/g, " ").trim(),
      payee: null,
      bankId: null,
      balanceCents: null,
    })),
    warnings: [
      "read by a model (the layout is unknown to the parser); accepted because it reconciles",
    ],
  };
}
