import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { NightshiftError } from "../errors.js";
import { DEFAULT_ACCOUNT } from "./accounts.js";
import type { ReadLayout } from "./import/statement.js";
import { checkedStatements } from "./importer.js";
import { maskNumber, maskText } from "./mask.js";
import type { ReadDeps } from "./read-statements.js";
import { type Reconciliation, uncheckedReason } from "./reconcile.js";

export interface StatementPreview {
  kind: "bank" | "card";
  format: string;
  /** Masked as it would be stored. */
  accountMasked: string | null;
  account: string;
  currency: string | null;
  periodStart: string | null;
  periodEnd: string | null;
  openingCents: number | null;
  closingCents: number | null;
  transactionCount: number;
  firstRows: { date: string; amountCents: number; description: string }[];
  layout: ReadLayout | null;
  reconciliation: Reconciliation;
  uncheckedReason: string | null;
  flags: string[];
  warnings: string[];
}

export interface ImportPreview {
  file: string;
  status: "preview";
  extraction: "parser" | "model";
  /** A model's column mapping that would be remembered on a real import. */
  layoutProposedBy: string | null;
  statements: StatementPreview[];
}

const FIRST_ROWS = 5;

/**
 * What `finance import` would do with a file, without doing it: the statements, their layout,
 * their first rows and their checks. Nothing is written to the ledger or the knowledge base.
 */
export async function previewStatementFile(
  path: string,
  deps: ReadDeps,
  options: { account?: string | undefined } = {},
): Promise<ImportPreview> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    throw new NightshiftError(`cannot read ${path}: ${(error as Error).message}`, {
      code: "bad_file",
      cause: error,
    });
  }
  const read = await checkedStatements(bytes, path, deps);
  return {
    file: basename(path),
    status: "preview",
    extraction: read.extraction,
    layoutProposedBy: read.proposed ? read.proposed.actionId : null,
    statements: read.parts.map(({ parsed, reconciliation }) => {
      const masked = parsed.accountNumber ? maskNumber(parsed.accountNumber) : null;
      return {
        kind: parsed.kind,
        format: parsed.format,
        accountMasked: masked,
        account:
          options.account ??
          (masked ? `${parsed.kind === "card" ? "card" : "account"} ${masked}` : DEFAULT_ACCOUNT),
        currency: parsed.currency,
        periodStart: parsed.periodStart,
        periodEnd: parsed.periodEnd,
        openingCents: parsed.openingCents,
        closingCents: parsed.closingCents,
        transactionCount: parsed.transactions.length,
        firstRows: parsed.transactions.slice(0, FIRST_ROWS).map((t) => ({
          date: t.date,
          amountCents: t.amountCents,
          description: maskText(t.description),
        })),
        layout: parsed.layout ?? null,
        reconciliation,
        uncheckedReason: uncheckedReason(reconciliation.flags),
        flags: [...new Set([...reconciliation.flags, ...(parsed.flags ?? [])])],
        warnings: parsed.warnings,
      };
    }),
  };
}
